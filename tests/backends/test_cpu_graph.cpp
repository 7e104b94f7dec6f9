// CpuBackend on whole (small) graphs: concat in place, repeated runs, thread settings, what layers() reports.
#include <cstring>

#include "ir/passes/passes.h"
#include "test_cpu_harness.h"

namespace crowdrt::test {
namespace {

ir::Attributes conv3x3(const std::string& activation = "") {
  ir::Attributes a;
  a.set("kernel_shape", ints({3, 3}));
  a.set("pads", ints({1, 1, 1, 1}));
  if (!activation.empty()) a.set("activation", activation);
  return a;
}

ir::Attributes concat_on_channels() {
  ir::Attributes a;
  a.set("axis", int64_t{1});
  return a;
}

// x -> conv (a channels) ┐
// x -> conv (b channels) ┴ concat -> conv -> y
ir::Graph conv_concat_conv(int64_t a, int64_t b, int64_t batch = 1) {
  GraphMaker g;
  const ir::ValueId x = g.input({batch, 5, 33, 17});
  const ir::ValueId left = g.node(ir::Op::Conv, {x, g.weight({a, 5, 3, 3}), g.weight({a})}, conv3x3("relu"));
  const ir::ValueId right = g.node(ir::Op::Conv, {x, g.weight({b, 5, 3, 3}), g.weight({b})}, conv3x3());
  const ir::ValueId joined = g.node(ir::Op::Concat, {left, right}, concat_on_channels());
  g.output(g.node(ir::Op::Conv, {joined, g.weight({7, a + b, 3, 3}, 0.3f)}, conv3x3()));
  return ir::plan_concat_in_place(std::move(g.graph), [](const ir::Graph& graph, const ir::Node& node) {
    return CpuBackend().concat_in_place(graph, node);
  });
}

const ir::Node& only_concat(const ir::Graph& graph) {
  for (const ir::Node& n : graph.nodes())
    if (n.op == ir::Op::Concat) return n;
  throw Error("no concat");
}

const LayerInfo& layer_of(const Comparison& result, const std::string& op) {
  for (const LayerInfo& l : result.layers)
    if (l.op == op) return l;
  throw Error(cat("no layer ", op));
}

TEST(CpuGraph, ConcatOfConvsOnBlockBoundariesRunsInPlaceAndMatchesReference) {
  for (auto [a, b] : {std::pair<int64_t, int64_t>{16, 5}, {32, 64}, {48, 17}}) {
    const ir::Graph graph = conv_concat_conv(a, b);
    ASSERT_EQ(only_concat(graph).attrs.i("in_place", 0), 1) << a << "+" << b;
    const Comparison result = expect_cpu_matches_reference(graph);
    const LayerInfo& concat = layer_of(result, "Concat");
    EXPECT_EQ(concat.note, "concat in place");
    EXPECT_EQ(concat.kernel, "none");
    EXPECT_EQ(concat.layout, "nChw16c");
  }
}

TEST(CpuGraph, ConcatIsCopiedWhenAChannelOffsetIsOffTheBlockOrTheBatchIsNotOne) {
  for (const ir::Graph& graph : {conv_concat_conv(13, 16), conv_concat_conv(16, 16, 2)}) {
    EXPECT_EQ(only_concat(graph).attrs.i("in_place", 0), 0);
    const Comparison result = expect_cpu_matches_reference(graph);
    EXPECT_NE(layer_of(result, "Concat").kernel, "none");
  }
}

TEST(CpuGraph, ConcatOfGraphInputsIsNeverInPlace) {
  GraphMaker g;
  const ir::ValueId x = g.input({1, 16, 7, 9}), y = g.input({1, 16, 7, 9});
  g.output(g.node(ir::Op::Concat, {x, y}, concat_on_channels()));
  EXPECT_FALSE(CpuBackend().concat_in_place(g.graph, g.graph.nodes()[0]));
  expect_cpu_matches_reference(g.graph);
}

TEST(CpuGraph, InPlaceConcatOfResizeAndPoolFeedsAConv) {
  // the UNet decoder's shape: upsampled deep features beside pooled shallow ones
  GraphMaker g;
  const ir::ValueId x = g.input({1, 3, 16, 20});
  const ir::ValueId shallow = g.node(ir::Op::Conv, {x, g.weight({32, 3, 3, 3})}, conv3x3("relu"));
  ir::Attributes pool;
  pool.set("kernel_shape", ints({2, 2}));
  pool.set("strides", ints({2, 2}));
  const ir::ValueId pooled = g.node(ir::Op::MaxPool, {shallow}, pool);
  ir::Attributes down = conv3x3("relu");
  down.set("strides", ints({2, 2}));
  const ir::ValueId deep = g.node(ir::Op::Conv, {pooled, g.weight({24, 32, 3, 3})}, down);
  ir::Attributes up;
  up.set("mode", std::string("nearest"));
  up.set("coordinate_transformation_mode", std::string("asymmetric"));
  up.set("nearest_mode", std::string("floor"));
  up.set("scales", std::vector<float>{1.f, 1.f, 2.f, 2.f});
  const ir::ValueId upsampled = g.node(ir::Op::Resize, {deep}, up);
  const ir::ValueId other = g.node(ir::Op::MaxPool, {g.node(ir::Op::Relu, {shallow})}, pool);
  const ir::ValueId joined = g.node(ir::Op::Concat, {other, upsampled}, concat_on_channels());
  ir::Attributes head = conv3x3("sigmoid");
  g.output(g.node(ir::Op::Conv, {joined, g.weight({1, 56, 3, 3}, 0.2f), g.weight({1})}, head));
  const ir::Graph graph = ir::plan_concat_in_place(std::move(g.graph), [](const ir::Graph& gr, const ir::Node& n) {
    return CpuBackend().concat_in_place(gr, n);
  });
  ASSERT_EQ(only_concat(graph).attrs.i("in_place", 0), 1);
  const Comparison result = expect_cpu_matches_reference(graph);
  EXPECT_EQ(layer_of(result, "Concat").note, "concat in place");
}

TEST(CpuGraph, RunningTwiceGivesIdenticalOutputs) {
  const ir::Graph graph = conv_concat_conv(16, 5);
  const std::unique_ptr<CompiledGraph> compiled = CpuBackend().compile(graph, {});
  const Tensor input = random_tensor({1, 5, 33, 17}, 3);
  Tensor first(DType::f32, {1, 7, 33, 17}), second(DType::f32, {1, 7, 33, 17});
  const float* in[] = {input.data<float>()};
  float* out1[] = {first.data<float>()};
  float* out2[] = {second.data<float>()};
  compiled->run(in, out1);
  compiled->run(in, out2);
  EXPECT_EQ(std::memcmp(first.raw(), second.raw(), first.bytes()), 0);
}

TEST(CpuGraph, CompilesAndRunsWithOneThread) {
  expect_cpu_matches_reference(conv_concat_conv(16, 5), /*threads=*/1);
}

TEST(CpuGraph, LayerTimesCoverEveryLayer) {
  const std::unique_ptr<CompiledGraph> compiled = CpuBackend().compile(conv_concat_conv(32, 5), {});
  const Tensor input = random_tensor({1, 5, 33, 17}, 3);
  Tensor output(DType::f32, {1, 7, 33, 17});
  const float* in[] = {input.data<float>()};
  float* out[] = {output.data<float>()};
  std::vector<double> ms;
  compiled->run(in, out, &ms);
  ASSERT_EQ(ms.size(), compiled->layers().size());
  for (double t : ms) EXPECT_GE(t, 0.0);
  EXPECT_GT(compiled->arena_bytes(), 0u);
}

TEST(CpuGraph, FusedConvReportsItsEpilogueAndAFastKernel) {
  GraphMaker g;
  const ir::ValueId x = g.input({1, 64, 33, 17});
  const ir::ValueId c = g.node(ir::Op::Conv, {x, g.weight({64, 64, 3, 3}, 0.1f)}, conv3x3());
  ir::Attributes pointwise;
  pointwise.set("kernel_shape", ints({1, 1}));
  const ir::ValueId residual = g.node(ir::Op::Conv, {x, g.weight({64, 64, 1, 1}, 0.1f)}, pointwise);
  ir::Attributes fused = conv3x3("relu");
  fused.set("fused_add", int64_t{1});
  g.output(g.node(ir::Op::Conv, {c, g.weight({64, 64, 3, 3}, 0.1f), g.weight({64}), residual}, fused));
  const Comparison result = expect_cpu_matches_reference(g.graph);
  const LayerInfo& conv = layer_of(result, "Conv+Add+Relu");
  EXPECT_EQ(conv.kernel.rfind("onednn:", 0), 0u);
  EXPECT_EQ(conv.kernel.find("ref"), std::string::npos) << conv.kernel;
  EXPECT_EQ(conv.kernel.find("gemm"), std::string::npos) << conv.kernel;
  EXPECT_EQ(conv.note, "writes over the residual");
}

TEST(CpuGraph, ResnetBlockWritesOverItsInputOnceTheFirstConvHasReadIt) {
  // y = relu(conv2(relu(conv1(x))) + x), with x computed: conv2 is x's last reader, so no residual copy
  GraphMaker g;
  const ir::ValueId input = g.input({1, 64, 33, 17});
  const ir::ValueId x = g.node(ir::Op::Conv, {input, g.weight({64, 64, 3, 3}, 0.1f)}, conv3x3("relu"));
  const ir::ValueId inner = g.node(ir::Op::Conv, {x, g.weight({64, 64, 3, 3}, 0.1f)}, conv3x3("relu"));
  ir::Attributes fused = conv3x3("relu");
  fused.set("fused_add", int64_t{1});
  g.output(g.node(ir::Op::Conv, {inner, g.weight({64, 64, 3, 3}, 0.1f), g.weight({64}), x}, fused));
  const Comparison result = expect_cpu_matches_reference(g.graph);
  EXPECT_EQ(layer_of(result, "Conv+Add+Relu").note, "writes over the residual");
  for (const LayerInfo& l : result.layers) EXPECT_EQ(l.node.find(":residual"), std::string::npos) << l.node;
}

TEST(CpuGraph, ArenaReusesMemoryOfValuesThatAreNoLongerRead) {
  // eight 64x33x17 activations in a chain: two or three are alive at once, not eight
  GraphMaker g;
  ir::ValueId v = g.input({1, 64, 33, 17});
  for (int i = 0; i < 8; ++i) v = g.node(ir::Op::Conv, {v, g.weight({64, 64, 3, 3}, 0.05f)}, conv3x3("relu"));
  g.output(v);
  const Comparison result = expect_cpu_matches_reference(g.graph);
  EXPECT_LE(result.arena_bytes, 4u * 64 * 33 * 17 * sizeof(float));
}

TEST(CpuGraph, DeviceFingerprintNamesTheInstructionSet) {
  const std::string fingerprint = CpuBackend().device_fingerprint();
  EXPECT_EQ(fingerprint.rfind("cpu:", 0), 0u);
  EXPECT_EQ(fingerprint.find("generic"), std::string::npos) << fingerprint;
  EXPECT_EQ(CpuBackend().name(), "cpu");
}

TEST(CpuGraph, RunRejectsTheWrongNumberOfBuffers) {
  const std::unique_ptr<CompiledGraph> compiled = CpuBackend().compile(conv_concat_conv(16, 5), {});
  std::vector<const float*> none;
  std::vector<float*> out(1, nullptr);
  EXPECT_THROW(compiled->run(none, out), Error);
}

}  // namespace
}  // namespace crowdrt::test
