// torchvision MobileNetV2 (width 1.0) as smp's MobileNetV2Encoder uses it (classifier deleted). Source:
// torchvision models/mobilenetv2.py (inverted residual settings t, c, n, s; ReLU6; residual when stride 1 and
// in == out) and smp encoders/mobilenet.py (stages features[:2] | [2:4] | [4:7] | [7:14] | [14:]).
#include <array>

#include "models/encoders.h"

namespace crowdrt::models {
namespace {

constexpr float kMobileNetBatchNormEpsilon = 1e-5f;

struct InvertedResidualSetting {
  int64_t expand_ratio, channels, repeats, stride;
};
constexpr std::array<InvertedResidualSetting, 7> kSettings{{
    {1, 16, 1, 1}, {6, 24, 2, 2}, {6, 32, 3, 2}, {6, 64, 4, 2}, {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}}};
// features indices after which smp taps a feature map (the last stage ends at features.18)
constexpr std::array<int, 4> kTaps{1, 3, 6, 13};

// Conv2dNormActivation: conv (no bias, "same" padding for odd kernels), BatchNorm, ReLU6 = Clip(0, 6).
ir::ValueId conv_bn_relu6(WeightedGraphBuilder& b, ir::ValueId x, const std::string& m, int64_t out, int64_t kernel,
                          int64_t stride, int64_t group) {
  const int64_t pad = (kernel - 1) / 2;
  x = b.conv(x, m + ".0", {out, kernel, stride, {pad, pad, pad, pad}, group, false});
  return b.clip(b.batchnorm(x, m + ".1", kMobileNetBatchNormEpsilon), m + ".2", 0.f, 6.f);
}

ir::ValueId inverted_residual(WeightedGraphBuilder& b, ir::ValueId x, const std::string& m, int64_t expand_ratio,
                              int64_t out, int64_t stride) {
  const int64_t in = b.channels(x);
  const int64_t hidden = in * expand_ratio;
  ir::ValueId y = x;
  int index = 0;  // position inside the block's `conv` Sequential
  if (expand_ratio != 1) y = conv_bn_relu6(b, y, cat(m, ".conv.", index++), hidden, 1, 1, 1);
  y = conv_bn_relu6(b, y, cat(m, ".conv.", index++), hidden, 3, stride, hidden);
  y = b.conv(y, cat(m, ".conv.", index++), {out, 1, 1, {0, 0, 0, 0}, 1, false});
  y = b.batchnorm(y, cat(m, ".conv.", index), kMobileNetBatchNormEpsilon);
  return (stride == 1 && in == out) ? b.add(x, y, m) : y;
}

}  // namespace

FeatureMaps build_mobilenet_v2_encoder(WeightedGraphBuilder& b, ir::ValueId input) {
  FeatureMaps maps{input};
  ir::ValueId x = conv_bn_relu6(b, input, "encoder.features.0", 32, 3, 2, 1);
  int feature = 1;
  size_t tap = 0;
  for (const InvertedResidualSetting& s : kSettings) {
    for (int64_t i = 0; i < s.repeats; ++i, ++feature) {
      x = inverted_residual(b, x, cat("encoder.features.", feature), s.expand_ratio, s.channels, i == 0 ? s.stride : 1);
      if (tap < kTaps.size() && feature == kTaps[tap]) {
        maps.push_back(x);
        ++tap;
      }
    }
  }
  x = conv_bn_relu6(b, x, cat("encoder.features.", feature), 1280, 1, 1, 1);
  maps.push_back(x);
  return maps;
}

}  // namespace crowdrt::models
