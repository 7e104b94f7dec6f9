#include "serve/kserve/service.h"

#include "serve/kserve/inference.h"

namespace crowdrt::serve::kserve {
namespace {

// Compares without stopping at the first difference, so that the time taken does not tell how much of a guess is right.
bool same_secret(std::string_view a, std::string_view b) {
  if (a.size() != b.size() || b.empty()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

// The repository's model a requested name stands for: itself, or <model> for <model>_counting (a folder of the full
// name wins). Whether it is the counting model is set in `counting`.
std::string base_model(const ModelRepository& repository, const std::string& name, bool& counting) {
  check_model_name(name);
  const std::string suffix = kCountingSuffix;
  counting = false;
  if (repository.exists(name) || name.size() <= suffix.size() ||
      name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0)
    return name;
  const std::string base = name.substr(0, name.size() - suffix.size());
  if (!repository.exists(base)) return name;
  counting = true;
  return base;
}

}  // namespace

Service::Service(ModelRepository& repository, SequenceLimits limits, std::string token)
    : repository_(repository), sequences_(limits), token_(std::move(token)) {}

bool Service::authorized(std::string_view authorization) const {
  if (token_.empty()) return true;
  constexpr std::string_view prefix = "Bearer ";
  return authorization.substr(0, prefix.size()) == prefix && same_secret(authorization.substr(prefix.size()), token_);
}

nlohmann::json Service::server_metadata() const {
  return {{"name", "crowdrt"},
          {"version", CROWDRT_VERSION},
          {"extensions", {"binary_tensor_data", "model_repository", "sequence", "parameters"}}};
}

Service::Target Service::target(const std::string& name, const std::string& version, std::string& label) const {
  Target t;
  t.model = repository_.find(base_model(repository_, name, t.counting));
  t.name = name;
  label = name;
  t.version = ModelRepository::version_of(*t.model, version);
  return t;
}

nlohmann::json Service::model_metadata(const std::string& name, const std::string& version, std::string& label) {
  const Target t = target(name, version, label);
  return kserve::model_metadata(*t.model, *t.version, t.counting);
}

bool Service::model_ready(const std::string& name, const std::string& version, std::string& label, std::string& why) {
  bool counting = false;
  const std::string base = base_model(repository_, name, counting);
  if (!repository_.exists(base)) repository_.find(base);  // 404: unknown
  label = name;
  std::shared_ptr<const Model> model;
  try {
    model = repository_.find(base);
  } catch (const ProtocolError& e) {
    why = e.what();  // known but not loaded: not ready
    return false;
  }
  const auto loaded = ModelRepository::version_of(*model, version);  // 404: no such version
  if (counting) {
    try {
      kserve::model_metadata(*model, *loaded, true);  // 400 unless a density network
    } catch (const ProtocolError& e) {
      why = e.what();
      return false;
    }
  }
  return true;
}

std::vector<IndexEntry> Service::index(bool ready_only) const {
  std::vector<IndexEntry> out;
  for (const IndexEntry& e : repository_.index()) {
    if (ready_only && e.state != "READY") continue;
    for (const std::string& name : {e.name, e.name + kCountingSuffix}) {
      IndexEntry row = e;
      row.name = name;
      out.push_back(std::move(row));
    }
  }
  return out;
}

void Service::load(const std::string& name, std::string& label) {
  bool counting = false;
  const std::string base = base_model(repository_, name, counting);
  if (repository_.exists(base)) label = base;
  repository_.load(base);
  sequences_.drop_model(base + kCountingSuffix);
}

void Service::unload(const std::string& name, std::string& label) {
  bool counting = false;
  const std::string base = base_model(repository_, name, counting);
  if (repository_.exists(base)) label = base;
  repository_.unload(base);
  sequences_.drop_model(base + kCountingSuffix);
}

InferResponse Service::infer(const Target& t, const InferRequest& request) {
  InferResponse response = t.counting ? infer_counting(*t.model, *t.version, request, sequences_, metrics_)
                                      : infer_raw(*t.model, *t.version, request, metrics_);
  response.model_name = t.name;
  return response;
}

std::string Service::metrics_text() { return metrics_.text(sequences_.live()); }

}  // namespace crowdrt::serve::kserve
