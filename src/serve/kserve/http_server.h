// `crowdrt serve`'s HTTP/REST front: the Open Inference (KServe v2) protocol's health, metadata, inference and
// model repository endpoints, and /metrics, on cpp-httplib's bounded thread pool.
#pragma once
#include <cstddef>
#include <memory>
#include <string>

#include "serve/kserve/service.h"

namespace httplib {
class Server;
}

namespace crowdrt::serve::kserve {

struct HttpOptions {
  std::string host = "127.0.0.1";
  int port = 8000;              // 0: any free port (port() says which)
  size_t max_request_bytes = 64u << 20;
  int threads = 32;             // connections served at once
  int client_timeout_seconds = 10;  // a client that sends or reads nothing for this long is dropped
};

class HttpServer {
 public:
  // The service's token, when it has one, is needed by every endpoint but /v2/health/*
  // ("Authorization: Bearer <token>").
  HttpServer(Service& service, HttpOptions options);
  ~HttpServer();
  // Binds host:port; Error naming them when the address is taken or not local. Returns the port bound.
  int bind();
  // Serves until stop() (from another thread).
  void listen();
  void stop();

 private:
  void add_routes();
  Service& service_;
  HttpOptions options_;
  std::unique_ptr<httplib::Server> server_;
};

}  // namespace crowdrt::serve::kserve
