// The int8 quantisation scheme (quant/scheme.h): scales of activations and weights, and rounding and saturation
// of each to its range.
#include <gtest/gtest.h>

#include "core/error.h"
#include "core/tensor.h"
#include "quant/scheme.h"

namespace crowdrt::quant {
namespace {

TEST(QuantScheme, ActivationScaleIsAmaxOver127AndBack) {
  EXPECT_EQ(activation_scale(127.f), 1.f);
  EXPECT_EQ(activation_scale(255.06f), 255.06f / 127.f);
  EXPECT_EQ(amax_of_scale(2.f), 254.f);
}

TEST(QuantScheme, WeightScalesArePerOutputChannelAndOneForAnAllZeroChannel) {
  // Conv weights O x I x kh x kw = 3 x 2 x 1 x 1: channel 1 is all zero.
  const Tensor conv = Tensor::from<float>({3, 2, 1, 1}, {0.5f, -2.54f, 0.f, 0.f, 1.27f, 0.1f});
  EXPECT_EQ(weight_scales(conv), (std::vector<float>{2.54f / 127.f, 1.f, 1.27f / 127.f}));
  // ConvTranspose weights I x O x kh x kw = 2 x 3 x 1 x 1: the output channel is axis 1.
  const Tensor transposed = Tensor::from<float>({2, 3, 1, 1}, {0.5f, 0.f, -1.27f, -2.54f, 0.f, 0.1f});
  EXPECT_EQ(weight_scales(transposed, 1), (std::vector<float>{2.54f / 127.f, 1.f, 1.27f / 127.f}));
  try {
    weight_scales(conv, 4);
    ADD_FAILURE() << "axis 4 of a 4-D tensor was accepted";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "weights 3x2x1x1 have no output-channel axis 4");
  }
}

TEST(QuantScheme, ValuesRoundToNearestEvenAndSaturateActivationsTo128AndWeightsTo127) {
  EXPECT_EQ(quantise_value(2.5f, 1.f), 2);  // ties to even (the default rounding mode)
  EXPECT_EQ(quantise_value(3.5f, 1.f), 4);
  EXPECT_EQ(quantise_value(-1.26f, 0.01f), -126);
  EXPECT_EQ(quantise_value(-1000.f, 1.f), -128);
  EXPECT_EQ(quantise_value(1000.f, 1.f), 127);
  EXPECT_EQ(quantise_weight(-1000.f, 1.f), -127);
  EXPECT_EQ(quantise_weight(1000.f, 1.f), 127);
  EXPECT_EQ(quantise_weight(-2.54f, 2.54f / 127.f), -127);
}

}  // namespace
}  // namespace crowdrt::quant
