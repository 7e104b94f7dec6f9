// The HTTP and gRPC fronts of `crowdrt serve` in this process, on loopback ephemeral ports, with a tiny plan made
// here: clients in several threads at once (good requests, malformed and oversize ones, a wrong token, clients that
// hang up in the middle of a body), then both servers stopped. `make test` runs this program under AddressSanitizer,
// so the servers' request paths run under it too. Every client has a timeout: the test ends by itself.
#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <random>
#include <thread>

#include "../../ir/pass_test_helpers.h"
#include "engine/plan.h"
#include "serve/kserve/grpc_predict_v2.grpc.pb.h"
#include "serve/kserve/grpc_server.h"
#include "serve/kserve/http_server.h"

using namespace crowdrt;
using namespace crowdrt::serve::kserve;

namespace {

constexpr int kSide = 32;  // the tiny network's input: 1x5x32x32 -> 1x1x32x32 (a 3x3 convolution)
constexpr size_t kMaxRequestBytes = 256 << 10;
const std::string kToken = "unit-token";

// A repository folder holding tiny/1/model.plan, removed at the end.
struct TinyRepository {
  std::filesystem::path root;
  Plan plan;
  TinyRepository() {
    root = std::filesystem::temp_directory_path() / cat("crowdrt_kserve_servers_", getpid());
    std::filesystem::remove_all(root);
    std::filesystem::create_directories(root / "tiny" / "1");
    ir::Graph& g = plan.graph;
    const ir::ValueId x = test::add_input(g, "input", {1, 5, kSide, kSide});
    g.outputs().push_back(test::add_conv(g, x, 1, 3, true, "density"));
    plan.header = {{"backend", "ref"}, {"device", "ref"}, {"build", {{"precision", "fp32"}}}};
    write_plan((root / "tiny" / "1" / "model.plan").string(), plan);
  }
  ~TinyRepository() { std::filesystem::remove_all(root); }
};

std::vector<uint8_t> random_frame(int height, int width, uint32_t seed) {
  std::vector<uint8_t> bytes(static_cast<size_t>(height) * width * 3);
  std::mt19937 rng(seed);
  for (uint8_t& b : bytes) b = static_cast<uint8_t>(rng());
  return bytes;
}

httplib::Client http_client(int port, bool with_token = true) {
  httplib::Client c("127.0.0.1", port);
  c.set_connection_timeout(2, 0);
  c.set_read_timeout(10, 0);
  c.set_write_timeout(10, 0);
  if (with_token) c.set_bearer_token_auth(kToken);
  return c;
}

// A binary-extension request: the JSON header, then the tensor's bytes.
std::pair<std::string, size_t> binary_body(const std::string& name, const std::string& datatype, const Shape& shape,
                                           const void* data, size_t size, const nlohmann::json& parameters) {
  nlohmann::json header = {{"inputs",
                            {{{"name", name},
                              {"datatype", datatype},
                              {"shape", shape},
                              {"parameters", {{"binary_data_size", size}}}}}}};
  if (!parameters.empty()) header["parameters"] = parameters;
  std::string body = header.dump();
  const size_t header_length = body.size();
  body.append(static_cast<const char*>(data), size);
  return {body, header_length};
}

int http_status(const httplib::Result& r) { return r ? r->status : -1; }

// A client that sends headers promising `promised` body bytes, sends `sent` of them and hangs up.
void hang_up_mid_body(int port, size_t promised, size_t sent) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0) {
    const std::string head =
        cat("POST /v2/models/tiny/infer HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ", kToken,
            "\r\nInference-Header-Content-Length: 40\r\nContent-Length: ", promised, "\r\n\r\n");
    const std::string body(sent, '{');
    EXPECT_EQ(send(fd, head.data(), head.size(), MSG_NOSIGNAL), static_cast<ssize_t>(head.size()));
    EXPECT_EQ(send(fd, body.data(), body.size(), MSG_NOSIGNAL), static_cast<ssize_t>(body.size()));
  } else {
    ADD_FAILURE() << "cannot connect to the HTTP server";
  }
  close(fd);
}

class GrpcTestClient {
 public:
  explicit GrpcTestClient(int port)
      : stub_(inference::GRPCInferenceService::NewStub(
            grpc::CreateChannel(cat("127.0.0.1:", port), grpc::InsecureChannelCredentials()))) {}

  grpc::Status infer(const inference::ModelInferRequest& request, inference::ModelInferResponse& response,
                     const std::string& token = kToken) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    if (!token.empty()) context.AddMetadata("authorization", "Bearer " + token);
    return stub_->ModelInfer(&context, request, &response);
  }
  bool live() {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    inference::ServerLiveResponse response;
    return stub_->ServerLive(&context, {}, &response).ok() && response.live();
  }

 private:
  std::unique_ptr<inference::GRPCInferenceService::Stub> stub_;
};

inference::ModelInferRequest raw_request(const std::string& model, const std::string& datatype, const Shape& shape,
                                         const void* data, size_t size) {
  inference::ModelInferRequest request;
  request.set_model_name(model);
  auto* input = request.add_inputs();
  input->set_name(model == "tiny" ? "input" : "frame");
  input->set_datatype(datatype);
  for (int64_t d : shape) input->add_shape(d);
  request.add_raw_input_contents(static_cast<const char*>(data), size);
  return request;
}

std::vector<float> floats_of(const std::string& bytes) {
  std::vector<float> out(bytes.size() / sizeof(float));
  std::memcpy(out.data(), bytes.data(), out.size() * sizeof(float));
  return out;
}

}  // namespace

TEST(KServeServers, ServeConcurrentGoodMalformedOversizeAndHungUpClientsOverHttpAndGrpcThenStop) {
  TinyRepository files;
  RepositoryOptions repository_options;
  repository_options.runtime.threads = 1;
  ModelRepository repository(files.root.string(), repository_options);
  ASSERT_EQ(repository.load_all(), 1);
  Service service(repository, {8, 30}, kToken);
  HttpOptions http_options;
  http_options.port = 0;
  http_options.max_request_bytes = kMaxRequestBytes;
  http_options.threads = 8;
  http_options.client_timeout_seconds = 2;
  HttpServer http(service, http_options);
  const int http_port = http.bind();
  std::thread listener([&] { http.listen(); });
  GrpcOptions grpc_options;
  grpc_options.port = 0;
  grpc_options.max_request_bytes = kMaxRequestBytes;
  grpc_options.threads = 8;
  GrpcServer grpc(service, grpc_options);
  const int grpc_port = grpc.start();

  const Tensor x = test::random_tensor({1, 5, kSide, kSide}, 11, 0.f, 1.f);
  const Tensor want = test::run_reference(files.plan.graph, x);
  const size_t x_bytes = x.numel() * sizeof(float);
  constexpr int kFrames = 3, kRawRequests = 4;
  std::vector<std::vector<uint8_t>> frames;
  for (int i = 0; i < kFrames; ++i) frames.push_back(random_frame(40, 48, 100 + i));
  std::vector<double> http_counts(kFrames, -1), grpc_counts(kFrames, -2);

  std::vector<std::thread> clients;
  clients.emplace_back([&] {  // HTTP: binary raw inferences, each equal to the reference backend's output
    httplib::Client c = http_client(http_port);
    const auto [body, header_length] = binary_body("input", "FP32", x.shape(), x.data<float>(), x_bytes, {});
    for (int i = 0; i < kRawRequests; ++i) {
      httplib::Headers headers = {{"Inference-Header-Content-Length", std::to_string(header_length)}};
      const httplib::Result r = c.Post("/v2/models/tiny/infer", headers, body, "application/octet-stream");
      ASSERT_EQ(http_status(r), 200) << (r ? r->body : "no answer");
      const nlohmann::json j = nlohmann::json::parse(r->body);
      const std::vector<float> got = j["outputs"][0]["data"].get<std::vector<float>>();
      ASSERT_EQ(got.size(), want.numel());
      for (size_t e = 0; e < got.size(); ++e) ASSERT_NEAR(got[e], want.data<float>()[e], 1e-4) << e;
    }
  });
  clients.emplace_back([&] {  // HTTP: one counting sequence
    httplib::Client c = http_client(http_port);
    for (int i = 0; i < kFrames; ++i) {
      nlohmann::json parameters = {
          {"sequence_id", "h"}, {"sequence_start", i == 0}, {"sequence_end", i == kFrames - 1}};
      const auto [body, header_length] =
          binary_body("frame", "UINT8", {40, 48, 3}, frames[i].data(), frames[i].size(), parameters);
      const httplib::Result r = c.Post("/v2/models/tiny_counting/infer",
                                       {{"Inference-Header-Content-Length", std::to_string(header_length)}}, body,
                                       "application/octet-stream");
      ASSERT_EQ(http_status(r), 200) << (r ? r->body : "no answer");
      http_counts[i] = nlohmann::json::parse(r->body)["outputs"][0]["data"][0].get<double>();
    }
  });
  clients.emplace_back([&] {  // HTTP: malformed, wrong, oversize and unauthorised requests
    httplib::Client c = http_client(http_port);
    EXPECT_EQ(http_status(c.Post("/v2/models/tiny/infer", "{not json", "application/json")), 400);
    EXPECT_EQ(
        http_status(c.Post("/v2/models/tiny/infer",
                           R"({"inputs": [{"name": "input", "shape": [1, 5, 2, 2], "datatype": "FP32", "data": [1]}]})",
                           "application/json")),
        400);
    EXPECT_EQ(http_status(c.Post("/v2/models/nope/infer", "{}", "application/json")), 404);
    EXPECT_EQ(
        http_status(c.Post("/v2/models/tiny/infer", std::string(kMaxRequestBytes + 1000, 'x'), "application/json")),
        413);
    EXPECT_EQ(http_status(c.Get("/v2/models/a..b")), 400);
    httplib::Client anonymous = http_client(http_port, false);
    EXPECT_EQ(http_status(anonymous.Get("/v2")), 401);
    EXPECT_EQ(http_status(anonymous.Get("/v2/health/live")), 200);
  });
  clients.emplace_back([&] {  // clients that hang up in the middle of a body, and a request line that is not HTTP
    for (int i = 0; i < 3; ++i) hang_up_mid_body(http_port, 100000, 1000 * (i + 1));
    httplib::Client c = http_client(http_port);
    EXPECT_EQ(http_status(c.Get("/v2/health/ready")), 200);
  });
  clients.emplace_back([&] {  // gRPC: raw inferences and a counting sequence on the same frames as over HTTP
    GrpcTestClient g(grpc_port);
    EXPECT_TRUE(g.live());
    for (int i = 0; i < kRawRequests; ++i) {
      inference::ModelInferResponse response;
      const grpc::Status s = g.infer(raw_request("tiny", "FP32", x.shape(), x.data<float>(), x_bytes), response);
      ASSERT_TRUE(s.ok()) << s.error_message();
      ASSERT_EQ(response.raw_output_contents_size(), 1);
      const std::vector<float> got = floats_of(response.raw_output_contents(0));
      ASSERT_EQ(got.size(), want.numel());
      for (size_t e = 0; e < got.size(); ++e) ASSERT_NEAR(got[e], want.data<float>()[e], 1e-4) << e;
    }
    for (int i = 0; i < kFrames; ++i) {
      inference::ModelInferRequest request =
          raw_request("tiny_counting", "UINT8", {40, 48, 3}, frames[i].data(), frames[i].size());
      (*request.mutable_parameters())["sequence_id"].set_string_param("g");
      (*request.mutable_parameters())["sequence_start"].set_bool_param(i == 0);
      (*request.mutable_parameters())["sequence_end"].set_bool_param(i == kFrames - 1);
      inference::ModelInferResponse response;
      const grpc::Status s = g.infer(request, response);
      ASSERT_TRUE(s.ok()) << s.error_message();
      ASSERT_EQ(response.outputs(0).name(), "count");
      double count = 0;
      ASSERT_EQ(response.raw_output_contents(0).size(), sizeof(count));
      std::memcpy(&count, response.raw_output_contents(0).data(), sizeof(count));
      grpc_counts[i] = count;
    }
  });
  clients.emplace_back([&] {  // gRPC: errors with their status codes
    GrpcTestClient g(grpc_port);
    inference::ModelInferResponse response;
    const std::vector<float> small(4, 1.f);
    EXPECT_EQ(g.infer(raw_request("tiny", "FP32", {1, 1, 2, 2}, small.data(), 16), response).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(g.infer(raw_request("tiny", "FP32", {1, 1, 2, 2}, small.data(), 12), response).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(g.infer(raw_request("nope", "FP32", {1}, small.data(), 4), response).error_code(),
              grpc::StatusCode::NOT_FOUND);
    EXPECT_EQ(g.infer(raw_request("tiny", "FP32", {1}, small.data(), 4), response, "wrong").error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
    const std::string oversize(kMaxRequestBytes + 1000, '\0');
    EXPECT_EQ(g.infer(raw_request("tiny", "FP32", {1}, oversize.data(), oversize.size()), response).error_code(),
              grpc::StatusCode::RESOURCE_EXHAUSTED);
    inference::ModelInferRequest unknown_sequence =
        raw_request("tiny_counting", "UINT8", {40, 48, 3}, frames[0].data(), frames[0].size());
    (*unknown_sequence.mutable_parameters())["sequence_id"].set_int64_param(404);
    EXPECT_EQ(g.infer(unknown_sequence, response).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  });
  for (std::thread& t : clients) t.join();

  // The same frames give the same counts over both protocols; the server still serves; the metrics saw both.
  EXPECT_EQ(http_counts, grpc_counts);
  for (double c : http_counts) EXPECT_TRUE(std::isfinite(c) && c != -1);
  EXPECT_TRUE(GrpcTestClient(grpc_port).live());
  httplib::Client c = http_client(http_port);
  const httplib::Result metrics = c.Get("/metrics");
  ASSERT_EQ(http_status(metrics), 200);
  EXPECT_NE(metrics->body.find(
                cat(R"(crowdrt_requests_total{model="tiny",endpoint="infer",protocol="grpc"} )", kRawRequests + 2)),
            std::string::npos)
      << metrics->body;
  EXPECT_NE(metrics->body.find(R"(crowdrt_frames_total{model="tiny_counting"} 6)"), std::string::npos);
  grpc.stop();
  http.stop();
  listener.join();
  EXPECT_FALSE(GrpcTestClient(grpc_port).live());
}
