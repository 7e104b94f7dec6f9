// crowdrt serve: a model repository over the Open Inference (KServe v2) protocol on HTTP/REST and gRPC, with the
// counting model's sequences kept server-side and Prometheus metrics (src/serve/kserve). Runs until SIGINT or SIGTERM.
#include <pthread.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <thread>

#include "cli/cli_common.h"
#include "core/log.h"
#include "serve/kserve/grpc_server.h"
#include "serve/kserve/http_server.h"

namespace crowdrt::cli {

void register_serve(CLI::App& app) {
  struct Args {
    std::string repository, host = "127.0.0.1", token;
    int port = 8000, grpc_port = 8001, threads = 0, instances = 0, http_threads = 32, client_timeout = 10;
    size_t max_sequences = 64, max_request_bytes = 64u << 20;
    double sequence_timeout = 60;
    int64_t max_queue_delay = 0;
    bool allow_grpc = true;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand(
      "serve",
      "Serve plans over the KServe v2 / Open Inference protocol (HTTP/REST and gRPC): health, metadata, infer, "
      "repository, /metrics; each plan as its raw network and as <model>_counting (frames in sequences)");
  cmd->add_option("--model-repository", a->repository,
                  "Folder of <model>/<version>/model.plan (+ optional <model>/config.json), laid out as Triton's")
      ->required();
  cmd->add_option("--http-port", a->port, "HTTP port (0: any free port; the one chosen is printed)")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  cmd->add_option(
         "--grpc-port", a->grpc_port,
         "gRPC port of the same protocol (inference.GRPCInferenceService; 0: any free port; the one chosen is printed)")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  cmd->add_option("--allow-grpc", a->allow_grpc, "Serve gRPC too (false: HTTP/REST only), as Triton's flag")
      ->default_str("true");
  cmd->add_option("--host", a->host,
                  "Address both protocols listen on; 0.0.0.0 serves other machines too (set --token then)")
      ->capture_default_str();
  cmd->add_option(
      "--token", a->token,
      "Bearer token every endpoint but /v2/health/* (gRPC: ServerLive, ServerReady) requires, in the header "
      "'Authorization: Bearer <token>' (gRPC: metadata 'authorization') (default: $CROWDRT_SERVE_TOKEN; none: open)");
  cmd->add_option(
         "--max-sequences", a->max_sequences,
         "Counting sequences live at once; a further sequence_start is refused with 429 until one ends or expires")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{1000000}));
  cmd->add_option("--sequence-timeout", a->sequence_timeout, "Seconds after which an idle sequence is forgotten")
      ->capture_default_str()
      ->check(CLI::Range(0.01, 1e6));
  cmd->add_option("--max-request-bytes", a->max_request_bytes,
                  "Largest request body (gRPC: message) taken; larger ones get 413 (gRPC: RESOURCE_EXHAUSTED)")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1024}, size_t{1} << 34));
  cmd->add_option("--http-threads", a->http_threads,
                  "HTTP connections served at once (each thread serves one keep-alive connection at a time); "
                  "also the gRPC calls run at once")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  cmd->add_option("--client-timeout", a->client_timeout,
                  "Seconds a client may stall while sending or reading before it is dropped")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600));
  cmd->add_option(
         "--instances", a->instances,
         "Engines per model version running requests at once (0: each model's config.json instance_count, else 1)")
      ->check(CLI::Range(0, 64));
  cmd->add_option("--threads", a->threads, "Threads of each engine (0: all cores)")->check(at_least(0));
  cmd->add_option(
         "--max-queue-delay", a->max_queue_delay,
         "Microseconds a request to a plan built with a batch B > 1 waits for others to fill its batch (a "
         "model's config.json dynamic_batching.max_queue_delay_microseconds overrides it); batch-1 plans never wait")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, serve::kserve::kMaxQueueDelayMicroseconds));
  cmd->callback([a] {
    std::string token = a->token;
    if (token.empty())
      if (const char* env = std::getenv("CROWDRT_SERVE_TOKEN")) token = env;
    if (a->host != "127.0.0.1" && a->host != "localhost" && a->host != "::1" && token.empty())
      log_warn(
          cat("serve: listening on ", a->host, " without --token: anyone who reaches this address may use the server"));
    // SIGINT / SIGTERM are taken by one thread (below) that stops the server; every other thread, the engines'
    // and httplib's made from here on, inherits them blocked.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
    std::signal(SIGPIPE, SIG_IGN);

    serve::kserve::RepositoryOptions repository_options;
    repository_options.runtime.threads = a->threads;
    repository_options.instances = a->instances;
    repository_options.max_queue_delay_us = a->max_queue_delay;
    serve::kserve::ModelRepository repository(a->repository, repository_options);
    const int loaded = repository.load_all();
    serve::kserve::Service service(repository, {a->max_sequences, a->sequence_timeout}, token);
    serve::kserve::HttpOptions http;
    http.host = a->host;
    http.port = a->port;
    http.max_request_bytes = a->max_request_bytes;
    http.threads = a->http_threads;
    http.client_timeout_seconds = a->client_timeout;
    serve::kserve::HttpServer server(service, http);
    const int port = server.bind();
    std::unique_ptr<serve::kserve::GrpcServer> grpc;
    std::string grpc_address = "gRPC off";
    if (a->allow_grpc) {
      serve::kserve::GrpcOptions options;
      options.host = a->host;
      options.port = a->grpc_port;
      options.max_request_bytes = a->max_request_bytes;
      options.threads = a->http_threads;
      grpc = std::make_unique<serve::kserve::GrpcServer>(service, options);
      grpc_address = cat("grpc ", a->host, ":", grpc->start());
    }
    std::printf("crowdrt serve: %d model%s from %s on http://%s:%d and %s (KServe v2 protocol; Ctrl-C stops)\n", loaded,
                loaded == 1 ? "" : "s", a->repository.c_str(), a->host.c_str(), port, grpc_address.c_str());
    std::fflush(stdout);
    std::thread stopper([&server, &grpc, stop_signals] {
      int signal = 0;
      sigwait(&stop_signals, &signal);
      if (grpc) grpc->stop();
      server.stop();
    });
    server.listen();
    if (grpc) grpc->stop();
    pthread_kill(stopper.native_handle(), SIGTERM);  // wakes the stopper when listen ended by itself
    stopper.join();
    log_info("serve: stopped");
  });
}

}  // namespace crowdrt::cli
