#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>

#include "../ir/pass_test_helpers.h"
#include "core/hash.h"
#include "engine/plan.h"
#include "engine/runtime.h"

using namespace crowdrt;
using namespace crowdrt::test;

namespace {
Plan small_plan(const std::string& device = "ref") {
  Plan plan;
  ir::Graph& g = plan.graph;
  const ir::ValueId x = add_input(g, "input", {1, 3, 5, 6});
  const ir::ValueId c = add_conv(g, x, 4, 1, true, "conv");
  ir::Attributes clip;
  clip.set("min", -std::numeric_limits<float>::infinity());
  clip.set("max", 0.5f);
  g.outputs().push_back(add_unary(g, ir::Op::Clip, c, "clip", clip));
  plan.header = {{"backend", "ref"}, {"device", device}, {"build", {{"precision", "fp32"}}}};
  return plan;
}

std::string expect_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no Error thrown";
  return {};
}
}  // namespace

TEST(Plan, RoundTripKeepsGraphWeightsAttributesAndHeader) {
  const Plan plan = small_plan();
  const std::vector<std::byte> bytes = serialize_plan(plan);
  const Plan back = parse_plan(bytes, "mem");
  EXPECT_EQ(back.header["backend"], "ref");
  ASSERT_EQ(back.graph.nodes().size(), 2u);
  EXPECT_EQ(back.graph.nodes()[1].attrs.f("max"), 0.5f);
  EXPECT_TRUE(std::isinf(back.graph.nodes()[1].attrs.f("min")));
  EXPECT_LT(back.graph.nodes()[1].attrs.f("min"), 0.f);
  const Tensor input = random_tensor({1, 3, 5, 6}, 2);
  EXPECT_EQ(max_abs_diff(run_reference(plan.graph, input), run_reference(back.graph, input)), 0.f);
  EXPECT_EQ(serialize_plan(back), bytes);  // deterministic
}

TEST(Plan, AnyFlippedByteIsCaughtByTheChecksum) {
  std::vector<std::byte> bytes = serialize_plan(small_plan());
  for (size_t at : {size_t{30}, bytes.size() / 2, bytes.size() - 20}) {
    std::vector<std::byte> bad = bytes;
    bad[at] ^= std::byte{0x5a};
    EXPECT_NE(expect_error([&] { parse_plan(bad, "bad.plan"); }).find("bad.plan"), std::string::npos);
  }
}

TEST(Plan, TruncatedFilesAndOtherFilesAreRefused) {
  std::vector<std::byte> bytes = serialize_plan(small_plan());
  for (size_t n : {size_t{0}, size_t{7}, size_t{40}, bytes.size() - 1})
    EXPECT_FALSE(expect_error([&] { parse_plan(std::span(bytes).first(n), "t.plan"); }).empty());
}

TEST(Plan, AnotherFormatVersionIsRefusedWithBothVersionsNamed) {
  std::vector<std::byte> bytes = serialize_plan(small_plan());
  bytes[8] = std::byte{99};
  const std::string msg = expect_error([&] { parse_plan(bytes, "old.plan"); });
  EXPECT_NE(msg.find("version 99"), std::string::npos) << msg;
  EXPECT_NE(msg.find("rebuild"), std::string::npos) << msg;
}

// Version 1 wrote a layer's tactic as one string with prefixes ("int8/", "scaled/", "chain/", "staging/"): such a
// plan is refused, not read with its choices lost.
TEST(Plan, AVersion1PlanOfPrefixedTacticsIsRefusedWithTheRebuildMessage) {
  std::vector<std::byte> bytes = serialize_plan(small_plan());
  bytes[8] = std::byte{1};
  const std::string msg = expect_error([&] { parse_plan(bytes, "v1.plan"); });
  EXPECT_NE(msg.find("plan format version 1, this crowdrt reads version 2"), std::string::npos) << msg;
  EXPECT_NE(msg.find("rebuild the plan"), std::string::npos) << msg;
}

TEST(Plan, ATacticTravelsAsFieldsInTheLayersAndTheNodeAttributes) {
  Plan plan = small_plan();
  const Tactic tactic{.algorithm = "stem:8x16", .precision = "int8", .int8_io = "", .fused = "chain",
                      .reads_staging = true};
  set_node_tactic(plan.graph.nodes()[0].attrs, tactic);
  LayerInfo layer{"conv", "Conv", "crowdrt:stem 8x16", Precision::int8, "NHWC int8", "", tactic};
  plan.header["layers"] = layers_to_json({layer});
  const Plan back = parse_plan(serialize_plan(plan), "mem");
  EXPECT_EQ(node_tactic(back.graph.nodes()[0].attrs), tactic);
  EXPECT_TRUE(node_tactic(back.graph.nodes()[1].attrs).empty());
  EXPECT_FALSE(back.graph.nodes()[0].attrs.has("tactic_int8_io"));  // empty fields are not written
  const nlohmann::json& t = back.header["layers"][0]["tactic"];
  EXPECT_EQ(t["algorithm"], "stem:8x16");
  EXPECT_EQ(t["precision"], "int8");
  EXPECT_EQ(t["int8_io"], "");
  EXPECT_EQ(t["fused"], "chain");
  EXPECT_EQ(t["reads_staging"], true);
  EXPECT_EQ(tactic.text(), "stem:8x16 (precision int8, fused chain, reads_staging)");
}

TEST(Runtime, APlanForAnotherDeviceIsRefusedNamingBoth) {
  const std::string msg = expect_error([&] { Engine(small_plan("gpu:sm_90"), {}); });
  EXPECT_NE(msg.find("gpu:sm_90"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'ref'"), std::string::npos) << msg;
}

TEST(Runtime, RunsThePlanAndChecksTheInputShape) {
  Plan plan = small_plan();
  const Tensor input = random_tensor({1, 3, 5, 6}, 2);
  const Tensor expected = run_reference(plan.graph, input);
  Engine engine(std::move(plan), {});
  EXPECT_EQ(max_abs_diff(engine.infer(input), expected), 0.f);
  const std::string msg = expect_error([&] { engine.infer(random_tensor({1, 5, 5, 6}, 1)); });
  EXPECT_NE(msg.find("3 channels"), std::string::npos) << msg;
}

namespace {
// The plan with its JSON header changed by `edit` and the checksum recomputed, as someone editing a plan would:
// the checksum catches accidents, not edits, so what is behind it must be validated.
std::vector<std::byte> edited_plan(const Plan& plan, const std::function<void(nlohmann::json&)>& edit) {
  const std::vector<std::byte> bytes = serialize_plan(plan);
  uint64_t length = 0;
  for (int i = 0; i < 8; ++i) length |= static_cast<uint64_t>(bytes[16 + i]) << (8 * i);
  nlohmann::json header = nlohmann::json::parse(std::string(reinterpret_cast<const char*>(bytes.data()) + 24, length));
  const size_t weights_at = (24 + length + 63) / 64 * 64;
  const std::vector<std::byte> weights(bytes.begin() + static_cast<std::ptrdiff_t>(weights_at), bytes.end() - 8);
  edit(header);
  const std::string text = header.dump();
  std::vector<std::byte> out(bytes.begin(), bytes.begin() + 24);
  for (int i = 0; i < 8; ++i) out[16 + i] = static_cast<std::byte>((text.size() >> (8 * i)) & 0xff);
  for (char c : text) out.push_back(static_cast<std::byte>(c));
  out.resize((out.size() + 63) / 64 * 64, std::byte{0});
  out.insert(out.end(), weights.begin(), weights.end());
  const uint64_t sum = hash_bytes(out);
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::byte>((sum >> (8 * i)) & 0xff));
  return out;
}

nlohmann::json& node_named(nlohmann::json& header, const std::string& name) {
  for (nlohmann::json& n : header["graph"]["nodes"])
    if (n["name"] == name) return n;
  throw Error("no such node");
}
}  // namespace

TEST(Plan, AnEditedPlanWithTheChecksumRecomputedStillParsesWhenNothingIsWrong) {
  const std::vector<std::byte> same = edited_plan(small_plan(), [](nlohmann::json&) {});
  EXPECT_EQ(parse_plan(same, "same.plan").graph.nodes().size(), 2u);
}

TEST(Plan, AConvWithoutInputsIsRefusedBeforeInspectReadsIt) {
  // Issue 18: `inspect` died of SIGSEGV in ir::node_macs on this plan.
  const auto bytes =
      edited_plan(small_plan(), [](nlohmann::json& h) { node_named(h, "conv")["inputs"] = nlohmann::json::array(); });
  const std::string msg = expect_error([&] { parse_plan(bytes, "edited.plan"); });
  EXPECT_EQ(msg.rfind("edited.plan: Conv node 'conv' (output 'conv_out'): has 0 inputs; Conv needs 2 to 4", 0), 0u)
      << msg;
  EXPECT_NE(msg.find("rebuild it from its model with `crowdrt build`"), std::string::npos) << msg;
}

TEST(Plan, AConvWithStrideZeroIsRefusedOnLoadAndInMemory) {
  // Issue 18: the reference backend died of SIGFPE on it.
  const auto bytes = edited_plan(small_plan(), [](nlohmann::json& h) {
    node_named(h, "conv")["attrs"]["strides"] = {{"ints", {0, 1}}};
  });
  EXPECT_NE(expect_error([&] { parse_plan(bytes, "stride.plan"); }).find("strides [0, 1] holds 0; each must be >= 1"),
            std::string::npos);
  Plan plan = small_plan();
  plan.graph.nodes()[0].attrs.set("strides", std::vector<int64_t>{0, 1});
  EXPECT_NE(expect_error([&] { Engine(std::move(plan), {}); }).find("strides [0, 1] holds 0"), std::string::npos);
}

TEST(Plan, AConstantWhoseByteCountOverflowsIsRefused) {
  // Issue 18: 2^62 + 4 f32 elements are 2^64 + 16 bytes, which wrapped to the 16 bytes stored and passed.
  const auto bytes = edited_plan(small_plan(), [](nlohmann::json& h) {
    for (nlohmann::json& v : h["graph"]["values"])
      if (v["name"] == "conv.weight") {
        v["shape"] = {(int64_t{1} << 62) + 4};
        v["bytes"] = 16;
      }
  });
  const std::string msg = expect_error([&] { parse_plan(bytes, "huge.plan"); });
  EXPECT_NE(msg.find("constant 'conv.weight': 4611686018427387908 elements of 4 bytes is more than the 16 GiB"),
            std::string::npos) << msg;
}

TEST(Plan, AStoredShapeThatShapeInferenceDoesNotGiveIsRefused) {
  const auto bytes = edited_plan(small_plan(), [](nlohmann::json& h) {
    for (nlohmann::json& v : h["graph"]["values"])
      if (v["name"] == "conv_out") v["shape"] = {1, 4, 500, 600};
  });
  EXPECT_NE(expect_error([&] { parse_plan(bytes, "shape.plan"); }).find("stores output f32 1x4x500x600"),
            std::string::npos);
}

TEST(Plan, NumbersOfTheWrongKindOrRangeAreRefusedNotCast) {
  // Issue 18, found by fuzz_plan_graph on the lent GPU machine's CPUs: an attribute's integer written as -9.2e18 was
  // cast from double to int64 (undefined behaviour).
  const std::vector<std::pair<std::string, std::function<void(nlohmann::json&)>>> edits = {
      {"expected an integer, found -9.2e+18",
       [](nlohmann::json& h) {
         node_named(h, "conv")["attrs"]["strides"] = {{"ints", {-9.2e18, 1}}};
       }},
      {"expected an integer, found 1.5", [](nlohmann::json& h) { h["graph"]["values"][0]["shape"][0] = 1.5; }},
      {"integer 18446744073709551615 is out of range",
       [](nlohmann::json& h) { h["graph"]["nodes"][0]["inputs"][0] = UINT64_MAX; }},
      {"expected a size, found -1", [](nlohmann::json& h) { h["weights_bytes"] = -1; }},
      {"is out of float's range",
       [](nlohmann::json& h) {
         node_named(h, "conv")["attrs"]["alpha"] = {{"f", 1e300}};
       }},
  };
  for (const auto& [want, edit] : edits) {
    const auto bytes = edited_plan(small_plan(), edit);
    const std::string msg = expect_error([&] { parse_plan(bytes, "kind.plan"); });
    EXPECT_NE(msg.find(want), std::string::npos) << msg;
    EXPECT_EQ(msg.rfind("kind.plan: malformed plan", 0), 0u) << msg;
  }
  const auto bytes =
      edited_plan(small_plan(), [](nlohmann::json& h) { h["calibration"]["activation_amax"]["input"] = 1e300; });
  EXPECT_NE(
      expect_error([&] { parse_plan(bytes, "amax.plan"); }).find("the calibrated range of tensor 'input' is 1e+300"),
      std::string::npos);
}

TEST(Plan, CalibratedRangesMustBeFinitePositiveAndNormal) {
  for (const nlohmann::json& amax : {nlohmann::json(nullptr), nlohmann::json(0.0), nlohmann::json(1e-40),
                                     nlohmann::json(-1.0), nlohmann::json("x")}) {
    const auto bytes =
        edited_plan(small_plan(), [&](nlohmann::json& h) { h["calibration"]["activation_amax"]["input"] = amax; });
    const std::string msg = expect_error([&] { parse_plan(bytes, "amax.plan"); });
    EXPECT_NE(msg.find("the calibrated range of tensor 'input' is"), std::string::npos) << msg;
  }
}

TEST(Runtime, AThreadCountBeyondTheLimitIsAnErrorNotACrashInOpenMP) {
  // Issue 18: 65536 threads died of SIGSEGV in libgomp.
  for (int threads : {65536, 4097, -1}) {
    const std::string msg = expect_error([&] { Engine(small_plan(), RuntimeOptions{threads}); });
    EXPECT_NE(msg.find("give 0 (every core) or 1 to 4096"), std::string::npos) << msg;
  }
  EXPECT_NO_THROW(Engine(small_plan(), RuntimeOptions{4096}));
}
