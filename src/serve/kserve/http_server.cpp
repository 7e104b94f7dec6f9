#include "serve/kserve/http_server.h"

#include <httplib.h>

#include <chrono>
#include <exception>
#include <new>

#include "core/log.h"
#include "serve/kserve/inference.h"
#include "serve/kserve/protocol.h"

namespace crowdrt::serve::kserve {
namespace {

using Clock = std::chrono::steady_clock;
constexpr const char* kModelPath = R"(/v2/models/([^/]+)(?:/versions/([^/]+))?)";

void answer_error(httplib::Response& res, int status, const std::string& message) {
  res.status = status;
  res.set_content(nlohmann::json{{"error", message}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                  "application/json");
}

void answer_json(httplib::Response& res, const nlohmann::json& j) {
  res.status = 200;
  res.set_content(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), "application/json");
}

// Compares without stopping at the first difference, so that the time taken does not tell how much of a guess is right.
bool same_secret(const std::string& a, const std::string& b) {
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

// A model name as requested: the raw model, or <model>_counting for its counting model.
struct Target {
  std::shared_ptr<const Model> model;
  std::shared_ptr<const ModelVersion> version;
  bool counting = false;
  std::string name;  // as requested
};

}  // namespace

HttpServer::HttpServer(ModelRepository& repository, SequenceLimits limits, HttpOptions options)
    : repository_(repository), sequences_(limits), options_(std::move(options)), server_(std::make_unique<httplib::Server>()) {
  const int threads = std::max(1, options_.threads);
  server_->new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  server_->set_payload_max_length(options_.max_request_bytes);
  server_->set_read_timeout(options_.client_timeout_seconds, 0);
  server_->set_write_timeout(options_.client_timeout_seconds, 0);
  server_->set_keep_alive_timeout(5);
  server_->set_tcp_nodelay(true);
  add_routes();
}

HttpServer::~HttpServer() = default;

int HttpServer::bind() {
  const int port = options_.port == 0 ? server_->bind_to_any_port(options_.host)
                                      : (server_->bind_to_port(options_.host, options_.port) ? options_.port : -1);
  if (port < 0)
    throw Error(cat("cannot listen on ", options_.host, ":", options_.port,
                    " (taken by another program, or not an address of this machine); choose another --http-port or --host"));
  return port;
}

void HttpServer::listen() { server_->listen_after_bind(); }

void HttpServer::stop() { server_->stop(); }

void HttpServer::add_routes() {
  using httplib::Request;
  using httplib::Response;
  // Health probes need no token (Kubernetes probes carry none); everything else does when one is set. Checked once
  // the body is read, so that the connection stays in step for the client's next request.
  auto authorized = [this](const Request& req, const std::string& endpoint) {
    if (options_.token.empty() || endpoint.rfind("health_", 0) == 0) return true;
    const std::string auth = req.get_header_value("Authorization");
    const std::string prefix = "Bearer ";
    return auth.rfind(prefix, 0) == 0 && same_secret(auth.substr(prefix.size()), options_.token);
  };
  // Each endpoint: counted and timed per model (only models of the repository, so that the labels stay bounded), its
  // errors answered as the protocol's {"error": ...}.
  auto route = [this, authorized](const std::string& endpoint, auto body) {
    return [this, authorized, endpoint, body](const Request& req, Response& res) {
      const auto start = Clock::now();
      std::string model_label;
      try {
        if (!authorized(req, endpoint)) {
          res.set_header("WWW-Authenticate", "Bearer");
          throw ProtocolError(401, "this server needs the header 'Authorization: Bearer <token>' (the token given to crowdrt serve)");
        }
        body(req, res, model_label);
      } catch (const ProtocolError& e) {
        answer_error(res, e.status(), e.what());
      } catch (const std::bad_alloc&) {
        answer_error(res, 500, "out of memory while serving this request; send smaller requests");
      } catch (const std::exception& e) {
        log_warn(cat("serve: ", req.method, " ", req.path, ": ", e.what()));
        answer_error(res, 500, e.what());
      }
      metrics_.request(model_label, endpoint, res.status >= 400,
                       std::chrono::duration<double>(Clock::now() - start).count());
    };
  };
  // The model (and version) a /v2/models/... path names.
  auto target_of = [this](const Request& req, std::string& model_label) {
    Target t;
    t.name = req.matches[1].str();
    const std::string base = base_model(repository_, t.name, t.counting);
    t.model = repository_.find(base);
    model_label = t.name;
    t.version = ModelRepository::version_of(*t.model, req.matches[2].str());
    return t;
  };

  server_->Get("/v2/health/live", route("health_live", [](const Request&, Response& res, std::string&) {
                 answer_json(res, nlohmann::json::object());
               }));
  server_->Get("/v2/health/ready", route("health_ready", [this](const Request&, Response& res, std::string&) {
                 if (!repository_.all_ready()) throw ProtocolError(400, "not ready: a model failed to load; see /v2/repository/index");
                 answer_json(res, nlohmann::json::object());
               }));
  server_->Get("/v2", route("server_metadata", [](const Request&, Response& res, std::string&) {
                 answer_json(res, {{"name", "crowdrt"},
                                   {"version", CROWDRT_VERSION},
                                   {"extensions", {"binary_tensor_data", "model_repository", "sequence", "parameters"}}});
               }));
  server_->Get(kModelPath, route("model_metadata", [target_of](const Request& req, Response& res, std::string& label) {
                 const Target t = target_of(req, label);
                 answer_json(res, model_metadata(*t.model, *t.version, t.counting));
               }));
  server_->Get(std::string(kModelPath) + "/ready",
               route("model_ready", [this](const Request& req, Response& res, std::string& label) {
                 bool counting = false;
                 const std::string base = base_model(repository_, req.matches[1].str(), counting);
                 if (!repository_.exists(base)) repository_.find(base);  // 404: unknown
                 label = req.matches[1].str();
                 std::shared_ptr<const Model> model;
                 try {
                   model = repository_.find(base);
                 } catch (const ProtocolError& e) {
                   throw ProtocolError(400, e.what());  // known but not loaded: not ready, a 4xx in the protocol
                 }
                 const auto version = ModelRepository::version_of(*model, req.matches[2].str());  // 404: no such version
                 if (counting) model_metadata(*model, *version, true);  // 400 unless a density network
                 answer_json(res, nlohmann::json::object());
               }));
  server_->Post(std::string(kModelPath) + "/infer",
                route("infer", [this, target_of](const Request& req, Response& res, std::string& label) {
                  const Target t = target_of(req, label);
                  std::optional<size_t> header_length;
                  if (req.has_header("Inference-Header-Content-Length")) {
                    const std::string v = req.get_header_value("Inference-Header-Content-Length");
                    if (v.empty() || v.size() > 15 || v.find_first_not_of("0123456789") != std::string::npos)
                      throw ProtocolError(400, cat("Inference-Header-Content-Length '", v, "' is not a byte count"));
                    header_length = std::stoull(v);
                  }
                  const InferRequest request = parse_infer_request(req.body, header_length);
                  InferResponse response = t.counting ? infer_counting(*t.model, *t.version, request, sequences_, metrics_)
                                                      : infer_raw(*t.model, *t.version, request, metrics_);
                  response.model_name = t.name;
                  EncodedResponse encoded = encode_infer_response(std::move(response), request);
                  if (encoded.header_length)
                    res.set_header("Inference-Header-Content-Length", std::to_string(*encoded.header_length));
                  res.status = 200;
                  res.set_content(std::move(encoded.body), encoded.content_type);
                }));
  server_->Post("/v2/repository/index", route("repository_index", [this](const Request& req, Response& res, std::string&) {
                  bool ready_only = false;
                  if (!req.body.empty()) {
                    const nlohmann::json j = nlohmann::json::parse(req.body, nullptr, false);
                    if (j.is_discarded() || !j.is_object()) throw ProtocolError(400, "the index request body is a JSON object, e.g. {\"ready\": true}");
                    ready_only = bool_parameter(j, "ready", false);
                  }
                  nlohmann::json out = nlohmann::json::array();
                  for (const IndexEntry& e : repository_.index()) {
                    if (ready_only && e.state != "READY") continue;
                    for (const std::string& name : {e.name, e.name + kCountingSuffix}) {
                      nlohmann::json row = {{"name", name}, {"state", e.state}};
                      if (!e.version.empty()) row["version"] = e.version;
                      if (!e.reason.empty()) row["reason"] = e.reason;
                      out.push_back(row);
                    }
                  }
                  answer_json(res, out);
                }));
  // Loading or unloading <model>_counting acts on <model>; either forgets the model's live sequences.
  auto repository_action = [this](bool load) {
    return [this, load](const Request& req, Response& res, std::string& label) {
      bool counting = false;
      const std::string name = base_model(repository_, req.matches[1].str(), counting);
      if (!req.body.empty()) {
        const nlohmann::json j = nlohmann::json::parse(req.body, nullptr, false);
        if (j.is_discarded() || !j.is_object()) throw ProtocolError(400, "the load / unload request body is a JSON object or empty");
      }
      if (repository_.exists(name)) label = name;
      if (load)
        repository_.load(name);
      else
        repository_.unload(name);
      sequences_.drop_model(name + kCountingSuffix);
      answer_json(res, nlohmann::json::object());
    };
  };
  server_->Post(R"(/v2/repository/models/([^/]+)/load)", route("repository_load", repository_action(true)));
  server_->Post(R"(/v2/repository/models/([^/]+)/unload)", route("repository_unload", repository_action(false)));
  server_->Get("/metrics", route("metrics", [this](const Request&, Response& res, std::string&) {
                 res.status = 200;
                 res.set_content(metrics_.text(sequences_.live()), "text/plain; version=0.0.4");
               }));

  // What httplib answers itself (no such endpoint, a body over the limit, a malformed request) gets the protocol's body.
  server_->set_error_handler(httplib::Server::HandlerWithResponse([this](const Request& req, Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;  // answered by an endpoint
    std::string message;
    if (res.status == 413)
      message = cat("the request is larger than this server takes (--max-request-bytes ", options_.max_request_bytes, ")");
    else if (res.status == 404)
      message = cat("no endpoint ", req.method, " ", req.path, "; see the README's serve section for the v2 endpoints");
    else
      message = cat("malformed request (HTTP status ", res.status, ")");
    answer_error(res, res.status, message);
    metrics_.request("", "rejected", true, 0);
    return httplib::Server::HandlerResponse::Handled;
  }));
  server_->set_exception_handler([](const Request&, Response& res, std::exception_ptr) {
    answer_error(res, 500, "internal error while serving this request");
  });
}

}  // namespace crowdrt::serve::kserve
