#include <gtest/gtest.h>

#include "ir/shape_inference.h"

using namespace crowdrt;
using namespace crowdrt::ir;

namespace {
ValueId input(Graph& g, const std::string& name, Shape shape) {
  const ValueId v = g.add_value(name, DType::f32, std::move(shape), true);
  g.inputs().push_back(v);
  return v;
}

// Adds one node reading `inputs` and returns its inferred output shape.
Shape infer(Graph& g, Op op, std::vector<ValueId> inputs, Attributes attrs = {}) {
  const ValueId out = g.add_value("out");
  g.add_node(op, "node", std::move(inputs), {out}, std::move(attrs));
  infer_node_shapes(g, g.nodes().back());
  return g.value(out).shape;
}

Attributes ints(std::initializer_list<std::pair<const char*, std::vector<int64_t>>> list) {
  Attributes a;
  for (const auto& [name, v] : list) a.set(name, v);
  return a;
}
}  // namespace

TEST(ShapeInference, BinaryOpsBroadcastLikeNumpy) {
  Graph g;
  const ValueId a = input(g, "a", {2, 1, 5}), b = input(g, "b", {3, 1});
  EXPECT_EQ(infer(g, Op::Add, {a, b}), (Shape{2, 3, 5}));
  const ValueId scalar = g.add_constant("s", Tensor::from<float>({}, {1.f}));
  EXPECT_EQ(infer(g, Op::Mul, {a, scalar}), (Shape{2, 1, 5}));
}

TEST(ShapeInference, IncompatibleBroadcastNamesTheNode) {
  Graph g;
  const ValueId a = input(g, "a", {2, 4}), b = input(g, "b", {3});
  try {
    infer(g, Op::Sub, {a, b});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("Sub node 'node'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("2x4 and 3 cannot be broadcast"), std::string::npos) << e.what();
  }
}

TEST(ShapeInference, ConvUsesStridesPadsDilationsAndGroups) {
  Graph g;
  const ValueId x = input(g, "x", {1, 4, 17, 20});
  const ValueId w = g.add_constant("w", Tensor(DType::f32, {8, 2, 3, 3}));
  Attributes a = ints({{"strides", {2, 3}}, {"pads", {1, 0, 2, 1}}, {"dilations", {2, 1}}});
  a.set("group", int64_t{2});
  // H: (17 + 1 + 2 - 2*2 - 1) / 2 + 1 = 8; W: (20 + 0 + 1 - 2 - 1) / 3 + 1 = 7
  EXPECT_EQ(infer(g, Op::Conv, {x, w}, a), (Shape{1, 8, 8, 7}));
}

TEST(ShapeInference, ConvWithMismatchedChannelsIsAnError) {
  Graph g;
  const ValueId x = input(g, "x", {1, 3, 8, 8});
  const ValueId w = g.add_constant("w", Tensor(DType::f32, {8, 4, 3, 3}));
  EXPECT_THROW(infer(g, Op::Conv, {x, w}), Error);
}

TEST(ShapeInference, ConvTransposeAddsOutputPadding) {
  Graph g;
  const ValueId x = input(g, "x", {1, 4, 5, 6});
  const ValueId w = g.add_constant("w", Tensor(DType::f32, {4, 3, 4, 4}));
  const Attributes a = ints({{"strides", {2, 2}}, {"pads", {1, 1, 1, 1}}, {"output_padding", {1, 0}}});
  // 2*(5-1) + 1 + 4 - 2 = 11; 2*(6-1) + 0 + 4 - 2 = 12
  EXPECT_EQ(infer(g, Op::ConvTranspose, {x, w}, a), (Shape{1, 3, 11, 12}));
}

TEST(ShapeInference, PoolCeilModeRoundsUpButNeverStartsAWindowInThePadding) {
  Graph g;
  const ValueId x = input(g, "x", {1, 2, 7, 6});
  Attributes a = ints({{"kernel_shape", {2, 2}}, {"strides", {2, 2}}});
  EXPECT_EQ(infer(g, Op::MaxPool, {x}, a), (Shape{1, 2, 3, 3}));
  a.set("ceil_mode", int64_t{1});
  EXPECT_EQ(infer(g, Op::MaxPool, {x}, a), (Shape{1, 2, 4, 3}));
  // kernel 3, stride 2, pad 1 on 6: ceil((6 + 2 - 3) / 2) + 1 = 4, but window 4 would start at 6 >= 6 + 1 - 1
  Attributes p = ints({{"kernel_shape", {3, 3}}, {"strides", {2, 2}}, {"pads", {1, 1, 1, 1}}});
  p.set("ceil_mode", int64_t{1});
  EXPECT_EQ(infer(g, Op::AveragePool, {x}, p), (Shape{1, 2, 4, 4}));
  const ValueId six = input(g, "six", {1, 1, 6, 6});
  Attributes q = ints({{"kernel_shape", {2, 2}}, {"strides", {2, 2}}, {"pads", {1, 1, 1, 1}}});
  q.set("ceil_mode", int64_t{1});
  EXPECT_EQ(infer(g, Op::MaxPool, {six}, q), (Shape{1, 1, 4, 4}));  // not 5: window 5 starts at 8 >= 6 + 1
}

TEST(ShapeInference, ExplicitPadsForAutoPad) {
  EXPECT_EQ(explicit_pads({8, 7}, {3, 3}, {2, 2}, {1, 1}, "SAME_UPPER", {}), (std::vector<int64_t>{0, 1, 1, 1}));
  EXPECT_EQ(explicit_pads({8, 7}, {3, 3}, {2, 2}, {1, 1}, "SAME_LOWER", {}), (std::vector<int64_t>{1, 1, 0, 1}));
  EXPECT_EQ(explicit_pads({8, 7}, {3, 3}, {1, 1}, {2, 2}, "SAME_UPPER", {}), (std::vector<int64_t>{2, 2, 2, 2}));
  EXPECT_EQ(explicit_pads({8, 7}, {3, 3}, {1, 1}, {1, 1}, "VALID", {5, 5, 5, 5}), (std::vector<int64_t>{0, 0, 0, 0}));
  EXPECT_EQ(explicit_pads({8, 7}, {3, 3}, {1, 1}, {1, 1}, "NOTSET", {}), (std::vector<int64_t>{0, 0, 0, 0}));
  EXPECT_THROW(explicit_pads({8, 7}, {3, 3}, {1, 1}, {1, 1}, "SAME", {}), Error);
}

TEST(ShapeInference, ResizeFloorsInputTimesScale) {
  Graph g;
  const ValueId x = input(g, "x", {1, 3, 5, 7});
  Attributes a;
  a.set("scales", std::vector<float>{1, 1, 1.5f, 0.5f});
  EXPECT_EQ(infer(g, Op::Resize, {x}, a), (Shape{1, 3, 7, 3}));
}

TEST(ShapeInference, ResizeFromConstantSizesInput) {
  Graph g;
  const ValueId x = input(g, "x", {1, 3, 5, 7});
  const ValueId sizes = g.add_constant("sizes", Tensor::from<int64_t>({4}, {1, 3, 9, 4}));
  EXPECT_EQ(infer(g, Op::Resize, {x, kNoValue, kNoValue, sizes}), (Shape{1, 3, 9, 4}));
}

TEST(ShapeInference, ResizeWithoutKnownScalesIsAnError) {
  Graph g;
  const ValueId x = input(g, "x", {1, 3, 5, 7});
  const ValueId scales = input(g, "runtime_scales", {4});
  EXPECT_THROW(infer(g, Op::Resize, {x}), Error);
  EXPECT_THROW(infer(g, Op::Resize, {x, kNoValue, scales}), Error);
}

TEST(ShapeInference, ConcatSumsTheAxisAndChecksTheRest) {
  Graph g;
  const ValueId a = input(g, "a", {1, 3, 4, 4}), b = input(g, "b", {1, 5, 4, 4}), c = input(g, "c", {1, 5, 4, 3});
  Attributes axis;
  axis.set("axis", int64_t{1});
  EXPECT_EQ(infer(g, Op::Concat, {a, b}, axis), (Shape{1, 8, 4, 4}));
  EXPECT_THROW(infer(g, Op::Concat, {a, c}, axis), Error);
}

TEST(ShapeInference, PadReduceMeanAndGlobalPool) {
  Graph g;
  const ValueId x = input(g, "x", {1, 3, 5, 7});
  EXPECT_EQ(infer(g, Op::Pad, {x}, ints({{"pads", {0, 0, 1, 2, 0, 0, 3, 4}}})), (Shape{1, 3, 9, 13}));
  EXPECT_EQ(infer(g, Op::ReduceMean, {x}, ints({{"axes", {2, 3}}})), (Shape{1, 3, 1, 1}));
  Attributes drop = ints({{"axes", {-1}}});
  drop.set("keepdims", int64_t{0});
  EXPECT_EQ(infer(g, Op::ReduceMean, {x}, drop), (Shape{1, 3, 5}));
  EXPECT_EQ(infer(g, Op::GlobalAveragePool, {x}), (Shape{1, 3, 1, 1}));
}

TEST(ShapeInference, ShapeOpsWithConstantArguments) {
  Graph g;
  const ValueId x = input(g, "x", {2, 3, 4});
  EXPECT_EQ(infer(g, Op::Shape, {x}), Shape{3});
  EXPECT_EQ(g.value(g.nodes().back().outputs[0]).dtype, DType::i64);
  const ValueId target = g.add_constant("target", Tensor::from<int64_t>({3}, {0, -1, 2}));
  EXPECT_EQ(infer(g, Op::Reshape, {x, target}), (Shape{2, 6, 2}));
  const ValueId idx = g.add_constant("idx", Tensor::from<int64_t>({2, 2}, {0, 1, 1, 0}));
  Attributes axis1;
  axis1.set("axis", int64_t{1});
  EXPECT_EQ(infer(g, Op::Gather, {x, idx}, axis1), (Shape{2, 2, 2, 4}));
  EXPECT_EQ(infer(g, Op::Unsqueeze, {x}, ints({{"axes", {0, -1}}})), (Shape{1, 2, 3, 4, 1}));
  const ValueId starts = g.add_constant("starts", Tensor::from<int64_t>({2}, {-1, 1}));
  const ValueId ends = g.add_constant("ends", Tensor::from<int64_t>({2}, {INT64_MIN, 1000}));
  const ValueId axes = g.add_constant("axes", Tensor::from<int64_t>({2}, {2, 1}));
  const ValueId steps = g.add_constant("steps", Tensor::from<int64_t>({2}, {-2, 1}));
  EXPECT_EQ(infer(g, Op::Slice, {x, starts, ends, axes, steps}), (Shape{2, 2, 2}));
  const ValueId shape = g.add_constant("shape", Tensor::from<int64_t>({3}, {3, 1, 1}));
  EXPECT_THROW(infer(g, Op::Expand, {x, shape}), Error);  // 3 vs 2 in dimension 0
}
