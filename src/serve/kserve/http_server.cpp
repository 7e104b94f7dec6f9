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

}  // namespace

HttpServer::HttpServer(Service& service, HttpOptions options)
    : service_(service), options_(std::move(options)), server_(std::make_unique<httplib::Server>()) {
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
    throw Error(
        cat("cannot listen on ", options_.host, ":", options_.port,
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
    return endpoint.rfind("health_", 0) == 0 || service_.authorized(req.get_header_value("Authorization"));
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
          throw ProtocolError(
              401, "this server needs the header 'Authorization: Bearer <token>' (the token given to crowdrt serve)");
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
      service_.metrics().request(model_label, endpoint, "http", res.status >= 400,
                                 std::chrono::duration<double>(Clock::now() - start).count());
    };
  };
  // A body that is empty or a JSON object (the repository calls'), else 400.
  auto object_body = [](const Request& req, const char* what) {
    if (req.body.empty()) return nlohmann::json::object();
    nlohmann::json j = nlohmann::json::parse(req.body, nullptr, false);
    if (j.is_discarded() || !j.is_object())
      throw ProtocolError(400, cat("the ", what, " request body is a JSON object or empty"));
    return j;
  };

  server_->Get("/v2/health/live", route("health_live", [](const Request&, Response& res, std::string&) {
                 answer_json(res, nlohmann::json::object());
               }));
  server_->Get("/v2/health/ready", route("health_ready", [this](const Request&, Response& res, std::string&) {
                 if (!service_.server_ready())
                   throw ProtocolError(400, "not ready: a model failed to load; see /v2/repository/index");
                 answer_json(res, nlohmann::json::object());
               }));
  server_->Get("/v2", route("server_metadata", [this](const Request&, Response& res, std::string&) {
                 answer_json(res, service_.server_metadata());
               }));
  server_->Get(kModelPath, route("model_metadata", [this](const Request& req, Response& res, std::string& label) {
                 answer_json(res, service_.model_metadata(req.matches[1].str(), req.matches[2].str(), label));
               }));
  server_->Get(std::string(kModelPath) + "/ready",
               route("model_ready", [this](const Request& req, Response& res, std::string& label) {
                 std::string why;
                 if (!service_.model_ready(req.matches[1].str(), req.matches[2].str(), label, why))
                   throw ProtocolError(400, why);  // known but not ready: a 4xx in the protocol
                 answer_json(res, nlohmann::json::object());
               }));
  server_->Post(std::string(kModelPath) + "/infer",
                route("infer", [this](const Request& req, Response& res, std::string& label) {
                  const Service::Target target = service_.target(req.matches[1].str(), req.matches[2].str(), label);
                  std::optional<size_t> header_length;
                  if (req.has_header("Inference-Header-Content-Length")) {
                    const std::string v = req.get_header_value("Inference-Header-Content-Length");
                    if (v.empty() || v.size() > 15 || v.find_first_not_of("0123456789") != std::string::npos)
                      throw ProtocolError(400, cat("Inference-Header-Content-Length '", v, "' is not a byte count"));
                    header_length = std::stoull(v);
                  }
                  const InferRequest request = parse_infer_request(req.body, header_length);
                  InferResponse response = service_.infer(target, request);
                  EncodedResponse encoded = encode_infer_response(std::move(response), request);
                  if (encoded.header_length)
                    res.set_header("Inference-Header-Content-Length", std::to_string(*encoded.header_length));
                  res.status = 200;
                  res.set_content(std::move(encoded.body), encoded.content_type);
                }));
  server_->Post("/v2/repository/index",
                route("repository_index", [this, object_body](const Request& req, Response& res, std::string&) {
                  const bool ready_only = bool_parameter(object_body(req, "index"), "ready", false);
                  nlohmann::json out = nlohmann::json::array();
                  for (const IndexEntry& e : service_.index(ready_only)) {
                    nlohmann::json row = {{"name", e.name}, {"state", e.state}};
                    if (!e.version.empty()) row["version"] = e.version;
                    if (!e.reason.empty()) row["reason"] = e.reason;
                    out.push_back(row);
                  }
                  answer_json(res, out);
                }));
  auto repository_action = [this, object_body](bool load) {
    return [this, object_body, load](const Request& req, Response& res, std::string& label) {
      object_body(req, "load / unload");
      if (load)
        service_.load(req.matches[1].str(), label);
      else
        service_.unload(req.matches[1].str(), label);
      answer_json(res, nlohmann::json::object());
    };
  };
  server_->Post(R"(/v2/repository/models/([^/]+)/load)", route("repository_load", repository_action(true)));
  server_->Post(R"(/v2/repository/models/([^/]+)/unload)", route("repository_unload", repository_action(false)));
  server_->Get("/metrics", route("metrics", [this](const Request&, Response& res, std::string&) {
                 res.status = 200;
                 res.set_content(service_.metrics_text(), "text/plain; version=0.0.4");
               }));

  // What httplib answers itself (no such endpoint, a body over the limit, a malformed request) gets the protocol's
  // body.
  server_->set_error_handler(httplib::Server::HandlerWithResponse([this](const Request& req, Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;  // answered by an endpoint
    std::string message;
    if (res.status == 413)
      message =
          cat("the request is larger than this server takes (--max-request-bytes ", options_.max_request_bytes, ")");
    else if (res.status == 404)
      message = cat("no endpoint ", req.method, " ", req.path, "; see the README's serve section for the v2 endpoints");
    else
      message = cat("malformed request (HTTP status ", res.status, ")");
    answer_error(res, res.status, message);
    service_.metrics().request("", "rejected", "http", true, 0);
    return httplib::Server::HandlerResponse::Handled;
  }));
  server_->set_exception_handler([](const Request&, Response& res, std::exception_ptr) {
    answer_error(res, 500, "internal error while serving this request");
  });
}

}  // namespace crowdrt::serve::kserve
