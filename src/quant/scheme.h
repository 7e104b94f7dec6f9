// The int8 quantisation scheme, once for every backend and exporter: symmetric, zero point 0 (as TensorRT's
// explicit quantisation and its calibration caches). Activations are quantised per tensor with scale amax / 127
// to [-128, 127]; weights per output channel with scale max|w| / 127 to [-127, 127] (so that -w is
// representable for every w, as TensorRT requires of weights). Host code; the CUDA kernels apply the same rules.
#pragma once
#include <cstdint>
#include <vector>

// No core/tensor.h here: CUDA sources (compiled as C++17 by nvcc) include this header.
namespace crowdrt {
class Tensor;
}

namespace crowdrt::quant {

constexpr float kInt8Steps = 127.f;  // quantisation steps from zero to amax

// The real value of one int8 step of an activation calibrated to `amax`, and back.
float activation_scale(float amax);
float amax_of_scale(float scale);

// Per output channel along `axis` of float32 weights (0 for Conv's O x I x kh x kw, 1 for ConvTranspose's
// I x O x kh x kw): max|w| / 127, and 1 for an all-zero channel (its values quantise to 0 at any scale).
std::vector<float> weight_scales(const Tensor& weights, int axis = 0);
// The same for `channels` rows of `per_channel` float32 weights each (output channel first, as Conv's).
std::vector<float> weight_scales(const float* weights, int64_t channels, int64_t per_channel);

// nearbyint(x / scale) clamped to [-128, 127] (activations) or [-127, 127] (weights).
int8_t quantise_value(float x, float scale);
int8_t quantise_weight(float w, float scale);

}  // namespace crowdrt::quant
