// The op semantics decoded once (ir/op_params.h): defaults of absent attributes, one-line refusals of unknown
// modes and wrong lengths, the output-size rules, Resize's coordinate maps and Pad's reflect/edge folding.
#include <gtest/gtest.h>

#include <functional>
#include <limits>

#include "ir/op_params.h"

using namespace crowdrt;

namespace {

std::string error_of(const std::function<void()>& call) {
  try {
    call();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

ir::Attributes attrs_of(std::initializer_list<std::pair<const char*, ir::Attr>> values) {
  ir::Attributes a;
  for (const auto& [name, value] : values) a.set(name, value);
  return a;
}

}  // namespace

TEST(OpParamsActivation, EpilogueNamesDecodeToKindsWithTheirAlphaAndBeta) {
  const ir::Activation clip = ir::epilogue_activation(attrs_of({{"activation", std::string("clip")},
                                                                {"alpha", 0.f}, {"beta", 6.f}}));
  EXPECT_EQ(clip.kind, ir::ActivationKind::clip);
  EXPECT_EQ(clip(-1.f), 0.f);
  EXPECT_EQ(clip(7.f), 6.f);
  EXPECT_EQ(ir::epilogue_activation({}).kind, ir::ActivationKind::none);
  EXPECT_EQ(ir::epilogue_activation({})(-3.f), -3.f);
  EXPECT_EQ(ir::epilogue_activation_kind("hard_swish"), ir::ActivationKind::hard_swish);
  EXPECT_EQ(ir::epilogue_activation_kind("gelu"), std::nullopt);
  EXPECT_EQ(error_of([] { ir::epilogue_activation(attrs_of({{"activation", std::string("gelu")}})); }),
            "fused activation 'gelu' is unknown; expected relu, leaky_relu, clip, sigmoid, hard_sigmoid or hard_swish");
}

TEST(OpParamsActivation, StandaloneOpsTakeOnnxDefaults) {
  const ir::Activation leaky = ir::op_activation(ir::Op::LeakyRelu, {});
  EXPECT_EQ(leaky.alpha, 0.01f);
  EXPECT_FLOAT_EQ(leaky(-2.f), -0.02f);
  const ir::Activation clip = ir::op_activation(ir::Op::Clip, {});
  EXPECT_EQ(clip.alpha, -std::numeric_limits<float>::infinity());
  EXPECT_EQ(clip.beta, std::numeric_limits<float>::infinity());
  const ir::Activation hard_sigmoid = ir::op_activation(ir::Op::HardSigmoid, {});
  EXPECT_EQ(hard_sigmoid.alpha, 0.2f);
  EXPECT_EQ(hard_sigmoid.beta, 0.5f);
  const ir::Activation hard_swish = ir::op_activation(ir::Op::HardSwish, {});
  EXPECT_EQ(hard_swish(3.f), 3.f);
  EXPECT_EQ(hard_swish(-3.f), -0.f);
  EXPECT_EQ(hard_swish(1.5f), 1.5f * 0.75f);
  EXPECT_EQ(error_of([] { ir::op_activation(ir::Op::Conv, {}); }), "Conv is not an activation");
}

TEST(OpParamsConv, AbsentAttributesTakeOnnxDefaultsAndPadsSplitIntoBeginAndEnd) {
  const ir::ConvParams none = ir::conv_params({});
  EXPECT_EQ(none.kernel, (std::vector<int64_t>{0, 0}));
  EXPECT_EQ(none.strides, (std::vector<int64_t>{1, 1}));
  EXPECT_EQ(none.dilations, (std::vector<int64_t>{1, 1}));
  EXPECT_EQ(none.pads_begin, (std::vector<int64_t>{0, 0}));
  EXPECT_EQ(none.output_padding, (std::vector<int64_t>{0, 0}));
  EXPECT_EQ(none.group, 1);
  const ir::ConvParams p = ir::conv_params(attrs_of({{"kernel_shape", std::vector<int64_t>{3, 5}},
                                                     {"pads", std::vector<int64_t>{1, 2, 3, 4}},
                                                     {"group", int64_t{4}}}));
  EXPECT_EQ(p.kernel, (std::vector<int64_t>{3, 5}));
  EXPECT_EQ(p.pads_begin, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(p.pads_end, (std::vector<int64_t>{3, 4}));
  EXPECT_EQ(p.group, 4);
  EXPECT_EQ(error_of([] { ir::conv_params(attrs_of({{"strides", std::vector<int64_t>{1, 1, 1}}})); }),
            "attribute strides has 3 values where 2 are needed");
}

TEST(OpParamsConv, OutputSizesFollowOnnx) {
  EXPECT_EQ(ir::conv_output_size(8, 3, 1, 1, 1, 1), 8);
  EXPECT_EQ(ir::conv_output_size(8, 3, 2, 1, 1, 1), 4);
  EXPECT_EQ(ir::conv_output_size(9, 3, 1, 2, 0, 0), 5);  // dilated kernel reaches 5
  EXPECT_EQ(ir::conv_transpose_output_size(4, 3, 2, 1, 1, 1, 1), 8);
  EXPECT_EQ(ir::conv_transpose_output_size(4, 4, 2, 1, 1, 1, 0), 8);
  const int64_t huge = std::numeric_limits<int64_t>::max() / 2;
  EXPECT_NE(error_of([&] { ir::conv_transpose_output_size(huge, 3, 4, 1, 0, 0, 0); }).find("overflows"),
            std::string::npos);
}

TEST(OpParamsPool, CeilModeDropsALastWindowStartingInTheEndPadding) {
  EXPECT_EQ(ir::pool_output_size(5, 2, 2, 1, 0, 0, false), 2);
  EXPECT_EQ(ir::pool_output_size(5, 2, 2, 1, 0, 0, true), 3);
  // 1 input, padding 1 on both sides, stride 2: the second window would start in the end padding.
  EXPECT_EQ(ir::pool_output_size(1, 1, 2, 1, 1, 1, true), 1);
  EXPECT_EQ(ir::pool_output_size(7, 3, 1, 2, 0, 0, false), 3);  // dilation 2
}

TEST(OpParamsPool, AveragePoolHasNoDilationsAndOnlyItCountsPadding) {
  const ir::Attributes a = attrs_of({{"kernel_shape", std::vector<int64_t>{2, 2}},
                                     {"dilations", std::vector<int64_t>{2, 2}}, {"count_include_pad", int64_t{1}},
                                     {"ceil_mode", int64_t{1}}});
  const ir::PoolParams average = ir::pool_params(ir::Op::AveragePool, a);
  EXPECT_EQ(average.dilations, (std::vector<int64_t>{1, 1}));
  EXPECT_TRUE(average.count_include_pad);
  EXPECT_TRUE(average.ceil_mode);
  const ir::PoolParams max = ir::pool_params(ir::Op::MaxPool, a);
  EXPECT_EQ(max.dilations, (std::vector<int64_t>{2, 2}));
  EXPECT_FALSE(max.count_include_pad);
  EXPECT_EQ(error_of([] { ir::pool_params(ir::Op::MaxPool, {}); }), "pool kernel_shape 0x0 is not positive");
}

TEST(OpParamsResize, ModesDecodeToEnumsAndUnknownOnesAreRefusedByName) {
  const ir::ResizeParams p = ir::resize_params(attrs_of({{"mode", std::string("linear")},
                                                         {"coordinate_transformation_mode", std::string("asymmetric")},
                                                         {"scales", std::vector<float>{1, 1, 2, 2}}}));
  EXPECT_EQ(p.mode, ir::ResizeMode::linear);
  EXPECT_EQ(p.transform, ir::CoordinateTransform::asymmetric);
  EXPECT_EQ(p.nearest, ir::NearestMode::round_prefer_floor);
  EXPECT_EQ(p.scales, (std::vector<float>{1, 1, 2, 2}));
  EXPECT_EQ(error_of([] { ir::resize_params(attrs_of({{"mode", std::string("cubic")}})); }),
            "Resize mode 'cubic' is unknown; expected nearest or linear");
  EXPECT_EQ(error_of([] {
              ir::resize_params(attrs_of({{"coordinate_transformation_mode", std::string("tf_crop_and_resize")}}));
            }),
            "Resize coordinate_transformation_mode 'tf_crop_and_resize' is unknown; expected half_pixel, "
            "pytorch_half_pixel, align_corners, asymmetric or tf_half_pixel_for_nearest");
  EXPECT_EQ(error_of([] { ir::resize_params(attrs_of({{"nearest_mode", std::string("round")}})); }),
            "Resize nearest_mode 'round' is unknown; expected round_prefer_floor, round_prefer_ceil, floor or ceil");
}

TEST(OpParamsResize, NearestModesBreakTiesDifferently) {
  ir::ResizeParams p;
  p.transform = ir::CoordinateTransform::asymmetric;  // output 1 of a 2x upscale maps to 0.5, a tie
  EXPECT_EQ(ir::resize_axis_map(p, 2.f, 2, 4).lo, (std::vector<int64_t>{0, 0, 1, 1}));
  p.nearest = ir::NearestMode::round_prefer_ceil;
  EXPECT_EQ(ir::resize_axis_map(p, 2.f, 2, 4).lo, (std::vector<int64_t>{0, 1, 1, 1}));  // 1.5 -> 2, clamped to 1
  p.nearest = ir::NearestMode::floor;
  EXPECT_EQ(ir::resize_axis_map(p, 3.f, 2, 6).lo, (std::vector<int64_t>{0, 0, 0, 1, 1, 1}));
  const ir::ResizeAxisMap nearest = ir::resize_axis_map(p, 3.f, 2, 6);
  EXPECT_EQ(nearest.hi, nearest.lo);
  EXPECT_EQ(nearest.weight_hi, std::vector<float>(6, 0.f));
}

TEST(OpParamsResize, LinearMapsClampToTheInputAndWeighTheSecondNeighbour) {
  ir::ResizeParams p;
  p.mode = ir::ResizeMode::linear;  // half_pixel
  const ir::ResizeAxisMap down = ir::resize_axis_map(p, 0.5f, 4, 2);  // sources 0.5 and 2.5
  EXPECT_EQ(down.lo, (std::vector<int64_t>{0, 2}));
  EXPECT_EQ(down.hi, (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(down.weight_hi, (std::vector<float>{0.5f, 0.5f}));
  const ir::ResizeAxisMap up = ir::resize_axis_map(p, 2.f, 2, 4);  // sources -0.25, 0.25, 0.75, 1.25
  EXPECT_EQ(up.lo, (std::vector<int64_t>{0, 0, 0, 1}));
  EXPECT_EQ(up.hi, (std::vector<int64_t>{1, 1, 1, 1}));
  EXPECT_EQ(up.weight_hi, (std::vector<float>{0.f, 0.25f, 0.75f, 0.f}));
  p.transform = ir::CoordinateTransform::align_corners;  // sources 0, 0.5, 1, 1.5, 2
  const ir::ResizeAxisMap corners = ir::resize_axis_map(p, 5.f / 3.f, 3, 5);
  EXPECT_EQ(corners.lo, (std::vector<int64_t>{0, 0, 1, 1, 2}));
  EXPECT_EQ(corners.hi, (std::vector<int64_t>{1, 1, 2, 2, 2}));
  EXPECT_EQ(corners.weight_hi, (std::vector<float>{0.f, 0.5f, 0.f, 0.5f, 0.f}));
}

TEST(OpParamsPad, ModesDecodeAndReflectFoldsBackAndForthWhileEdgeRepeats) {
  const ir::PadParams p = ir::pad_params(attrs_of({{"mode", std::string("reflect")},
                                                   {"pads", std::vector<int64_t>{0, 0, 1, 1, 0, 0, 1, 1}},
                                                   {"value", 2.f}}));
  EXPECT_EQ(p.mode, ir::PadMode::reflect);
  EXPECT_EQ(p.pads.size(), 8u);
  EXPECT_EQ(p.value, 2.f);
  EXPECT_EQ(ir::pad_params({}).mode, ir::PadMode::constant);
  EXPECT_EQ(error_of([] { ir::pad_params(attrs_of({{"mode", std::string("wrap")}})); }),
            "Pad mode 'wrap' is unknown; expected constant, reflect or edge");
  std::vector<int64_t> reflect, edge, constant;
  for (int64_t i = -4; i <= 6; ++i) {
    reflect.push_back(ir::pad_source_index(ir::PadMode::reflect, i, 3));
    edge.push_back(ir::pad_source_index(ir::PadMode::edge, i, 3));
    constant.push_back(ir::pad_source_index(ir::PadMode::constant, i, 3));
  }
  EXPECT_EQ(reflect, (std::vector<int64_t>{0, 1, 2, 1, 0, 1, 2, 1, 0, 1, 2}));
  EXPECT_EQ(edge, (std::vector<int64_t>{0, 0, 0, 0, 0, 1, 2, 2, 2, 2, 2}));
  EXPECT_EQ(constant, (std::vector<int64_t>{-1, -1, -1, -1, 0, 1, 2, -1, -1, -1, -1}));
  EXPECT_EQ(ir::pad_source_index(ir::PadMode::reflect, -3, 1), 0);  // one element reflects onto itself
}
