// The v2 protocol's request parsing and answer encoding, the sequence table and the metrics text, without a server
// (tests/serve/check_serve_*.py drive the whole server over HTTP).
#include <gtest/gtest.h>

#include <cstring>
#include <thread>

#include "serve/kserve/metrics.h"
#include "serve/kserve/model_repository.h"
#include "serve/kserve/protocol.h"
#include "serve/kserve/sequences.h"

using namespace crowdrt;
using namespace crowdrt::serve::kserve;

namespace {

int status_of(std::string_view body, std::optional<size_t> header_length = std::nullopt) {
  try {
    parse_infer_request(body, header_length);
  } catch (const ProtocolError& e) {
    return e.status();
  }
  return 200;
}

template <class T>
std::vector<T> values(const WireTensor& t) {
  std::vector<T> out(t.bytes.size() / sizeof(T));
  std::memcpy(out.data(), t.bytes.data(), t.bytes.size());
  return out;
}

}  // namespace

TEST(KServeProtocol, NestedAndFlatDataGiveTheSameRowMajorBytes) {
  const InferRequest nested = parse_infer_request(
      R"({"inputs": [{"name": "x", "shape": [2, 3], "datatype": "INT16", "data": [[1, -2, 3], [4, 5, -32768]]}]})", {});
  const InferRequest flat = parse_infer_request(
      R"({"inputs": [{"name": "x", "shape": [2, 3], "datatype": "INT16", "data": [1, -2, 3, 4, 5, -32768]}]})", {});
  EXPECT_EQ(values<int16_t>(nested.inputs[0]), (std::vector<int16_t>{1, -2, 3, 4, 5, -32768}));
  EXPECT_EQ(nested.inputs[0].bytes, flat.inputs[0].bytes);
  EXPECT_EQ(nested.inputs[0].shape, (Shape{2, 3}));
}

TEST(KServeProtocol, BinaryTensorsFollowTheHeaderInInputOrder) {
  const std::string header =
      R"({"inputs": [{"name": "a", "shape": [2], "datatype": "FP32", "parameters": {"binary_data_size": 8}},)"
      R"( {"name": "b", "shape": [3], "datatype": "UINT8", "parameters": {"binary_data_size": 3}}],)"
      R"( "outputs": [{"name": "y", "parameters": {"binary_data": true}}, {"name": "z"}]})";
  const float a[] = {1.5f, -2.25f};
  std::string body = header + std::string(reinterpret_cast<const char*>(a), sizeof(a)) + "\x07\x08\x09";
  const InferRequest r = parse_infer_request(body, header.size());
  EXPECT_EQ(values<float>(r.inputs[0]), (std::vector<float>{1.5f, -2.25f}));
  EXPECT_EQ(values<uint8_t>(r.inputs[1]), (std::vector<uint8_t>{7, 8, 9}));
  ASSERT_EQ(r.outputs.size(), 2u);
  EXPECT_TRUE(r.outputs[0].binary);
  EXPECT_FALSE(r.outputs[1].binary);
  EXPECT_EQ(status_of(body + "x", header.size()), 400);                  // bytes no input accounts for
  EXPECT_EQ(status_of(body.substr(0, body.size() - 1), header.size()), 400);  // one byte short
  EXPECT_EQ(status_of(body, body.size() + 1), 400);                       // header length past the body
}

TEST(KServeProtocol, MalformedRequestsAre400) {
  EXPECT_EQ(status_of("{"), 400);
  EXPECT_EQ(status_of("[]"), 400);
  EXPECT_EQ(status_of(R"({"inputs": []})"), 400);
  EXPECT_EQ(status_of(R"({"inputs": [{"name": "x", "shape": [2], "datatype": "UINT8", "data": [1, 256]}]})"), 400);
  EXPECT_EQ(status_of(R"({"inputs": [{"name": "x", "shape": [2], "datatype": "INT8", "data": [1, 2.5]}]})"), 400);
  EXPECT_EQ(status_of(R"({"inputs": [{"name": "x", "shape": [-1], "datatype": "FP32", "data": []}]})"), 400);
  EXPECT_EQ(status_of(R"({"inputs": [{"name": "x", "shape": [3], "datatype": "FP32", "data": [1, 2]}]})"), 400);
  EXPECT_EQ(status_of(R"({"inputs": [{"name": "x", "shape": [1], "datatype": "BYTES", "data": ["a"]}]})"), 400);
  EXPECT_EQ(status_of(R"({"inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "data": ["a"]}]})"), 400);
  // A shape whose element count overflows is refused, not allocated.
  EXPECT_EQ(
      status_of(R"({"inputs": [{"name": "x", "shape": [2147483647, 2147483647, 2147483647], )"
                R"("datatype": "FP64", "data": [1]}]})"),
      400);
  EXPECT_EQ(
      status_of(R"({"inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "data": [1]}], )"
                R"("parameters": {"binary_data_output": 1}})"),
      400);
}

TEST(KServeProtocol, AnswersCarryOnlyTheRequestedOutputsEachInItsEncoding) {
  InferRequest request = parse_infer_request(
      R"({"inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "data": [0]}],)"
      R"( "outputs": [{"name": "names", "parameters": {"binary_data": true}}, {"name": "count"}]})", {});
  InferResponse response;
  response.model_name = "m";
  response.outputs = {double_tensor("count", {2.5}), double_tensor("unasked", {1}),
                      string_tensor("names", {"ab", "c"})};
  const EncodedResponse encoded = encode_infer_response(response, request);
  ASSERT_TRUE(encoded.header_length.has_value());
  const nlohmann::json j = nlohmann::json::parse(encoded.body.substr(0, *encoded.header_length));
  ASSERT_EQ(j["outputs"].size(), 2u);
  EXPECT_EQ(j["outputs"][0]["name"], "names");
  EXPECT_EQ(j["outputs"][0]["parameters"]["binary_data_size"], 4 + 2 + 4 + 1);
  EXPECT_EQ(j["outputs"][1]["data"], nlohmann::json::array({2.5}));
  EXPECT_EQ(encoded.body.substr(*encoded.header_length), std::string("\x02\0\0\0ab\x01\0\0\0c", 11));
  request.outputs = {{"missing", false}};
  EXPECT_THROW(encode_infer_response(response, request), ProtocolError);
}

TEST(KServeModelNames, PathsOutOfTheRepositoryAreRefused) {
  for (const char* bad : {"", "..", "a/b", "a\\b", "x..y", "a\nb"})
    EXPECT_THROW(check_model_name(bad), ProtocolError) << bad;
  EXPECT_NO_THROW(check_model_name("crowd.v2-fp16_counting"));
}

TEST(KServeModelConfig, UnknownKeysAndBadValuesNameTheField) {
  EXPECT_EQ(parse_model_config(R"({"instance_count": 3, "flow": "fast"})", "c.json").instance_count, 3);
  try {
    parse_model_config(R"({"instances": 3})", "c.json");
    FAIL() << "accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("unknown key 'instances'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(parse_model_config(R"({"instance_count": 0})", "c.json"), Error);
  EXPECT_THROW(parse_model_config(R"({"flow": "slow"})", "c.json"), Error);
  EXPECT_EQ(parse_model_config(R"({"flow_device": "cuda"})", "c.json").flow_device, "cuda");
  EXPECT_EQ(parse_model_config(R"({})", "c.json").flow_device, "");  // the plan's device
  try {
    parse_model_config(R"({"flow_device": "gpu"})", "c.json");
    FAIL() << "accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("c.json: flow_device must be cpu or cuda"), std::string::npos) << e.what();
  }
}

TEST(KServeModelConfig, DynamicBatchingTakesTritonsQueueDelay) {
  EXPECT_EQ(parse_model_config(R"({})", "c.json").max_queue_delay_us, -1);  // not given: serve's --max-queue-delay
  EXPECT_EQ(parse_model_config(R"({"dynamic_batching": {}})", "c.json").max_queue_delay_us, -1);
  EXPECT_EQ(parse_model_config(R"({"dynamic_batching": {"max_queue_delay_microseconds": 2500}})", "c.json")
                .max_queue_delay_us,
            2500);
  for (const char* bad : {R"({"dynamic_batching": {"max_queue_delay_microseconds": -1}})",
                          R"({"dynamic_batching": {"max_queue_delay_microseconds": 10000001}})",
                          R"({"dynamic_batching": {"max_queue_delay_microseconds": "5"}})",
                          R"({"dynamic_batching": {"preferred_batch_size": [2]}})", R"({"dynamic_batching": 5})"}) {
    try {
      parse_model_config(bad, "c.json");
      ADD_FAILURE() << "accepted " << bad;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("max_queue_delay_microseconds"), std::string::npos) << e.what();
    }
  }
}

TEST(KServeSequences, StartFindEndExpireAndLimit) {
  SequenceTable table({2, 0.2});
  vision::NetworkInputOptions options;
  options.size = cv::Size(32, 32);
  options.channels = 3;
  auto make = [&] { return std::make_shared<Sequence>(options); };
  auto a = table.start("m", "1", make).sequence;
  EXPECT_EQ(table.find("m", "1").sequence, a);
  EXPECT_EQ(table.find("m", "1").ticket, 2u);  // the start took ticket 0, the find above 1
  EXPECT_THROW(table.find("other", "1"), ProtocolError);  // sequences are per model
  table.start("m", "2", make);
  try {
    table.start("m", "3", make);
    FAIL() << "a third sequence was accepted";
  } catch (const ProtocolError& e) {
    EXPECT_EQ(e.status(), 429);
  }
  auto restarted = table.start("m", "1", make).sequence;  // the same id again: a fresh sequence, not one more
  EXPECT_NE(restarted, a);
  table.end("m", "1", a);  // a stale handle ends nothing
  EXPECT_EQ(table.find("m", "1").sequence, restarted);
  table.end("m", "1", restarted);
  EXPECT_THROW(table.find("m", "1"), ProtocolError);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_TRUE(table.live().empty());  // "2" expired
}

TEST(KServeMetrics, HistogramsAreCumulativeAndLabelled) {
  Metrics m;
  m.stage("m\"x", "infer", 0.003);
  m.stage("m\"x", "infer", 20);
  m.request("m\"x", "infer", "grpc", true, 0.01);
  m.request("m\"x", "infer", "http", false, 0.01);
  const std::string text = m.text({{"m\"x", 4}});
  EXPECT_NE(text.find(R"(crowdrt_stage_duration_seconds_bucket{model="m\"x",stage="infer",le="0.005"} 1)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find(R"(crowdrt_stage_duration_seconds_bucket{model="m\"x",stage="infer",le="10"} 1)"),
            std::string::npos);
  EXPECT_NE(text.find(R"(crowdrt_stage_duration_seconds_bucket{model="m\"x",stage="infer",le="+Inf"} 2)"),
            std::string::npos);
  EXPECT_NE(text.find(R"(crowdrt_request_failures_total{model="m\"x",endpoint="infer",protocol="grpc"} 1)"),
            std::string::npos);
  EXPECT_EQ(text.find(R"(crowdrt_request_failures_total{model="m\"x",endpoint="infer",protocol="http"})"),
            std::string::npos);
  EXPECT_NE(text.find(R"(crowdrt_requests_total{model="m\"x",endpoint="infer",protocol="http"} 1)"), std::string::npos);
  EXPECT_NE(text.find(R"(crowdrt_live_sequences{model="m\"x"} 4)"), std::string::npos);
}

TEST(KServeSequences, FramesTakeTheirTurnsInTicketOrder) {
  SequenceTable table({4, 60});
  vision::NetworkInputOptions options;
  options.size = cv::Size(32, 32);
  options.channels = 3;
  std::vector<SequenceTable::Handle> handles{
      table.start("m", "s", [&] { return std::make_shared<Sequence>(options); })};
  for (int i = 0; i < 3; ++i) handles.push_back(table.find("m", "s"));
  std::vector<uint64_t> order;
  std::vector<std::thread> threads;
  for (int i = 3; i >= 0; --i) {  // the last ticket's thread starts first
    threads.emplace_back([&, i] {
      Turn turn(*handles[i].sequence, handles[i].ticket);
      order.push_back(handles[i].ticket);  // under the sequence's lock
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(order, (std::vector<uint64_t>{0, 1, 2, 3}));
}
