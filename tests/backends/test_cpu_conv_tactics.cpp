// The Winograd tactic of 3x3 stride-1 convolutions: forced through the node's tactic (as a plan
// carries it), it runs Winograd and still matches the reference; timing at build records a tactic.
#include "test_cpu_harness.h"

namespace crowdrt::test {
namespace {

// The convolution's entry among the layers (input and output reorders are layers too).
const LayerInfo& conv_layer(const std::vector<LayerInfo>& layers) {
  for (const LayerInfo& l : layers)
    if (l.op.rfind("Conv", 0) == 0) return l;
  throw Error("no Conv layer");
}

Tactic algorithm_only(const std::string& algorithm) {
  Tactic t;
  t.algorithm = algorithm;
  return t;
}

ir::Graph conv3x3_graph(int64_t in_channels, int64_t out_channels, int64_t size, const std::string& tactic,
                        bool residual) {
  GraphMaker g;
  const ir::ValueId x = g.input({1, in_channels, size, size + 3});
  ir::Attributes a;
  a.set("kernel_shape", ints({3, 3}));
  a.set("pads", ints({1, 1, 1, 1}));
  a.set("strides", ints({1, 1}));
  a.set("dilations", ints({1, 1}));
  a.set("group", int64_t{1});
  a.set("activation", std::string("relu"));
  if (!tactic.empty()) set_node_tactic(a, algorithm_only(tactic));
  std::vector<ir::ValueId> inputs = {x, g.weight({out_channels, in_channels, 3, 3}, 0.2f), g.weight({out_channels})};
  if (residual) {
    a.set("fused_add", int64_t{1});
    inputs.push_back(g.input({1, out_channels, size, size + 3}));
  }
  g.output(g.node(ir::Op::Conv, inputs, a));
  return g.graph;
}

TEST(CpuConvTactics, WinogradForcedByThePlanMatchesTheReference) {
  for (bool residual : {false, true})
    for (auto [cin, cout, size] : {std::tuple<int64_t, int64_t, int64_t>{64, 64, 20}, {32, 48, 17}, {5, 16, 9}}) {
      const Comparison c = expect_cpu_matches_reference(conv3x3_graph(cin, cout, size, "winograd", residual));
      EXPECT_EQ(conv_layer(c.layers).tactic, algorithm_only("winograd"));
      EXPECT_NE(conv_layer(c.layers).kernel.find("wino"), std::string::npos) << conv_layer(c.layers).kernel;
    }
}

TEST(CpuConvTactics, WithoutATacticOrTimingTheDirectAlgorithmRuns) {
  const Comparison c = expect_cpu_matches_reference(conv3x3_graph(32, 32, 16, "", false));
  EXPECT_EQ(conv_layer(c.layers).tactic, algorithm_only("direct"));
  EXPECT_EQ(conv_layer(c.layers).kernel.find("wino"), std::string::npos);
}

TEST(CpuConvTactics, TimingAtBuildRecordsOneOfTheCandidates) {
  const ir::Graph graph = conv3x3_graph(64, 64, 40, "", false);
  CompileOptions options;
  options.time_tactics = true;
  const auto compiled = CpuBackend().compile(graph, options);
  const std::string tactic = conv_layer(compiled->layers()).tactic.text();
  EXPECT_TRUE(tactic == "winograd" || tactic == "direct") << tactic;
}

}  // namespace
}  // namespace crowdrt::test
