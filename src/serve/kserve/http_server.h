// `crowdrt serve`'s HTTP/REST front: the Open Inference (KServe v2) protocol's health, metadata, inference and
// model repository endpoints, and /metrics, on cpp-httplib's bounded thread pool.
#pragma once
#include <cstddef>
#include <memory>
#include <string>

#include "serve/kserve/metrics.h"
#include "serve/kserve/model_repository.h"
#include "serve/kserve/sequences.h"

namespace httplib {
class Server;
}

namespace crowdrt::serve::kserve {

struct HttpOptions {
  std::string host = "127.0.0.1";
  int port = 8000;              // 0: any free port (port() says which)
  std::string token;            // non-empty: every endpoint but /v2/health/* needs "Authorization: Bearer <token>"
  size_t max_request_bytes = 64u << 20;
  int threads = 32;             // connections served at once
  int client_timeout_seconds = 10;  // a client that sends or reads nothing for this long is dropped
};

class HttpServer {
 public:
  HttpServer(ModelRepository& repository, SequenceLimits limits, HttpOptions options);
  ~HttpServer();
  // Binds host:port; Error naming them when the address is taken or not local. Returns the port bound.
  int bind();
  // Serves until stop() (from another thread).
  void listen();
  void stop();

 private:
  void add_routes();
  ModelRepository& repository_;
  SequenceTable sequences_;
  Metrics metrics_;
  HttpOptions options_;
  std::unique_ptr<httplib::Server> server_;
};

}  // namespace crowdrt::serve::kserve
