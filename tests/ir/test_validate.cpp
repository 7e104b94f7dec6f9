// The graph validator (ir/validate.h): one refusal per rule, each naming the file, the node or value, and the rule.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>

#include "core/checked.h"
#include "ir/graph_stats.h"
#include "ir/shape_inference.h"
#include "ir/validate.h"
#include "pass_test_helpers.h"

using namespace crowdrt;
using namespace crowdrt::test;
using ir::GraphForm;

namespace {

std::string refusal(const ir::Graph& g, GraphForm form = GraphForm::optimised) {
  try {
    ir::validate_graph(g, form, "model.onnx");
  } catch (const Error& e) {
    const std::string text = e.what();
    EXPECT_EQ(text.rfind("model.onnx: ", 0), 0u) << text;
    EXPECT_EQ(text.find('\n'), std::string::npos) << text;
    return text;
  }
  ADD_FAILURE() << "the validator accepted the graph";
  return {};
}

// input 1x3x8x8 -> Conv 3x3 (4 channels) -> Relu -> output: valid in both forms.
ir::Graph conv_relu() {
  ir::Graph g;
  const ir::ValueId x = add_input(g, "input", {1, 3, 8, 8});
  const ir::ValueId c = add_conv(g, x, 4, 1, true, "conv");
  g.outputs().push_back(add_unary(g, ir::Op::Relu, c, "relu"));
  return g;
}

ir::Node& conv_node(ir::Graph& g) { return g.nodes()[0]; }

#define EXPECT_HAS(text, part) EXPECT_NE((text).find(part), std::string::npos) << (text)

}  // namespace

TEST(Validate, AcceptsAValidGraphInBothForms) {
  const ir::Graph g = conv_relu();
  EXPECT_NO_THROW(ir::validate_graph(g, GraphForm::imported, "model.onnx"));
  EXPECT_NO_THROW(ir::validate_graph(g, GraphForm::optimised, "model.onnx"));
}

TEST(Validate, AConvWithoutInputsIsRefusedNamingTheNode) {
  ir::Graph g = conv_relu();
  conv_node(g).inputs.clear();
  const std::string text = refusal(g);
  EXPECT_HAS(text, "Conv node 'conv'");
  EXPECT_HAS(text, "has 0 inputs; Conv needs 2 to 4");
}

TEST(Validate, AnOmittedRequiredInputIsRefused) {
  ir::Graph g = conv_relu();
  conv_node(g).inputs[1] = ir::kNoValue;
  EXPECT_HAS(refusal(g), "input 1 is omitted but Conv needs it");
}

TEST(Validate, AValueReadBeforeItIsProducedIsRefused) {
  ir::Graph g = conv_relu();
  std::swap(g.nodes()[0], g.nodes()[1]);
  EXPECT_HAS(refusal(g), "Relu node 'relu' (output 'relu_out'): reads 'conv_out' before any node produces it");
}

TEST(Validate, AnInputIndexOutOfRangeIsRefused) {
  ir::Graph g = conv_relu();
  g.nodes()[1].inputs[0] = 999;
  EXPECT_HAS(refusal(g), "input 0 names value index 999, which does not exist");
}

TEST(Validate, AValueWrittenTwiceIsRefused) {
  ir::Graph g = conv_relu();
  g.nodes()[1].outputs[0] = g.nodes()[0].outputs[0];
  EXPECT_HAS(refusal(g), "writes 'conv_out', which already has a value");
}

TEST(Validate, AGraphOutputNobodyProducesIsRefused) {
  ir::Graph g = conv_relu();
  g.outputs()[0] = g.add_value("orphan", DType::f32, {1}, true);
  EXPECT_HAS(refusal(g), "graph output 'orphan' is never produced");
}

TEST(Validate, StrideZeroIsRefusedAsAStrideNotAsAKernelTooLarge) {
  ir::Graph g = conv_relu();
  conv_node(g).attrs.set("strides", std::vector<int64_t>{0, 1});
  const std::string text = refusal(g);
  EXPECT_HAS(text, "strides [0, 1] holds 0; each must be >= 1");
  EXPECT_EQ(text.find("kernel is larger"), std::string::npos) << text;
}

TEST(Validate, DilationZeroKernelZeroAndNegativePadsAreRefused) {
  ir::Graph g = conv_relu();
  conv_node(g).attrs.set("dilations", std::vector<int64_t>{1, 0});
  EXPECT_HAS(refusal(g), "dilations [1, 0] holds 0; each must be >= 1");
  g = conv_relu();
  conv_node(g).attrs.set("kernel_shape", std::vector<int64_t>{0, 3});
  EXPECT_HAS(refusal(g), "kernel_shape [0, 3] holds 0; each must be >= 1");
  g = conv_relu();
  conv_node(g).attrs.set("pads", std::vector<int64_t>{1, -1, 1, 1});
  EXPECT_HAS(refusal(g), "pads [1, -1, 1, 1] holds -1; each must be >= 0");
}

TEST(Validate, AGroupThatDoesNotDivideTheChannelsIsRefused) {
  ir::Graph g = conv_relu();
  conv_node(g).attrs.set("group", int64_t{3});
  EXPECT_HAS(refusal(g), "group 3 does not divide the 4 output channels");
  conv_node(g).attrs.set("group", int64_t{0});
  EXPECT_HAS(refusal(g), "group 0 must be >= 1");
}

TEST(Validate, AnAxisOutsideTheRankIsRefused) {
  ir::Graph g;
  const ir::ValueId x = add_input(g, "input", {1, 3, 8, 8});
  const ir::ValueId y = g.add_value("cat", DType::f32, {2, 3, 8, 8}, true);
  ir::Attributes a;
  a.set("axis", int64_t{4});
  g.add_node(ir::Op::Concat, "concat", {x, x}, {y}, a);
  g.outputs().push_back(y);
  EXPECT_HAS(refusal(g), "axis 4 is outside the input's rank 4");
}

TEST(Validate, ResizeScalesMustBeFiniteAndPositive) {
  for (float scale : {0.f, -2.f, std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN()}) {
    ir::Graph g;
    const ir::ValueId x = add_input(g, "input", {1, 3, 8, 8});
    const ir::ValueId y = g.add_value("up", DType::f32, {1, 3, 16, 16}, true);
    ir::Attributes a;
    a.set("mode", std::string("nearest"));
    a.set("scales", std::vector<float>{1.f, 1.f, scale, 2.f});
    g.add_node(ir::Op::Resize, "resize", {x}, {y}, a);
    g.outputs().push_back(y);
    EXPECT_HAS(refusal(g), "in its scales attribute is not a finite positive number");
  }
}

TEST(Validate, ActivationParametersMustBeFiniteAndClipOrdered) {
  ir::Graph g;
  const ir::ValueId x = add_input(g, "input", {1, 3, 8, 8});
  ir::Attributes clip;
  clip.set("min", 6.f);
  clip.set("max", 0.f);
  g.outputs().push_back(add_unary(g, ir::Op::Clip, x, "clip", clip));
  EXPECT_HAS(refusal(g), "min 6 and max 0 do not bound a range");
  ir::Graph h;
  const ir::ValueId hx = add_input(h, "input", {1, 3, 8, 8});
  ir::Attributes leaky;
  leaky.set("alpha", std::numeric_limits<float>::infinity());
  h.outputs().push_back(add_unary(h, ir::Op::LeakyRelu, hx, "leaky", leaky));
  EXPECT_HAS(refusal(h), "alpha is not finite");
}

TEST(Validate, AnAttributeOfTheWrongTypeIsRefusedNamingTheNode) {
  ir::Graph g = conv_relu();
  conv_node(g).attrs.set("strides", int64_t{1});
  EXPECT_HAS(refusal(g), "Conv node 'conv' (output 'conv_out'): attribute 'strides' is not of type ints");
}

TEST(Validate, AnElementCountOverflowing64BitsIsRefused) {
  // The probe: an input of 2^40 x 5 x 2^40 x 2^40 (oneDNN died of SIGFPE on it).
  ir::Graph g;
  const int64_t big = int64_t{1} << 40;
  const ir::ValueId x = add_input(g, "input", {big, 5, big, big});
  g.outputs().push_back(add_unary(g, ir::Op::Relu, x, "relu"));
  EXPECT_HAS(refusal(g, GraphForm::imported), "value 'input': shape 1099511627776x5x1099511627776x1099511627776 has "
                                              "more elements than 64 bits count");
}

TEST(Validate, ATensorOverTheSizeLimitIsRefusedSayingTheLimit) {
  ir::Graph g;
  const ir::ValueId x = add_input(g, "input", {1, 5, 1 << 20, 1 << 20});  // 20 TiB of f32
  g.outputs().push_back(add_unary(g, ir::Op::Relu, x, "relu"));
  const std::string text = refusal(g, GraphForm::imported);
  EXPECT_HAS(text, "value 'input': 5497558138880 elements of 4 bytes is more than the 16 GiB crowdrt allows");
}

TEST(Validate, AGraphInputWithAZeroDimensionIsRefused) {
  ir::Graph g;
  const ir::ValueId x = add_input(g, "input", {1, 5, 0, 8});
  g.outputs().push_back(add_unary(g, ir::Op::Relu, x, "relu"));
  EXPECT_HAS(refusal(g, GraphForm::imported), "graph input 'input' has shape 1x5x0x8; every dimension must be >= 1");
}

TEST(Validate, AConstantWhoseDataDiffersFromItsDeclaredShapeIsRefused) {
  ir::Graph g = conv_relu();
  g.value(conv_node(g).inputs[1]).shape = {4, 3, 3, 4};
  EXPECT_HAS(refusal(g), "constant 'conv.weight' is declared f32 4x3x3x4 but holds f32 4x3x3x3");
}

TEST(Validate, AnOptimisedGraphStoringAnotherShapeThanItsInputsGiveIsRefused) {
  ir::Graph g = conv_relu();
  g.value(g.outputs()[0]).shape = {1, 4, 9, 9};
  EXPECT_HAS(refusal(g), "stores output f32 1x4x9x9 but its inputs give f32 1x4x8x8");
}

TEST(Validate, AnOptimisedGraphHoldsNoShapeOperators) {
  ir::Graph g;
  const ir::ValueId x = add_input(g, "input", {1, 3, 8, 8});
  const ir::ValueId s = g.add_value("shape", DType::i64, {4}, true);
  g.add_node(ir::Op::Shape, "shape", {x}, {s});
  g.outputs().push_back(s);
  EXPECT_HAS(refusal(g), "is a shape operator, which an optimised graph no longer holds");
  EXPECT_NO_THROW(ir::validate_graph(g, GraphForm::imported, "model.onnx"));
}

TEST(Validate, ShapeInferenceRefusesSizesOverTheLimitBeforeAllocating) {
  // Resize to sizes 2^40 x 2^40 (the probe ran for 188 s past 5.8 GB): refused at shape inference.
  // 2^40 x 2^40 overflows the element count; 2^20 x 2^20 (4 TiB of f32) is over the limit.
  const std::pair<int64_t, const char*> cases[] = {
      {int64_t{1} << 40, "output 1x1x1099511627776x1099511627776: shape 1x1x1099511627776x1099511627776 has more "
                         "elements than 64 bits count"},
      {int64_t{1} << 20, "output 1x1x1048576x1048576: 1099511627776 elements of 4 bytes is more than the 16 GiB "
                         "crowdrt allows for one tensor"}};
  for (const auto& [side, expected] : cases) {
    ir::Graph g;
    const ir::ValueId x = add_input(g, "input", {1, 1, 4, 4});
    const ir::ValueId sizes = g.add_constant("sizes", Tensor::from<int64_t>({4}, {1, 1, side, side}));
    const ir::ValueId y = g.add_value("up");
    ir::Attributes a;
    a.set("mode", std::string("nearest"));
    g.add_node(ir::Op::Resize, "resize", {x, ir::kNoValue, ir::kNoValue, sizes}, {y}, a);
    g.outputs().push_back(y);
    try {
      ir::infer_shapes(g);
      ADD_FAILURE() << "no Error";
    } catch (const Error& e) {
      EXPECT_HAS(std::string(e.what()), cat("Resize node 'resize' (output 'up'): ", expected));
    }
  }
}

TEST(Validate, ShapeArithmeticThatOverflowsIsAnErrorNotUndefinedBehaviour) {
  ir::Graph g = conv_relu();
  conv_node(g).attrs.set("pads", std::vector<int64_t>{std::numeric_limits<int64_t>::max(), 1, 1, 1});
  EXPECT_THROW(ir::infer_node_shapes(g, conv_node(g)), Error);
  EXPECT_THROW(checked_mul(int64_t{1} << 40, int64_t{1} << 40, "x"), Error);
  EXPECT_THROW(checked_add(std::numeric_limits<int64_t>::max(), 1, "x"), Error);
  EXPECT_EQ(checked_mul(-3, 4, "x"), -12);
}

TEST(Validate, MacsOfAConvWithoutInputsAreZeroNotACrash) {
  ir::Graph g = conv_relu();
  conv_node(g).inputs.clear();
  EXPECT_EQ(ir::node_macs(g, conv_node(g)), 0);
}

TEST(Validate, UnknownNodeNamesAreRefusedListingTheNearest) {
  const ir::Graph g = conv_relu();
  EXPECT_NO_THROW(ir::check_node_names(g, {"conv"}, "--keep-fp32"));
  try {
    ir::check_node_names(g, {"conv", "comv"}, "--keep-fp32");
    ADD_FAILURE() << "no Error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "--keep-fp32 names 'comv', which is not a node of the model; the nearest node names are "
                           "'conv', 'relu' (`crowdrt inspect PLAN` lists them)");
  }
}
