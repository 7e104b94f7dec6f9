#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "../ir/pass_test_helpers.h"
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
