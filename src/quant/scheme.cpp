#include "quant/scheme.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>

#include "core/error.h"
#include "core/tensor.h"

namespace crowdrt::quant {

float activation_scale(float amax) { return amax / kInt8Steps; }

float amax_of_scale(float scale) { return scale * kInt8Steps; }

std::vector<float> weight_scales(const Tensor& weights, int axis) {
  const Shape& dims = weights.shape();
  if (axis < 0 || static_cast<size_t>(axis) >= dims.size())
    throw Error(cat("weights ", shape_str(dims), " have no output-channel axis ", axis));
  const int64_t channels = dims[axis];
  const int64_t inner = std::accumulate(dims.begin() + axis + 1, dims.end(), int64_t{1}, std::multiplies<>());
  const int64_t outer = channels * inner == 0 ? 0 : weights.numel() / (channels * inner);
  const float* w = weights.data<float>();
  std::vector<float> scales(channels, 0.f);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t c = 0; c < channels; ++c)
      for (int64_t i = 0; i < inner; ++i) scales[c] = std::max(scales[c], std::abs(w[(o * channels + c) * inner + i]));
  for (float& s : scales) s = s > 0 ? s / kInt8Steps : 1.f;
  return scales;
}

std::vector<float> weight_scales(const float* weights, int64_t channels, int64_t per_channel) {
  std::vector<float> scales(static_cast<size_t>(channels), 0.f);
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t i = 0; i < per_channel; ++i) scales[c] = std::max(scales[c], std::abs(weights[c * per_channel + i]));
  for (float& s : scales) s = s > 0 ? s / kInt8Steps : 1.f;
  return scales;
}

int8_t quantise_value(float x, float scale) {
  return static_cast<int8_t>(std::clamp(std::nearbyint(x / scale), -128.f, 127.f));
}

int8_t quantise_weight(float w, float scale) {
  return static_cast<int8_t>(std::clamp(std::nearbyint(w / scale), -127.f, 127.f));
}

}  // namespace crowdrt::quant
