// Reference kernels on cases small enough to compute by hand; these need no Python.
#include <gtest/gtest.h>

#include "reference_op_runner.h"

namespace crowdrt {
namespace {

using test::run_op;
using ir::Op;

std::vector<float> values(const Tensor& t) { return {t.span<float>().begin(), t.span<float>().end()}; }

Tensor one_to_nine() { return Tensor::from<float>({1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9}); }

ir::Attributes conv_attrs(int64_t k, int64_t pad, int64_t stride = 1) {
  ir::Attributes a;
  a.set("kernel_shape", std::vector<int64_t>{k, k});
  a.set("strides", std::vector<int64_t>{stride, stride});
  a.set("pads", std::vector<int64_t>{pad, pad, pad, pad});
  a.set("dilations", std::vector<int64_t>{1, 1});
  a.set("group", int64_t{1});
  return a;
}

TEST(ReferenceConv, OnesKernelSumsEachPaddedNeighbourhoodPlusBias) {
  const Tensor w = Tensor::from<float>({1, 1, 3, 3}, std::vector<float>(9, 1.f));
  const Tensor b = Tensor::from<float>({1}, {1.f});
  const Tensor y = run_op(Op::Conv, conv_attrs(3, 1), {one_to_nine(), w, b}, {1, 1, 3, 3});
  EXPECT_EQ(values(y), (std::vector<float>{13, 22, 17, 28, 46, 34, 25, 40, 29}));
}

TEST(ReferenceConv, IsCrossCorrelationNotFlipped) {
  // A single tap right of centre reads the right neighbour (a flipped kernel would read the left one).
  const Tensor w = Tensor::from<float>({1, 1, 3, 3}, {0, 0, 0, 0, 0, 1, 0, 0, 0});
  const Tensor y = run_op(Op::Conv, conv_attrs(3, 1), {one_to_nine(), w, std::nullopt}, {1, 1, 3, 3});
  EXPECT_EQ(values(y), (std::vector<float>{2, 3, 0, 5, 6, 0, 8, 9, 0}));
}

TEST(ReferenceConv, StrideTwoWithoutPaddingSkipsPositions) {
  const Tensor w = Tensor::from<float>({1, 1, 1, 1}, {2.f});
  const Tensor y = run_op(Op::Conv, conv_attrs(1, 0, 2), {one_to_nine(), w}, {1, 1, 2, 2});
  EXPECT_EQ(values(y), (std::vector<float>{2, 6, 14, 18}));
}

TEST(ReferenceConv, EpilogueIsActivationOfConvPlusBiasPlusResidual) {
  // y = relu(x - 3 + 1): activation after the residual gives {0, 0, 1, 0}; relu(x - 3) + 1 would give all ones.
  const Tensor x = Tensor::from<float>({1, 1, 1, 4}, {1, 2, 3, 0.5f});
  const Tensor w = Tensor::from<float>({1, 1, 1, 1}, {1.f});
  const Tensor b = Tensor::from<float>({1}, {-3.f});
  const Tensor residual = Tensor::from<float>({1, 1, 1, 4}, {1, 1, 1, 1});
  ir::Attributes a = conv_attrs(1, 0);
  a.set("fused_add", int64_t{1});
  a.set("activation", std::string("relu"));
  a.set("alpha", 0.f);
  a.set("beta", 0.f);
  EXPECT_EQ(values(run_op(Op::Conv, a, {x, w, b, residual}, {1, 1, 1, 4})), (std::vector<float>{0, 0, 1, 0}));
  // Clip bounds come from alpha (min) and beta (max).
  a.set("activation", std::string("clip"));
  a.set("alpha", -0.75f);
  a.set("beta", 0.5f);
  EXPECT_EQ(values(run_op(Op::Conv, a, {x, w, b, residual}, {1, 1, 1, 4})),
            (std::vector<float>{-0.75f, 0, 0.5f, -0.75f}));
  // Residual without bias: inputs[2] omitted.
  EXPECT_EQ(values(run_op(Op::Conv, a, {x, w, std::nullopt, residual}, {1, 1, 1, 4})),
            (std::vector<float>{0.5f, 0.5f, 0.5f, 0.5f}));
}

TEST(ReferenceConv, FusedAddWithoutResidualInputIsAnErrorNamingTheNode) {
  ir::Attributes a = conv_attrs(1, 0);
  a.set("fused_add", int64_t{1});
  const Tensor w = Tensor::from<float>({1, 1, 1, 1}, {1.f});
  try {
    run_op(Op::Conv, a, {one_to_nine(), w}, {1, 1, 3, 3});
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("test_Conv"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("residual"), std::string::npos) << e.what();
  }
}

TEST(ReferenceConv, UnknownFusedActivationIsAnError) {
  ir::Attributes a = conv_attrs(1, 0);
  a.set("activation", std::string("gelu"));
  const Tensor w = Tensor::from<float>({1, 1, 1, 1}, {1.f});
  EXPECT_THROW(run_op(Op::Conv, a, {one_to_nine(), w}, {1, 1, 3, 3}), Error);
}

TEST(ReferenceConv, WrongOutputShapeIsAnError) {
  const Tensor w = Tensor::from<float>({1, 1, 3, 3}, std::vector<float>(9, 1.f));
  EXPECT_THROW(run_op(Op::Conv, conv_attrs(3, 0), {one_to_nine(), w}, {1, 1, 3, 3}), Error);  // computes 1x1x1x1
}

TEST(ReferenceConvTranspose, StrideTwoCopiesEachInputIntoABlockAndOutputPaddingAddsARow) {
  const Tensor x = Tensor::from<float>({1, 1, 2, 2}, {1, 2, 3, 4});
  const Tensor w = Tensor::from<float>({1, 1, 2, 2}, {1, 1, 1, 1});
  ir::Attributes a = conv_attrs(2, 0, 2);
  a.set("output_padding", std::vector<int64_t>{1, 0});
  const Tensor y = run_op(Op::ConvTranspose, a, {x, w}, {1, 1, 5, 4});
  EXPECT_EQ(values(y), (std::vector<float>{1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4, 0, 0, 0, 0}));
}

TEST(ReferenceMaxPool, CeilModeDropsTheWindowThatStartsInThePadding) {
  // 3x3 input, kernel 2, stride 2, pad 1: ceil gives 3 windows per axis, but the third starts at 3 = the
  // first padded column, so it is dropped (ONNX, PyTorch): 2x2 output.
  ir::Attributes a = conv_attrs(2, 1, 2);
  a.set("ceil_mode", int64_t{1});
  EXPECT_EQ(values(run_op(Op::MaxPool, a, {one_to_nine()}, {1, 1, 2, 2})), (std::vector<float>{1, 3, 7, 9}));
  EXPECT_THROW(run_op(Op::MaxPool, a, {one_to_nine()}, {1, 1, 3, 3}), Error);
}

TEST(ReferenceMaxPool, CeilModeKeepsAPartialWindowInsideTheInput) {
  ir::Attributes a = conv_attrs(2, 0, 2);
  a.set("ceil_mode", int64_t{1});
  EXPECT_EQ(values(run_op(Op::MaxPool, a, {one_to_nine()}, {1, 1, 2, 2})), (std::vector<float>{5, 6, 8, 9}));
  a.set("ceil_mode", int64_t{0});
  EXPECT_EQ(values(run_op(Op::MaxPool, a, {one_to_nine()}, {1, 1, 1, 1})), (std::vector<float>{5}));
}

TEST(ReferenceAveragePool, CeilModeWindowPastTheInputDividesByWhatItCovers) {
  ir::Attributes a = conv_attrs(2, 0, 2);
  a.erase("dilations");
  a.set("ceil_mode", int64_t{1});
  a.set("count_include_pad", int64_t{1});
  EXPECT_EQ(values(run_op(Op::AveragePool, a, {one_to_nine()}, {1, 1, 2, 2})),
            (std::vector<float>{3, 4.5f, 7.5f, 9}));
}

TEST(ReferenceAveragePool, CountIncludePadDecidesTheDivisorAtTheBorder) {
  ir::Attributes a = conv_attrs(3, 1, 1);
  a.erase("dilations");
  a.set("ceil_mode", int64_t{0});
  const Tensor ones = Tensor::from<float>({1, 1, 2, 2}, {1, 1, 1, 1});
  a.set("count_include_pad", int64_t{1});
  EXPECT_EQ(values(run_op(Op::AveragePool, a, {ones}, {1, 1, 2, 2})), std::vector<float>(4, 4.f / 9.f));
  a.set("count_include_pad", int64_t{0});
  EXPECT_EQ(values(run_op(Op::AveragePool, a, {ones}, {1, 1, 2, 2})), std::vector<float>(4, 1.f));
}

ir::Attributes resize_attrs(std::vector<float> scales, const std::string& mode, const std::string& transform,
                            const std::string& nearest_mode = "round_prefer_floor") {
  ir::Attributes a;
  a.set("scales", std::move(scales));
  a.set("mode", mode);
  a.set("coordinate_transformation_mode", transform);
  a.set("nearest_mode", nearest_mode);
  return a;
}

TEST(ReferenceResize, PytorchHalfPixelMapsASingleOutputToZero) {
  const Tensor x = Tensor::from<float>({1, 1, 2, 4}, {0, 1, 2, 3, 4, 5, 6, 7});
  EXPECT_EQ(values(run_op(Op::Resize, resize_attrs({1, 1, 1, 0.25f}, "linear", "pytorch_half_pixel"), {x},
                          {1, 1, 2, 1})),
            (std::vector<float>{0, 4}));
  // half_pixel maps it to the centre: (0 + 0.5) / 0.25 - 0.5 = 1.5.
  EXPECT_EQ(values(run_op(Op::Resize, resize_attrs({1, 1, 1, 0.25f}, "linear", "half_pixel"), {x}, {1, 1, 2, 1})),
            (std::vector<float>{1.5f, 5.5f}));
}

TEST(ReferenceResize, LinearAsymmetricClampsAtTheLastInput) {
  const Tensor x = Tensor::from<float>({1, 1, 1, 3}, {0, 10, 20});
  EXPECT_EQ(values(run_op(Op::Resize, resize_attrs({1, 1, 1, 2}, "linear", "asymmetric"), {x}, {1, 1, 1, 6})),
            (std::vector<float>{0, 5, 10, 15, 20, 20}));
}

TEST(ReferenceResize, NearestModesBreakTiesDifferently) {
  // Downscale by 2 with half_pixel: output o maps to 2o + 0.5, a tie between 2o and 2o + 1.
  const Tensor x = Tensor::from<float>({1, 1, 1, 4}, {10, 11, 12, 13});
  const auto run = [&](const std::string& mode) {
    return values(run_op(Op::Resize, resize_attrs({1, 1, 1, 0.5f}, "nearest", "half_pixel", mode), {x}, {1, 1, 1, 2}));
  };
  EXPECT_EQ(run("round_prefer_floor"), (std::vector<float>{10, 12}));
  EXPECT_EQ(run("round_prefer_ceil"), (std::vector<float>{11, 13}));
  EXPECT_EQ(run("floor"), (std::vector<float>{10, 12}));
  EXPECT_EQ(run("ceil"), (std::vector<float>{11, 13}));
  EXPECT_THROW(run("round_half_even"), Error);
}

TEST(ReferenceResize, NearestCopiesInfinityUnchanged) {
  const float inf = std::numeric_limits<float>::infinity();
  const Tensor x = Tensor::from<float>({1, 1, 1, 2}, {inf, -inf});
  EXPECT_EQ(values(run_op(Op::Resize, resize_attrs({1, 1, 1, 2}, "nearest", "asymmetric", "floor"), {x}, {1, 1, 1, 4})),
            (std::vector<float>{inf, inf, -inf, -inf}));
}

ir::Attributes pad_attrs(const std::string& mode, std::vector<int64_t> pads, float value = 0.f) {
  ir::Attributes a;
  a.set("mode", mode);
  a.set("pads", std::move(pads));
  a.set("value", value);
  return a;
}

TEST(ReferencePad, ReflectEdgeConstantAndCrop) {
  const Tensor x = Tensor::from<float>({4}, {1, 2, 3, 4});
  EXPECT_EQ(values(run_op(Op::Pad, pad_attrs("reflect", {2, 2}), {x}, {8})),
            (std::vector<float>{3, 2, 1, 2, 3, 4, 3, 2}));
  EXPECT_EQ(values(run_op(Op::Pad, pad_attrs("edge", {2, 1}), {x}, {7})), (std::vector<float>{1, 1, 1, 2, 3, 4, 4}));
  EXPECT_EQ(values(run_op(Op::Pad, pad_attrs("constant", {1, -2}, 9.f), {x}, {3})), (std::vector<float>{9, 1, 2}));
  // Cropping comes first; reflect then mirrors what is left ({2, 3, 4}).
  EXPECT_EQ(values(run_op(Op::Pad, pad_attrs("reflect", {-1, 2}), {x}, {5})), (std::vector<float>{2, 3, 4, 3, 2}));
}

TEST(ReferenceBinary, BroadcastsAColumnAgainstARow) {
  const Tensor a = Tensor::from<float>({2, 1}, {1, 2});
  const Tensor b = Tensor::from<float>({3}, {10, 20, 30});
  EXPECT_EQ(values(run_op(Op::Add, {}, {a, b}, {2, 3})), (std::vector<float>{11, 21, 31, 12, 22, 32}));
  EXPECT_EQ(values(run_op(Op::Sub, {}, {b, a}, {2, 3})), (std::vector<float>{9, 19, 29, 8, 18, 28}));
  EXPECT_EQ(values(run_op(Op::Div, {}, {b, a}, {2, 3})), (std::vector<float>{10, 20, 30, 5, 10, 15}));
  EXPECT_THROW(run_op(Op::Mul, {}, {a, Tensor::from<float>({3, 2}, {1, 2, 3, 4, 5, 6})}, {3, 2}), Error);  // 2 vs 3
}

TEST(ReferenceActivation, HardSwishAndHardSigmoidByHand) {
  const Tensor x = Tensor::from<float>({6}, {-4, -3, 0, 1, 3, 4});
  const std::vector<float> swish = values(run_op(Op::HardSwish, {}, {x}, {6}));
  const std::vector<float> expected = {0, 0, 0, 1.f * (1.f / 6.f + 0.5f), 3, 4};
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_FLOAT_EQ(swish[i], expected[i]) << i;
  ir::Attributes a;
  a.set("alpha", 0.25f);
  a.set("beta", 0.5f);
  EXPECT_EQ(values(run_op(Op::HardSigmoid, a, {x}, {6})), (std::vector<float>{0, 0, 0.5f, 0.75f, 1, 1}));
}

TEST(ReferenceReduceMean, DropsOrKeepsTheReducedAxis) {
  const Tensor x = Tensor::from<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  ir::Attributes a;
  a.set("axes", std::vector<int64_t>{1});
  a.set("keepdims", int64_t{0});
  EXPECT_EQ(values(run_op(Op::ReduceMean, a, {x}, {2})), (std::vector<float>{2, 5}));
  a.set("axes", std::vector<int64_t>{0});
  a.set("keepdims", int64_t{1});
  EXPECT_EQ(values(run_op(Op::ReduceMean, a, {x}, {1, 3})), (std::vector<float>{2.5f, 3.5f, 4.5f}));
}

TEST(ReferenceConcat, InterleavesSlabsAlongTheAxis) {
  const Tensor a = Tensor::from<float>({2, 1}, {1, 2});
  const Tensor b = Tensor::from<float>({2, 2}, {3, 4, 5, 6});
  ir::Attributes attrs;
  attrs.set("axis", int64_t{1});
  EXPECT_EQ(values(run_op(Op::Concat, attrs, {a, b}, {2, 3})), (std::vector<float>{1, 3, 4, 2, 5, 6}));
}

TEST(ReferenceBatchNormalization, NormalisesPerChannel) {
  const Tensor x = Tensor::from<float>({1, 2, 1, 2}, {1, 3, 10, 20});
  const Tensor scale = Tensor::from<float>({2}, {2, 1});
  const Tensor shift = Tensor::from<float>({2}, {1, 0});
  const Tensor mean = Tensor::from<float>({2}, {1, 10});
  const Tensor var = Tensor::from<float>({2}, {4, 25});
  ir::Attributes a;
  a.set("epsilon", 0.f);
  EXPECT_EQ(values(run_op(Op::BatchNormalization, a, {x, scale, shift, mean, var}, {1, 2, 1, 2})),
            (std::vector<float>{1, 3, 0, 2}));
}

TEST(ReferenceDispatch, ShapeOpIsAnErrorNamingTheNode) {
  const Tensor x = Tensor::from<float>({2}, {1, 2});
  try {
    run_op(Op::Shape, {}, {x}, {1});
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("test_Shape"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("no kernel for Shape"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace crowdrt
