// ReferenceBackend: compile + run gives what calling the kernels one by one gives; layers and errors.
#include <gtest/gtest.h>

#include <random>

#include "reference_op_runner.h"

namespace crowdrt {
namespace {

Tensor random_tensor(Shape shape, uint32_t seed) {
  Tensor t(DType::f32, std::move(shape));
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  for (float& v : t.span<float>()) v = u(rng);
  return t;
}

ir::Attributes conv3x3() {
  ir::Attributes a;
  a.set("kernel_shape", std::vector<int64_t>{3, 3});
  a.set("strides", std::vector<int64_t>{1, 1});
  a.set("pads", std::vector<int64_t>{1, 1, 1, 1});
  a.set("dilations", std::vector<int64_t>{1, 1});
  a.set("group", int64_t{1});
  return a;
}

// x (1x3x7x9) -> Conv 3x3 (5 channels, bias) -> LeakyRelu -> y
struct TwoNodeGraph {
  ir::Graph graph;
  Tensor weight = random_tensor({5, 3, 3, 3}, 1), bias = random_tensor({5}, 2);
  ir::Attributes leaky;
  TwoNodeGraph() {
    leaky.set("alpha", 0.1f);
    const ir::ValueId x = graph.add_value("x", DType::f32, {1, 3, 7, 9}, true);
    graph.inputs().push_back(x);
    const ir::ValueId w = graph.add_constant("w", weight);
    const ir::ValueId b = graph.add_constant("b", bias);
    const ir::ValueId c = graph.add_value("c", DType::f32, {1, 5, 7, 9}, true);
    const ir::ValueId y = graph.add_value("y", DType::f32, {1, 5, 7, 9}, true);
    graph.add_node(ir::Op::Conv, "conv", {x, w, b}, {c}, conv3x3());
    graph.add_node(ir::Op::LeakyRelu, "act", {c}, {y}, leaky);
    graph.outputs().push_back(y);
  }
};

TEST(ReferenceBackend, CompiledGraphMatchesTheKernelsCalledOneByOne) {
  TwoNodeGraph g;
  const Tensor x = random_tensor({1, 3, 7, 9}, 3);
  const Tensor conv = test::run_op(ir::Op::Conv, conv3x3(), {x, g.weight, g.bias}, {1, 5, 7, 9});
  const Tensor expected = test::run_op(ir::Op::LeakyRelu, g.leaky, {conv}, {1, 5, 7, 9});

  auto compiled = ReferenceBackend().compile(g.graph, {});
  Tensor y(DType::f32, {1, 5, 7, 9});
  const float* in[] = {x.data<float>()};
  float* out[] = {y.data<float>()};
  std::vector<double> layer_ms;
  compiled->run(in, out, &layer_ms);
  EXPECT_EQ(test::max_abs_difference(y, expected), 0.f);
  EXPECT_GT(test::max_abs(y), 0.f);
  ASSERT_EQ(layer_ms.size(), 2u);
  for (double ms : layer_ms) EXPECT_GE(ms, 0.0);

  // A second run with another input reuses the buffers and gives that input's result.
  const Tensor x2 = random_tensor({1, 3, 7, 9}, 4);
  const float* in2[] = {x2.data<float>()};
  compiled->run(in2, out);
  const Tensor expected2 = test::run_op(
      ir::Op::LeakyRelu, g.leaky, {test::run_op(ir::Op::Conv, conv3x3(), {x2, g.weight, g.bias}, {1, 5, 7, 9})},
      {1, 5, 7, 9});
  EXPECT_EQ(test::max_abs_difference(y, expected2), 0.f);
  EXPECT_EQ(compiled->arena_bytes(), 2 * 1 * 5 * 7 * 9 * sizeof(float) + 1 * 3 * 7 * 9 * sizeof(float));
}

TEST(ReferenceBackend, LayersNameEachNodeWithItsFusions) {
  TwoNodeGraph g;
  ir::Node& conv = g.graph.nodes()[0];
  conv.attrs.set("activation", std::string("relu"));
  conv.attrs.set("alpha", 0.f);
  conv.attrs.set("beta", 0.f);
  const ir::ValueId residual = g.graph.add_value("r", DType::f32, {1, 5, 7, 9}, true);
  g.graph.inputs().push_back(residual);
  conv.inputs.push_back(residual);
  conv.attrs.set("fused_add", int64_t{1});
  auto compiled = ReferenceBackend().compile(g.graph, {});
  const auto& layers = compiled->layers();
  ASSERT_EQ(layers.size(), 2u);
  EXPECT_EQ(layers[0].node, "conv");
  EXPECT_EQ(layers[0].op, "Conv+Add+Relu");
  EXPECT_EQ(layers[1].op, "LeakyRelu");
  for (const LayerInfo& l : layers) {
    EXPECT_EQ(l.kernel, "reference");
    EXPECT_EQ(l.layout, "nchw");
    EXPECT_EQ(l.precision, Precision::fp32);
  }
}

TEST(ReferenceBackend, SupportsFloat32ComputeOpsOnly) {
  TwoNodeGraph g;
  const ReferenceBackend backend;
  EXPECT_TRUE(backend.supports(g.graph, g.graph.nodes()[0], Precision::fp32));
  EXPECT_FALSE(backend.supports(g.graph, g.graph.nodes()[0], Precision::fp16));
  EXPECT_FALSE(backend.supports(g.graph, g.graph.nodes()[0], Precision::int8));
  const ir::ValueId s = g.graph.add_value("s", DType::i64, {4}, true);
  g.graph.add_node(ir::Op::Shape, "shape", {g.graph.inputs()[0]}, {s});
  EXPECT_FALSE(backend.supports(g.graph, g.graph.nodes()[2], Precision::fp32));
}

TEST(ReferenceBackend, CompileRefusesAShapeOpNamingIt) {
  TwoNodeGraph g;
  const ir::ValueId s = g.graph.add_value("s", DType::i64, {4}, true);
  g.graph.add_node(ir::Op::Shape, "leftover_shape", {g.graph.inputs()[0]}, {s});
  try {
    ReferenceBackend().compile(g.graph, {});
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("leftover_shape"), std::string::npos) << e.what();
  }
}

TEST(ReferenceBackend, RunWithTheWrongNumberOfBuffersIsAnError) {
  TwoNodeGraph g;
  auto compiled = ReferenceBackend().compile(g.graph, {});
  Tensor y(DType::f32, {1, 5, 7, 9});
  float* out[] = {y.data<float>()};
  EXPECT_THROW(compiled->run({}, out), Error);
}

}  // namespace
}  // namespace crowdrt
