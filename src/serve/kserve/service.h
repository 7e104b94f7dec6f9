// The v2 protocol's operations apart from their transport: what the HTTP/REST front (http_server) and the gRPC front
// (grpc_server) both call, on one repository, one table of the counting models' sequences and one set of metrics, so
// that a model, a sequence or a counter is the same whichever protocol reaches it. Errors are ProtocolError with the
// HTTP status; the gRPC front maps each to its status code.
#pragma once
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "serve/kserve/metrics.h"
#include "serve/kserve/model_repository.h"
#include "serve/kserve/protocol.h"
#include "serve/kserve/sequences.h"

namespace crowdrt::serve::kserve {

class Service {
 public:
  // token: non-empty, every call but the server's live and ready probes needs "Bearer <token>".
  Service(ModelRepository& repository, SequenceLimits limits, std::string token);

  // An "Authorization" header's value (HTTP) or "authorization" metadata (gRPC): whether it carries the token.
  bool authorized(std::string_view authorization) const;
  bool needs_token() const { return !token_.empty(); }

  bool server_ready() const { return repository_.all_ready(); }
  nlohmann::json server_metadata() const;  // {"name", "version", "extensions"}
  // The protocol's model metadata (inference.h); ProtocolError 404 for an unknown model or version.
  nlohmann::json model_metadata(const std::string& name, const std::string& version, std::string& label);
  // Whether the model (raw or <model>_counting) can infer: ProtocolError 404 for a model the repository does not
  // have or a version it has not loaded; false with the reason in `why` when it is known but not loaded or not a
  // density network.
  bool model_ready(const std::string& name, const std::string& version, std::string& label, std::string& why);
  // The index with each model under its two names (<model> and <model>_counting).
  std::vector<IndexEntry> index(bool ready_only) const;
  // Loading or unloading <model>_counting acts on <model>; either forgets the model's live sequences.
  void load(const std::string& name, std::string& label);
  void unload(const std::string& name, std::string& label);
  // The model (raw, or <model>_counting) and version a request names: ProtocolError 404 when unknown or not loaded.
  // label: the model name for the metrics, set once it is one of the repository's (so that the labels stay bounded).
  // Looked up before the request's body is read, so that an unknown model is a 404 whatever the body.
  struct Target {
    std::shared_ptr<const Model> model;
    std::shared_ptr<const ModelVersion> version;
    bool counting = false;
    std::string name;  // as requested
  };
  Target target(const std::string& name, const std::string& version, std::string& label) const;
  // Runs the request on the target's raw or counting model.
  InferResponse infer(const Target& target, const InferRequest& request);
  std::string metrics_text();
  Metrics& metrics() { return metrics_; }

 private:
  ModelRepository& repository_;
  SequenceTable sequences_;
  Metrics metrics_;
  std::string token_;
};

}  // namespace crowdrt::serve::kserve
