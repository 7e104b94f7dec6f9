// A model repository laid out as Triton's: <root>/<model>/<version>/model.plan, with an optional
// <root>/<model>/config.json:
//   {"instance_count": 2, "flow": "medium", "flow_device": "cuda", "zones": [{"name": "gate", "polygon": [...]}],
//    "dynamic_batching": {"max_queue_delay_microseconds": 2000}}
// instance_count: engines of each version serving requests at once (default 1); flow: the DIS preset of the counting
// model's frames (default medium, as crowdrt eval); flow_device: where the counting model prepares frames, cpu
// (default, OpenCV) or cuda (a batch-1 CUDA plan's frames resized, given flow and packed on the GPU, each sequence
// with its own CUDA stream and flow state; not the default until its counts under concurrent sequences are shown
// equal to crowdrt eval's on the GPU: README, Serving); zones: counted on every frame of the counting model (the zones
// file's format, serve/zones.h); dynamic_batching (Triton's field): how long a request to a plan built with a batch
// B > 1 waits for others to fill its batch (default: serve's --max-queue-delay). Every numeric version folder is
// loaded; a request without a version gets the highest.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/runtime.h"
#include "serve/kserve/batcher.h"
#include "serve/kserve/engine_pool.h"
#include "serve/zones.h"
#include "vision/flow_preset.h"

namespace crowdrt::serve::kserve {

inline constexpr int64_t kMaxQueueDelayMicroseconds = 10'000'000;

struct ModelConfig {
  int instance_count = 1;
  vision::FlowPreset flow = vision::FlowPreset::medium;
  std::string flow_device;  // "", "cpu" or "cuda"
  std::vector<Zone> zones;
  int64_t max_queue_delay_us = -1;  // dynamic_batching.max_queue_delay_microseconds; -1: not given
};
// Error naming the file and the field on anything but the keys above with values of their kind.
ModelConfig parse_model_config(const std::string& json_text, const std::string& file);

struct ModelVersion {
  int64_t version = 0;
  std::string plan_path;
  std::unique_ptr<EnginePool> engines;
  std::vector<TensorInfo> inputs, outputs;
  bool device_frames = false;  // the counting model prepares frames on the GPU (eval::DeviceStreamInput)
  // A plan whose inputs and outputs share a leading batch dimension B > 1: requests of one item each are batched
  // (batcher.h); null for batch-1 plans, which run each request on its own as before.
  int64_t batch = 1;
  std::unique_ptr<Batcher> batcher;
};

struct Model {
  std::string name;
  ModelConfig config;
  std::map<int64_t, std::shared_ptr<ModelVersion>> versions;
};

struct IndexEntry {
  std::string name, version, state, reason;
};

struct RepositoryOptions {
  RuntimeOptions runtime;
  int instances = 0;  // > 0: overrides every model's instance_count
  int64_t max_queue_delay_us = 0;  // batched plans' delay where the model's config gives none
};

// ProtocolError 400 for a model name that could leave the repository folder or is empty ('/', '\', '..').
void check_model_name(const std::string& name);

class ModelRepository {
 public:
  // Error when root is not a folder.
  ModelRepository(std::string root, RepositoryOptions options);

  // Loads every model folder; failures are kept as the model's reason (index) and logged. Returns how many loaded.
  int load_all();
  // (Re)loads one model: ProtocolError 404 when the repository has no such folder, 400 with the reason when its
  // plans or config fail to load (the model is then unavailable).
  void load(const std::string& name);
  // ProtocolError 404 when the repository has no such folder.
  void unload(const std::string& name);
  // The loaded model: ProtocolError 404 when unknown or not loaded, saying which.
  std::shared_ptr<const Model> find(const std::string& name) const;
  // The requested version ("" for the highest): ProtocolError 404 when that version is not loaded.
  static std::shared_ptr<const ModelVersion> version_of(const Model& model, const std::string& version);
  bool exists(const std::string& name) const;  // a model folder (loaded or not)
  std::vector<IndexEntry> index() const;
  // Every model folder loaded (none failed or was never loaded at start).
  bool all_ready() const;

 private:
  std::string folder_of(const std::string& name) const;
  std::vector<std::string> folders() const;
  std::string root_;
  RepositoryOptions options_;
  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<const Model>> loaded_;
  std::map<std::string, std::string> unavailable_;  // model -> why (failed load, unloaded)
};

}  // namespace crowdrt::serve::kserve
