// `crowdrt serve`'s gRPC front: the Open Inference (KServe v2) protocol's GRPCInferenceService
// (grpc_predict_v2.proto) on grpc++'s synchronous server, calling the same Service as the HTTP front. Errors carry
// gRPC status codes: NOT_FOUND (unknown model or version), INVALID_ARGUMENT (bad input), RESOURCE_EXHAUSTED (too
// large, too many sequences), UNAUTHENTICATED (no or wrong "authorization: Bearer <token>" metadata), INTERNAL
// (anything else).
#pragma once
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>

#include "serve/kserve/service.h"

namespace grpc {
class Server;
}

namespace crowdrt::serve::kserve {

struct GrpcOptions {
  std::string host = "127.0.0.1";
  int port = 8001;                       // 0: any free port (start() says which)
  size_t max_request_bytes = 64u << 20;  // larger messages get RESOURCE_EXHAUSTED
  int threads = 32;                      // calls served at once
};

// The gRPC status code the protocol gives for an HTTP status (404 NOT_FOUND, 400 INVALID_ARGUMENT, ...).
int grpc_status_of_http(int http_status);

class GrpcServer {
 public:
  GrpcServer(Service& service, GrpcOptions options);
  ~GrpcServer();  // stops
  // Binds host:port and starts serving on grpc's own threads; Error naming them when the address is taken or not
  // local. Returns the port bound.
  int start();
  // Ends the calls in flight (cancelled after a few seconds) and stops; safe to call twice.
  void stop();

 private:
  class Handlers;
  Service& service_;
  GrpcOptions options_;
  std::unique_ptr<Handlers> handlers_;
  std::mutex stop_mutex_;
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace crowdrt::serve::kserve
