#include "serve/kserve/model_repository.h"

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/file.h"
#include "core/log.h"
#include "eval/device_frames.h"
#include "serve/kserve/protocol.h"
#include "vision/dis_flow.h"

namespace crowdrt::serve::kserve {
namespace fs = std::filesystem;
namespace {

constexpr const char* kUnloaded = "unloaded";

bool is_version_folder(const std::string& name) {
  return !name.empty() && name.size() < 19 &&
         std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string read_text(const std::string& path) {
  const std::vector<std::byte> bytes = read_file(path);
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

// dynamic_batching: {"max_queue_delay_microseconds": N}, N from 0 to 10 s (Triton's field; its others do not apply).
int64_t queue_delay_of(const nlohmann::json& value, const std::string& file) {
  const std::string usage = cat(file, ": dynamic_batching is {\"max_queue_delay_microseconds\": N} with N from 0 to ",
                                kMaxQueueDelayMicroseconds);
  if (!value.is_object()) throw Error(usage);
  int64_t delay = -1;
  for (const auto& [key, v] : value.items()) {
    if (key != "max_queue_delay_microseconds" || !v.is_number_integer() || v.get<int64_t>() < 0 ||
        v.get<int64_t>() > kMaxQueueDelayMicroseconds)
      throw Error(usage);
    delay = v.get<int64_t>();
  }
  return delay;
}

// The batch B > 1 every input and output of the plan leads with, else 1.
int64_t plan_batch(const ModelVersion& version) {
  int64_t batch = 0;
  for (const auto* tensors : {&version.inputs, &version.outputs})
    for (const TensorInfo& t : *tensors) {
      if (t.shape.empty() || (batch != 0 && t.shape[0] != batch)) return 1;
      batch = t.shape[0];
    }
  return std::max<int64_t>(batch, 1);
}

// A batch runs on one engine of the pool, borrowed for it.
class LeasedEngine final : public BatchExecutor {
 public:
  explicit LeasedEngine(EnginePool::Lease lease) : lease_(std::move(lease)) {}
  void run(int, const std::vector<const float*>& inputs, const std::vector<float*>& outputs) override {
    lease_.engine().infer(inputs, outputs);
  }

 private:
  EnginePool::Lease lease_;
};

std::unique_ptr<Batcher> batcher_for(ModelVersion& version, int64_t max_queue_delay_us) {
  BatcherOptions options;
  options.max_batch = static_cast<int>(version.batch);
  options.max_queue_delay = std::chrono::microseconds(max_queue_delay_us);
  for (const TensorInfo& t : version.inputs)
    options.item_input_elements.push_back(shape_numel(t.shape) / version.batch);
  for (const TensorInfo& t : version.outputs)
    options.item_output_elements.push_back(shape_numel(t.shape) / version.batch);
  EnginePool* pool = version.engines.get();
  return std::make_unique<Batcher>(options, [pool] { return std::make_unique<LeasedEngine>(pool->acquire()); });
}

}  // namespace

void check_model_name(const std::string& name) {
  if (name.empty() || name.size() > 255 || name.find('/') != std::string::npos ||
      name.find('\\') != std::string::npos || name.find("..") != std::string::npos ||
      std::any_of(name.begin(), name.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; }))
    throw ProtocolError(400, "model names are 1 to 255 characters without '/', '\\', '..' or control characters");
}

ModelConfig parse_model_config(const std::string& json_text, const std::string& file) {
  const nlohmann::json j = nlohmann::json::parse(json_text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) throw Error(cat(file, ": not a JSON object; see the README's serve section"));
  ModelConfig config;
  for (const auto& [key, value] : j.items()) {
    if (key == "instance_count") {
      if (!value.is_number_integer() || value.get<int64_t>() < 1 || value.get<int64_t>() > 64)
        throw Error(cat(file, ": instance_count must be an integer from 1 to 64"));
      config.instance_count = value.get<int>();
    } else if (key == "flow") {
      if (!value.is_string()) throw Error(cat(file, ": flow must be ultrafast, fast or medium"));
      config.flow = vision::parse_flow_preset(value.get<std::string>());
    } else if (key == "flow_device") {
      if (!value.is_string() || (value != "cpu" && value != "cuda"))
        throw Error(cat(file, ": flow_device must be cpu or cuda (default: the plan's device)"));
      config.flow_device = value.get<std::string>();
    } else if (key == "zones") {
      config.zones = parse_zones(nlohmann::json{{"zones", value}}.dump(), file);
    } else if (key == "dynamic_batching") {
      config.max_queue_delay_us = queue_delay_of(value, file);
    } else {
      throw Error(cat(file, ": unknown key '", key,
                      "'; the keys are instance_count, flow, flow_device, zones and dynamic_batching"));
    }
  }
  return config;
}

ModelRepository::ModelRepository(std::string root, RepositoryOptions options)
    : root_(std::move(root)), options_(options) {
  if (!fs::is_directory(root_))
    throw Error(cat(root_, ": not a folder; --model-repository takes a folder of <model>/<version>/model.plan"));
}

std::string ModelRepository::folder_of(const std::string& name) const { return (fs::path(root_) / name).string(); }

std::vector<std::string> ModelRepository::folders() const {
  std::vector<std::string> names;
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(root_, ec)) {
    const std::string name = e.path().filename().string();
    if (!e.is_directory() || name.empty() || name[0] == '.') continue;
    try {
      check_model_name(name);
      names.push_back(name);
    } catch (const ProtocolError&) {
      log_warn(cat(root_, ": skipping folder '", name, "', not a usable model name"));
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

bool ModelRepository::exists(const std::string& name) const {
  check_model_name(name);
  return fs::is_directory(folder_of(name));
}

int ModelRepository::load_all() {
  int loaded = 0;
  for (const std::string& name : folders()) {
    try {
      load(name);
      ++loaded;
    } catch (const ProtocolError& e) {
      log_warn(cat("model '", name, "' is unavailable: ", e.what()));
    }
  }
  return loaded;
}

void ModelRepository::load(const std::string& name) {
  if (!exists(name)) throw ProtocolError(404, cat("the model repository has no model '", name, "'"));
  auto model = std::make_shared<Model>();
  model->name = name;
  try {
    const std::string config_path = (fs::path(folder_of(name)) / "config.json").string();
    if (fs::exists(config_path)) model->config = parse_model_config(read_text(config_path), config_path);
    const int instances = options_.instances > 0 ? options_.instances : model->config.instance_count;
    for (const fs::directory_entry& e : fs::directory_iterator(folder_of(name))) {
      const std::string folder = e.path().filename().string();
      const fs::path plan = e.path() / "model.plan";
      if (!e.is_directory() || !is_version_folder(folder) || !fs::exists(plan)) continue;
      auto version = std::make_shared<ModelVersion>();
      version->version = std::stoll(folder);
      version->plan_path = plan.string();
      version->engines = std::make_unique<EnginePool>(version->plan_path, instances, options_.runtime);
      version->inputs = version->engines->first().inputs();
      version->outputs = version->engines->first().outputs();
      version->batch = plan_batch(*version);
      if (version->batch > 1 && model->config.flow_device == "cuda")
        throw Error(cat(version->plan_path,
                        ": flow_device cuda prepares one frame per engine call; this plan has batch ", version->batch,
                        " (use flow_device cpu, or a batch-1 plan)"));
      // The GPU frame path only when asked for (see model_repository.h).
      version->device_frames = version->batch == 1 && model->config.flow_device == "cuda" &&
                               eval::use_device_frames(version->engines->first(), "cuda");
      const int64_t delay_us =
          model->config.max_queue_delay_us >= 0 ? model->config.max_queue_delay_us : options_.max_queue_delay_us;
      if (version->batch > 1) version->batcher = batcher_for(*version, delay_us);
      model->versions[version->version] = std::move(version);
    }
    if (model->versions.empty())
      throw Error(cat(folder_of(name), ": no version folder with a plan (<model>/<version>/model.plan, e.g. ", name,
                      "/1/model.plan)"));
  } catch (const ProtocolError&) {
    throw;
  } catch (const std::exception& e) {
    std::lock_guard lock(mutex_);
    loaded_.erase(name);
    unavailable_[name] = e.what();
    throw ProtocolError(400, cat("model '", name, "' failed to load: ", e.what()));
  }
  std::lock_guard lock(mutex_);
  loaded_[name] = std::move(model);
  unavailable_.erase(name);
}

void ModelRepository::unload(const std::string& name) {
  if (!exists(name)) throw ProtocolError(404, cat("the model repository has no model '", name, "'"));
  std::lock_guard lock(mutex_);
  loaded_.erase(name);  // requests in flight keep their model until they finish
  unavailable_[name] = kUnloaded;
}

std::shared_ptr<const Model> ModelRepository::find(const std::string& name) const {
  check_model_name(name);
  std::lock_guard lock(mutex_);
  if (auto it = loaded_.find(name); it != loaded_.end()) return it->second;
  if (auto it = unavailable_.find(name); it != unavailable_.end())
    throw ProtocolError(404, cat("model '", name, "' is not loaded (", it->second,
                                 "); load it with POST /v2/repository/models/", name, "/load"));
  throw ProtocolError(404, cat("unknown model '", name, "'; POST /v2/repository/index lists the models"));
}

std::shared_ptr<const ModelVersion> ModelRepository::version_of(const Model& model, const std::string& version) {
  if (version.empty()) return model.versions.rbegin()->second;
  if (is_version_folder(version))
    if (auto it = model.versions.find(std::stoll(version)); it != model.versions.end()) return it->second;
  std::string have;
  for (const auto& [v, _] : model.versions) have += cat(have.empty() ? "" : ", ", v);
  throw ProtocolError(404, cat("model '", model.name, "' has no version '", version, "' (loaded: ", have, ")"));
}

std::vector<IndexEntry> ModelRepository::index() const {
  std::vector<IndexEntry> out;
  const std::vector<std::string> names = folders();
  std::lock_guard lock(mutex_);
  for (const std::string& name : names) {
    if (auto it = loaded_.find(name); it != loaded_.end()) {
      for (const auto& [v, _] : it->second->versions) out.push_back({name, std::to_string(v), "READY", ""});
    } else {
      auto why = unavailable_.find(name);
      out.push_back({name, "", "UNAVAILABLE", why != unavailable_.end() ? why->second : "not loaded"});
    }
  }
  return out;
}

bool ModelRepository::all_ready() const {
  std::lock_guard lock(mutex_);
  return std::none_of(unavailable_.begin(), unavailable_.end(), [](const auto& u) { return u.second != kUnloaded; });
}

}  // namespace crowdrt::serve::kserve
