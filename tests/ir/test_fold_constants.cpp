#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <tuple>

#include "ir/passes/passes.h"

using namespace crowdrt;
using namespace crowdrt::ir;

namespace {
ValueId input(Graph& g, const std::string& name, Shape shape) {
  const ValueId v = g.add_value(name, DType::f32, std::move(shape), true);
  g.inputs().push_back(v);
  return v;
}

ValueId node(Graph& g, Op op, std::vector<ValueId> inputs, const std::string& out, Attributes attrs = {}) {
  const ValueId v = g.add_value(out);
  g.add_node(op, out + "_node", std::move(inputs), {v}, std::move(attrs));
  return v;
}

ValueId ints(Graph& g, const std::string& name, Shape shape, std::initializer_list<int64_t> v) {
  return g.add_constant(name, Tensor::from<int64_t>(std::move(shape), v));
}

Attributes attr(const std::string& name, Attr value) {
  Attributes a;
  a.set(name, std::move(value));
  return a;
}

const Node& only(const Graph& g, Op op) {
  const Node* found = nullptr;
  for (const Node& n : g.nodes())
    if (n.op == op) found = &n;
  if (!found) throw Error(cat("no ", op_name(op)));
  return *found;
}
}  // namespace

// The subgraph PyTorch 1.13 exports for F.interpolate(x, scale_factor=2) at opset 11.
TEST(FoldConstants, InterpolateShapeArithmeticFoldsIntoResizeScales1122) {
  Graph g;
  const ValueId x = input(g, "input", {1, 16, 9, 14});
  const ValueId relu = node(g, Op::Relu, {x}, "relu");
  const ValueId shape = node(g, Op::Shape, {relu}, "shape");
  std::vector<ValueId> sizes_parts;
  const ValueId starts = ints(g, "starts", {1}, {0}), ends = ints(g, "ends", {1}, {2}),
                axis0 = ints(g, "axis0", {1}, {0});
  sizes_parts.push_back(node(g, Op::Slice, {shape, starts, ends, axis0}, "batch_channels"));
  const ValueId factor = g.add_constant("factor", Tensor::from<float>({}, {2.f}));
  for (int64_t dim : {2, 3}) {
    const std::string d = std::to_string(dim);
    const ValueId index = g.add_constant("index" + d, Tensor::from<int64_t>({}, {dim}));
    const ValueId gathered = node(g, Op::Gather, {shape, index}, "gather" + d, attr("axis", int64_t{0}));
    const ValueId as_float = node(g, Op::Cast, {gathered}, "cast" + d, attr("to", int64_t{1}));
    const ValueId scaled = node(g, Op::Mul, {as_float, factor}, "mul" + d);
    const ValueId floored = node(g, Op::Floor, {scaled}, "floor" + d);
    const ValueId as_int = node(g, Op::Cast, {floored}, "int" + d, attr("to", int64_t{7}));
    sizes_parts.push_back(node(g, Op::Unsqueeze, {as_int}, "unsqueeze" + d, attr("axes", std::vector<int64_t>{0})));
  }
  const ValueId sizes = node(g, Op::Concat, sizes_parts, "sizes", attr("axis", int64_t{0}));
  Attributes modes;
  modes.set("mode", std::string("nearest"));
  modes.set("coordinate_transformation_mode", std::string("asymmetric"));
  modes.set("nearest_mode", std::string("floor"));
  g.outputs().push_back(node(g, Op::Resize, {relu, kNoValue, kNoValue, sizes}, "output", modes));

  const Graph folded = fold_constants(g);
  ASSERT_EQ(folded.nodes().size(), 2u);
  EXPECT_EQ(folded.nodes()[0].op, Op::Relu);
  const Node& resize = folded.nodes()[1];
  EXPECT_EQ(resize.op, Op::Resize);
  EXPECT_EQ(resize.inputs, std::vector<ValueId>{relu});
  EXPECT_EQ(resize.attrs.floats("scales"), (std::vector<float>{1, 1, 2, 2}));
  EXPECT_EQ(resize.attrs.s("nearest_mode"), "floor");
  EXPECT_EQ(folded.value(folded.outputs()[0]).shape, (Shape{1, 16, 18, 28}));
  EXPECT_EQ(folded.value(folded.outputs()[0]).name, "output");
}

TEST(FoldConstants, FoldedValuesKeepTheirNamesAndBecomeConstants) {
  Graph g;
  const ValueId x = input(g, "x", {2, 3});
  const ValueId shape = node(g, Op::Shape, {x}, "the_shape");
  const ValueId zeros = node(g, Op::ConstantOfShape, {shape}, "zeros", attr("dtype", int64_t{1}));
  g.outputs().push_back(node(g, Op::Add, {x, zeros}, "y"));
  const Graph folded = fold_constants(g);
  const ValueId z = folded.find_value("zeros");
  ASSERT_TRUE(folded.value(z).is_constant());
  EXPECT_EQ(folded.constant(z).shape(), (Shape{2, 3}));
  EXPECT_EQ(folded.constant(z).to_float(), std::vector<float>(6, 0.f));
  EXPECT_EQ(only(folded, Op::Add).inputs[1], z);
}

TEST(FoldConstants, IntegerAndFloatArithmeticBroadcasts) {
  Graph g;
  const ValueId x = input(g, "x", {1});
  const ValueId a = ints(g, "a", {2, 1}, {10, 20});
  const ValueId b = ints(g, "b", {3}, {1, 2, 3});
  const ValueId sum = node(g, Op::Add, {a, b}, "sum");
  const ValueId quotient = node(g, Op::Div, {sum, ints(g, "two", {}, {2})}, "quotient");
  const ValueId f = g.add_constant("f", Tensor::from<float>({3}, {1.5f, -1.5f, 4.f}));
  const ValueId root = node(g, Op::Sqrt, {node(g, Op::Ceil, {node(g, Op::Neg, {f}, "neg")}, "ceil")}, "root");
  const ValueId equal = node(g, Op::Equal, {quotient, ints(g, "six", {}, {6})}, "equal");
  const ValueId chosen = node(g, Op::Where, {equal, quotient, ints(g, "minus", {}, {-1})}, "chosen");
  for (ValueId v : {root, chosen})
    g.outputs().push_back(node(g, Op::Add, {x, node(g, Op::Cast, {v}, g.value(v).name + "_f", attr("to", int64_t{1}))},
                               g.value(v).name + "_out"));
  const Graph folded = fold_constants(g);
  EXPECT_EQ(folded.constant(folded.find_value("quotient")).to_int64(), (std::vector<int64_t>{5, 6, 6, 10, 11, 11}));
  EXPECT_EQ(folded.constant(folded.find_value("chosen")).to_int64(), (std::vector<int64_t>{-1, 6, 6, -1, -1, -1}));
  const std::vector<float> roots = folded.constant(folded.find_value("root")).to_float();
  EXPECT_TRUE(std::isnan(roots[0]));  // sqrt(ceil(-1.5)) = sqrt(-1)
  EXPECT_FLOAT_EQ(roots[1], std::sqrt(2.f));
  EXPECT_EQ(folded.constant(folded.find_value("equal")).dtype(), DType::boolean);
}

TEST(FoldConstants, GatherSliceReshapeExpandAndRange) {
  Graph g;
  const ValueId x = input(g, "x", {1});
  const ValueId data = g.add_constant("data", Tensor::from<int64_t>({2, 3}, {0, 1, 2, 3, 4, 5}));
  const ValueId gathered =
      node(g, Op::Gather, {data, ints(g, "i", {2}, {-1, 0})}, "gathered", attr("axis", int64_t{1}));
  const ValueId sliced = node(g, Op::Slice, {data, ints(g, "st", {1}, {-1}), ints(g, "en", {1}, {INT64_MIN}),
                                             ints(g, "ax", {1}, {1}), ints(g, "sp", {1}, {-2})}, "sliced");
  const ValueId reshaped = node(g, Op::Reshape, {data, ints(g, "shape", {2}, {3, -1})}, "reshaped");
  const ValueId expanded =
      node(g, Op::Expand, {ints(g, "col", {2, 1}, {7, 8}), ints(g, "to", {2}, {2, 3})}, "expanded");
  const ValueId range =
      node(g, Op::Range, {ints(g, "r0", {}, {1}), ints(g, "r1", {}, {8}), ints(g, "r2", {}, {3})}, "range");
  for (ValueId v : {gathered, sliced, reshaped, expanded, range})
    g.outputs().push_back(node(g, Op::Add, {x, node(g, Op::Cast, {v}, g.value(v).name + "_f", attr("to", int64_t{1}))},
                               g.value(v).name + "_out"));
  const Graph folded = fold_constants(g);
  auto values = [&](const char* name) { return folded.constant(folded.find_value(name)).to_int64(); };
  EXPECT_EQ(values("gathered"), (std::vector<int64_t>{2, 0, 5, 3}));
  EXPECT_EQ(values("sliced"), (std::vector<int64_t>{2, 0, 5, 3}));
  EXPECT_EQ(folded.constant(folded.find_value("reshaped")).shape(), (Shape{3, 2}));
  EXPECT_EQ(values("expanded"), (std::vector<int64_t>{7, 7, 7, 8, 8, 8}));
  EXPECT_EQ(values("range"), (std::vector<int64_t>{1, 4, 7}));
}

TEST(FoldConstants, ClipInputsBecomeMinMaxAttributesWithInfinityWhenAbsent) {
  Graph g;
  const ValueId x = input(g, "x", {1, 2, 3, 3});
  const ValueId lo = g.add_constant("lo", Tensor::from<float>({}, {-2.f}));
  g.outputs().push_back(node(g, Op::Clip, {x, lo}, "y"));
  const Graph folded = fold_constants(g);
  const Node& clip = only(folded, Op::Clip);
  EXPECT_EQ(clip.inputs.size(), 1u);
  EXPECT_EQ(clip.attrs.f("min"), -2.f);
  EXPECT_EQ(clip.attrs.f("max"), std::numeric_limits<float>::infinity());
}

TEST(FoldConstants, ConvAndPoolsGetEveryCanonicalAttribute) {
  Graph g;
  const ValueId x = input(g, "x", {1, 3, 8, 8});
  const ValueId w = g.add_constant("w", Tensor(DType::f32, {4, 3, 3, 3}));
  const ValueId c = node(g, Op::Conv, {x, w}, "conv", attr("auto_pad", std::string("SAME_UPPER")));
  Attributes pool = attr("kernel_shape", std::vector<int64_t>{2, 2});
  pool.set("strides", std::vector<int64_t>{2, 2});
  g.outputs().push_back(node(g, Op::MaxPool, {c}, "pool", pool));
  const Graph folded = fold_constants(g);
  const Node& conv = only(folded, Op::Conv);
  EXPECT_EQ(conv.attrs.ints("kernel_shape"), (std::vector<int64_t>{3, 3}));
  EXPECT_EQ(conv.attrs.ints("strides"), (std::vector<int64_t>{1, 1}));
  EXPECT_EQ(conv.attrs.ints("pads"), (std::vector<int64_t>{1, 1, 1, 1}));
  EXPECT_EQ(conv.attrs.ints("dilations"), (std::vector<int64_t>{1, 1}));
  EXPECT_EQ(conv.attrs.i("group", -1), 1);
  EXPECT_FALSE(conv.attrs.has("auto_pad"));
  const Node& max = only(folded, Op::MaxPool);
  EXPECT_EQ(max.attrs.ints("pads"), (std::vector<int64_t>{0, 0, 0, 0}));
  EXPECT_EQ(max.attrs.ints("dilations"), (std::vector<int64_t>{1, 1}));
  EXPECT_EQ(max.attrs.i("ceil_mode", -1), 0);
  EXPECT_EQ(folded.value(folded.outputs()[0]).shape, (Shape{1, 4, 4, 4}));
}

TEST(FoldConstants, ConvTransposeOutputShapeBecomesPads) {
  Graph g;
  const ValueId x = input(g, "x", {1, 2, 4, 4});
  const ValueId w = g.add_constant("w", Tensor(DType::f32, {2, 3, 3, 3}));
  Attributes a = attr("output_shape", std::vector<int64_t>{8, 9});
  a.set("strides", std::vector<int64_t>{2, 2});
  g.outputs().push_back(node(g, Op::ConvTranspose, {x, w}, "y", a));
  const Graph folded = fold_constants(g);
  const Node& t = only(folded, Op::ConvTranspose);
  // total padding 2*3 + 3 - 8 = 1 (H) → begin 1, end 0; 2*3 + 3 - 9 = 0 (W)
  EXPECT_EQ(t.attrs.ints("pads"), (std::vector<int64_t>{1, 0, 0, 0}));
  EXPECT_EQ(t.attrs.ints("output_padding"), (std::vector<int64_t>{0, 0}));
  EXPECT_FALSE(t.attrs.has("output_shape"));
  EXPECT_EQ(folded.value(folded.outputs()[0]).shape, (Shape{1, 3, 8, 9}));
}

TEST(FoldConstants, PadWithOpset18AxesExpandsToEveryDimension) {
  Graph g;
  const ValueId x = input(g, "x", {1, 2, 5, 5});
  const ValueId pads = ints(g, "pads", {4}, {1, 2, 3, 4});
  const ValueId axes = ints(g, "axes", {2}, {-1, 2});
  g.outputs().push_back(node(g, Op::Pad, {x, pads, kNoValue, axes}, "y", attr("mode", std::string("reflect"))));
  const Graph folded = fold_constants(g);
  const Node& pad = only(folded, Op::Pad);
  EXPECT_EQ(pad.attrs.ints("pads"), (std::vector<int64_t>{0, 0, 2, 1, 0, 0, 4, 3}));
  EXPECT_EQ(pad.attrs.f("value", -1.f), 0.f);
  EXPECT_EQ(folded.value(folded.outputs()[0]).shape, (Shape{1, 2, 11, 9}));
}

TEST(FoldConstants, IdentityOfAWeightSharesItAndDeadShapeOpsVanish) {
  Graph g;
  const ValueId x = input(g, "x", {1, 3, 4, 4});
  const ValueId w = g.add_constant("w", Tensor(DType::f32, {2, 3, 1, 1}));
  const ValueId shared = node(g, Op::Identity, {w}, "shared_weight");
  node(g, Op::Shape, {node(g, Op::Relu, {x}, "unused_relu")}, "unused_shape");
  g.outputs().push_back(node(g, Op::Conv, {x, shared}, "y"));
  const Graph folded = fold_constants(g);
  EXPECT_EQ(folded.nodes().size(), 1u);
  EXPECT_EQ(folded.value(folded.find_value("shared_weight")).data, folded.value(w).data);
  EXPECT_NO_THROW(folded.validate());
}

TEST(FoldConstants, AShapeOpOnRunTimeDataIsAnErrorNamingTheNode) {
  Graph g;
  const ValueId x = input(g, "x", {1, 3, 4, 4});
  g.outputs().push_back(node(g, Op::Unsqueeze, {x}, "expanded", attr("axes", std::vector<int64_t>{0})));
  try {
    fold_constants(g);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("Unsqueeze node 'expanded_node'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("depends on 'x'"), std::string::npos) << e.what();
  }
}

// Found by fuzz_onnx_import (issue 18): 8 x (2^62 + 4) in shape arithmetic was a signed overflow (undefined
// behaviour); integer Add, Sub, Mul, Div and Range are checked and an overflow is an Error naming the node.
TEST(FoldConstants, IntegerShapeArithmeticThatOverflowsIsAnErrorNamingTheNode) {
  const int64_t big = (int64_t{1} << 62) + 4, low = std::numeric_limits<int64_t>::min();
  const std::tuple<Op, int64_t, int64_t> cases[] = {
      {Op::Mul, 8, big}, {Op::Add, big, big}, {Op::Sub, -big, big}, {Op::Sub, 0, low}, {Op::Div, low, -1}};
  for (const auto& [op, a, b] : cases) {
    Graph g;
    const ValueId x = input(g, "x", {1, 4});
    const ValueId y = node(g, op, {ints(g, "a", {1}, {a}), ints(g, "b", {1}, {b})}, "y");
    g.outputs() = {node(g, Op::Add, {x, node(g, Op::Cast, {y}, "f", attr("to", int64_t{1}))}, "out")};
    try {
      fold_constants(std::move(g));
      ADD_FAILURE() << op_name(op) << " " << a << " " << b << " folded";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(cat(op_name(op), " node 'y_node'")), std::string::npos) << e.what();
    }
  }
}
