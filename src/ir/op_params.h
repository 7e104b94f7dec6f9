// Op semantics decoded once: typed parameters read from a node's canonical attributes (graph.h), and the
// arithmetic every backend shares (output sizes, Resize coordinate maps, Pad's reflect/edge folding, the
// activation epilogue). Backends and shape inference use these instead of reading attributes themselves, so an
// op means the same on each of them. Errors name what is wrong in one line; callers add which node it was.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace crowdrt::ir {

// A per-spatial-axis attribute of length `count`, or `fallback` repeated when absent.
std::vector<int64_t> per_axis(const Attributes& attrs, const std::string& name, size_t count, int64_t fallback);

// The activation a Conv applies after bias and residual (attr "activation"), or a standalone activation op.
// The order of the kinds is part of the CUDA backend's interface (cuda_kernels.h mirrors it).
enum class ActivationKind { none, relu, leaky_relu, clip, sigmoid, hard_sigmoid, hard_swish };
struct Activation {
  ActivationKind kind = ActivationKind::none;
  float alpha = 0.f;  // leaky_relu slope, clip min, hard_sigmoid alpha
  float beta = 0.f;   // clip max, hard_sigmoid beta
  float operator()(float x) const;
};
// The kind a Conv's "activation" attribute names ("" for none); nullopt when it names none of them.
std::optional<ActivationKind> epilogue_activation_kind(const std::string& name);
// From a Conv's "activation"/"alpha"/"beta" attributes; Error naming an unknown activation.
Activation epilogue_activation(const Attributes& attrs);
// The activation a standalone activation node computes (its ONNX attributes and defaults).
Activation op_activation(Op op, const Attributes& attrs);

// Conv and ConvTranspose geometry, 2-D (canonical form): one value per spatial axis (H, W).
struct ConvParams {
  std::vector<int64_t> kernel, strides, dilations, pads_begin, pads_end, output_padding;
  int64_t group = 1;
};
// Absent attributes take ONNX's defaults (kernel 0 meaning "not given"); Error when one has the wrong length.
ConvParams conv_params(const Attributes& attrs);
// Output length of a convolution window sliding over `in` (ONNX Conv):
// (in + pad_begin + pad_end - dilation * (kernel - 1) - 1) / stride + 1, with checked arithmetic.
int64_t conv_output_size(int64_t in, int64_t kernel, int64_t stride, int64_t dilation, int64_t pad_begin,
                         int64_t pad_end);
// Output length of ConvTranspose (ONNX): stride * (in - 1) + output_padding + (kernel - 1) * dilation + 1
// - pad_begin - pad_end, with checked arithmetic.
int64_t conv_transpose_output_size(int64_t in, int64_t kernel, int64_t stride, int64_t dilation, int64_t pad_begin,
                                   int64_t pad_end, int64_t output_padding);

// MaxPool / AveragePool, 2-D (canonical form). AveragePool has no dilations (they are 1).
struct PoolParams {
  std::vector<int64_t> kernel, strides, dilations, pads_begin, pads_end;
  bool ceil_mode = false, count_include_pad = false;
};
// Error when an attribute has the wrong length or the kernel is not positive.
PoolParams pool_params(Op op, const Attributes& attrs);
// Output length per ONNX: floor or ceil((in + pads - dilation * (kernel - 1) - 1) / stride) + 1, where with
// ceil_mode a last window that would start inside the end padding is dropped (ONNX Runtime and PyTorch agree).
int64_t pool_output_size(int64_t in, int64_t kernel, int64_t stride, int64_t dilation, int64_t pad_begin,
                         int64_t pad_end, bool ceil_mode);

// Resize (ONNX Resize, opset 11-19) over the dimensions whose scale maps output to input coordinates.
enum class ResizeMode { nearest, linear };
enum class CoordinateTransform { half_pixel, pytorch_half_pixel, align_corners, asymmetric, tf_half_pixel_for_nearest };
enum class NearestMode { round_prefer_floor, round_prefer_ceil, floor, ceil };
struct ResizeParams {
  ResizeMode mode = ResizeMode::nearest;
  CoordinateTransform transform = CoordinateTransform::half_pixel;
  NearestMode nearest = NearestMode::round_prefer_floor;
  std::vector<float> scales;  // one per dimension
};
std::optional<ResizeMode> resize_mode_from_name(const std::string& name);
std::optional<CoordinateTransform> coordinate_transform_from_name(const std::string& name);
std::optional<NearestMode> nearest_mode_from_name(const std::string& name);
// Error naming an unknown mode, coordinate_transformation_mode or nearest_mode and the known ones.
ResizeParams resize_params(const Attributes& attrs);

// Resize along one axis: the two input neighbours of each output coordinate and the weight of the second
// (nearest: both the same, weight 0). Linear clamps the coordinate to the input, as ONNX Runtime and PyTorch do.
struct ResizeAxisMap {
  std::vector<int64_t> lo, hi;
  std::vector<float> weight_hi;
};
ResizeAxisMap resize_axis_map(const ResizeParams& params, float scale, int64_t in_size, int64_t out_size);

// Pad (ONNX Pad, any rank): pads (begin..., end...) per dimension; a negative pad crops first.
// The order is part of the CUDA backend's interface (cuda_kernels.h mirrors it).
enum class PadMode { constant, reflect, edge };
struct PadParams {
  std::vector<int64_t> pads;
  PadMode mode = PadMode::constant;
  float value = 0.f;
};
std::optional<PadMode> pad_mode_from_name(const std::string& name);
// Error naming an unknown mode.
PadParams pad_params(const Attributes& attrs);
// Index into [0, size) of padded coordinate i (which may lie outside), or -1 where the constant value goes.
// reflect folds back and forth over a period of 2 * (size - 1) (numpy.pad, when a pad exceeds the size); a
// single element reflects onto itself.
int64_t pad_source_index(PadMode mode, int64_t i, int64_t size);

}  // namespace crowdrt::ir
