#include "ir/op_params.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/checked.h"

namespace crowdrt::ir {
namespace {

// Input coordinate of output coordinate `out` along one axis (ONNX Resize, coordinate_transformation_mode).
float resize_source_coordinate(CoordinateTransform transform, int64_t out, float scale, int64_t in_size,
                               int64_t out_size) {
  const float x = static_cast<float>(out);
  switch (transform) {
    case CoordinateTransform::half_pixel: return (x + 0.5f) / scale - 0.5f;
    case CoordinateTransform::pytorch_half_pixel: return out_size > 1 ? (x + 0.5f) / scale - 0.5f : 0.f;
    case CoordinateTransform::align_corners:
      return out_size == 1 ? 0.f : x * static_cast<float>(in_size - 1) / static_cast<float>(out_size - 1);
    case CoordinateTransform::asymmetric: return x / scale;
    case CoordinateTransform::tf_half_pixel_for_nearest: return (x + 0.5f) / scale;
  }
  return x;
}

int64_t resize_round_nearest(NearestMode mode, float x) {
  if (mode == NearestMode::floor) return static_cast<int64_t>(std::floor(x));
  if (mode == NearestMode::ceil) return static_cast<int64_t>(std::ceil(x));
  const float below = std::floor(x);
  if (x - below == 0.5f)  // a tie: the mode says which way
    return static_cast<int64_t>(below) + (mode == NearestMode::round_prefer_ceil ? 1 : 0);
  return static_cast<int64_t>(std::round(x));
}

constexpr const char* kWindowArithmetic = "window size";

}  // namespace

std::vector<int64_t> per_axis(const Attributes& attrs, const std::string& name, size_t count, int64_t fallback) {
  std::vector<int64_t> values = attrs.ints(name, std::vector<int64_t>(count, fallback));
  if (values.size() != count)
    throw Error(cat("attribute ", name, " has ", values.size(), " values where ", count, " are needed"));
  return values;
}

float Activation::operator()(float x) const {
  switch (kind) {
    case ActivationKind::none: return x;
    case ActivationKind::relu: return x > 0.f ? x : 0.f;
    case ActivationKind::leaky_relu: return x >= 0.f ? x : alpha * x;
    case ActivationKind::clip: return std::min(std::max(x, alpha), beta);
    case ActivationKind::sigmoid: return 1.f / (1.f + std::exp(-x));
    case ActivationKind::hard_sigmoid: return std::max(0.f, std::min(1.f, alpha * x + beta));
    case ActivationKind::hard_swish: return x * std::max(0.f, std::min(1.f, x / 6.f + 0.5f));
  }
  return x;
}

std::optional<ActivationKind> epilogue_activation_kind(const std::string& name) {
  if (name.empty()) return ActivationKind::none;
  if (name == "relu") return ActivationKind::relu;
  if (name == "leaky_relu") return ActivationKind::leaky_relu;
  if (name == "clip") return ActivationKind::clip;
  if (name == "sigmoid") return ActivationKind::sigmoid;
  if (name == "hard_sigmoid") return ActivationKind::hard_sigmoid;
  if (name == "hard_swish") return ActivationKind::hard_swish;
  return std::nullopt;
}

Activation epilogue_activation(const Attributes& attrs) {
  const std::string name = attrs.s("activation", "");
  const std::optional<ActivationKind> kind = epilogue_activation_kind(name);
  if (!kind)
    throw Error(cat("fused activation '", name,
                    "' is unknown; expected relu, leaky_relu, clip, sigmoid, hard_sigmoid or hard_swish"));
  if (*kind == ActivationKind::none) return {};
  return {*kind, attrs.f("alpha", 0.f), attrs.f("beta", 0.f)};
}

Activation op_activation(Op op, const Attributes& attrs) {
  constexpr float kInf = std::numeric_limits<float>::infinity();
  switch (op) {
    case Op::Relu: return {ActivationKind::relu};
    case Op::LeakyRelu: return {ActivationKind::leaky_relu, attrs.f("alpha", 0.01f)};
    case Op::Clip: return {ActivationKind::clip, attrs.f("min", -kInf), attrs.f("max", kInf)};
    case Op::Sigmoid: return {ActivationKind::sigmoid};
    case Op::HardSigmoid: return {ActivationKind::hard_sigmoid, attrs.f("alpha", 0.2f), attrs.f("beta", 0.5f)};
    case Op::HardSwish: return {ActivationKind::hard_swish};
    default: throw Error(cat(op_name(op), " is not an activation"));
  }
}

ConvParams conv_params(const Attributes& attrs) {
  ConvParams p;
  p.kernel = per_axis(attrs, "kernel_shape", 2, 0);
  p.strides = per_axis(attrs, "strides", 2, 1);
  p.dilations = per_axis(attrs, "dilations", 2, 1);
  const std::vector<int64_t> pads = per_axis(attrs, "pads", 4, 0);
  p.pads_begin = {pads[0], pads[1]};
  p.pads_end = {pads[2], pads[3]};
  p.output_padding = per_axis(attrs, "output_padding", 2, 0);
  p.group = attrs.i("group", 1);
  return p;
}

int64_t conv_output_size(int64_t in, int64_t kernel, int64_t stride, int64_t dilation, int64_t pad_begin,
                         int64_t pad_end) {
  const int64_t padded = checked_add(checked_add(in, pad_begin, kWindowArithmetic), pad_end, kWindowArithmetic);
  const int64_t reach = checked_add(checked_mul(dilation, kernel - 1, kWindowArithmetic), 1, kWindowArithmetic);
  return checked_add(padded, -reach, kWindowArithmetic) / stride + 1;
}

int64_t conv_transpose_output_size(int64_t in, int64_t kernel, int64_t stride, int64_t dilation, int64_t pad_begin,
                                   int64_t pad_end, int64_t output_padding) {
  const int64_t spread = checked_add(checked_mul(stride, in - 1, kWindowArithmetic), output_padding, kWindowArithmetic);
  const int64_t reach = checked_mul(kernel - 1, dilation, kWindowArithmetic);
  const int64_t pads = checked_add(pad_begin, pad_end, kWindowArithmetic);
  return checked_add(checked_add(spread, reach, kWindowArithmetic), 1 - pads, kWindowArithmetic);
}

PoolParams pool_params(Op op, const Attributes& attrs) {
  PoolParams p;
  p.kernel = per_axis(attrs, "kernel_shape", 2, 0);
  p.strides = per_axis(attrs, "strides", 2, 1);
  p.dilations = op == Op::MaxPool ? per_axis(attrs, "dilations", 2, 1) : std::vector<int64_t>{1, 1};
  const std::vector<int64_t> pads = per_axis(attrs, "pads", 4, 0);
  p.pads_begin = {pads[0], pads[1]};
  p.pads_end = {pads[2], pads[3]};
  p.ceil_mode = attrs.i("ceil_mode", 0) != 0;
  p.count_include_pad = op == Op::AveragePool && attrs.i("count_include_pad", 0) != 0;
  if (p.kernel[0] < 1 || p.kernel[1] < 1)
    throw Error(cat("pool kernel_shape ", shape_str(p.kernel), " is not positive"));
  return p;
}

int64_t pool_output_size(int64_t in, int64_t kernel, int64_t stride, int64_t dilation, int64_t pad_begin,
                         int64_t pad_end, bool ceil_mode) {
  const int64_t padded = checked_add(checked_add(in, pad_begin, kWindowArithmetic), pad_end, kWindowArithmetic);
  const int64_t reach = checked_add(checked_mul(dilation, kernel - 1, kWindowArithmetic), 1, kWindowArithmetic);
  const int64_t span = checked_add(padded, -reach, kWindowArithmetic);
  int64_t size = (ceil_mode ? checked_add(span, stride - 1, kWindowArithmetic) / stride : span / stride) + 1;
  if (ceil_mode && (size - 1) * stride >= in + pad_begin) --size;
  return size;
}

std::optional<ResizeMode> resize_mode_from_name(const std::string& name) {
  if (name == "nearest") return ResizeMode::nearest;
  if (name == "linear") return ResizeMode::linear;
  return std::nullopt;
}

std::optional<CoordinateTransform> coordinate_transform_from_name(const std::string& name) {
  if (name == "half_pixel") return CoordinateTransform::half_pixel;
  if (name == "pytorch_half_pixel") return CoordinateTransform::pytorch_half_pixel;
  if (name == "align_corners") return CoordinateTransform::align_corners;
  if (name == "asymmetric") return CoordinateTransform::asymmetric;
  if (name == "tf_half_pixel_for_nearest") return CoordinateTransform::tf_half_pixel_for_nearest;
  return std::nullopt;
}

std::optional<NearestMode> nearest_mode_from_name(const std::string& name) {
  if (name == "round_prefer_floor") return NearestMode::round_prefer_floor;
  if (name == "round_prefer_ceil") return NearestMode::round_prefer_ceil;
  if (name == "floor") return NearestMode::floor;
  if (name == "ceil") return NearestMode::ceil;
  return std::nullopt;
}

ResizeParams resize_params(const Attributes& attrs) {
  ResizeParams p;
  const std::string mode = attrs.s("mode", "nearest");
  const std::string transform = attrs.s("coordinate_transformation_mode", "half_pixel");
  const std::string nearest = attrs.s("nearest_mode", "round_prefer_floor");
  const auto m = resize_mode_from_name(mode);
  if (!m) throw Error(cat("Resize mode '", mode, "' is unknown; expected nearest or linear"));
  const auto t = coordinate_transform_from_name(transform);
  if (!t)
    throw Error(cat("Resize coordinate_transformation_mode '", transform,
                    "' is unknown; expected half_pixel, pytorch_half_pixel, align_corners, asymmetric or "
                    "tf_half_pixel_for_nearest"));
  const auto n = nearest_mode_from_name(nearest);
  if (!n)
    throw Error(cat("Resize nearest_mode '", nearest,
                    "' is unknown; expected round_prefer_floor, round_prefer_ceil, floor or ceil"));
  p.mode = *m;
  p.transform = *t;
  p.nearest = *n;
  p.scales = attrs.floats("scales");
  return p;
}

ResizeAxisMap resize_axis_map(const ResizeParams& params, float scale, int64_t in_size, int64_t out_size) {
  ResizeAxisMap map;
  for (int64_t o = 0; o < out_size; ++o) {
    const float src = resize_source_coordinate(params.transform, o, scale, in_size, out_size);
    if (params.mode == ResizeMode::nearest) {
      const int64_t i = std::clamp<int64_t>(resize_round_nearest(params.nearest, src), 0, in_size - 1);
      map.lo.push_back(i);
      map.hi.push_back(i);
      map.weight_hi.push_back(0.f);
      continue;
    }
    const float clamped = std::min(std::max(src, 0.f), static_cast<float>(in_size - 1));
    const int64_t lo = static_cast<int64_t>(std::floor(clamped));
    map.lo.push_back(lo);
    map.hi.push_back(std::min(lo + 1, in_size - 1));
    map.weight_hi.push_back(clamped - static_cast<float>(lo));
  }
  return map;
}

std::optional<PadMode> pad_mode_from_name(const std::string& name) {
  if (name == "constant") return PadMode::constant;
  if (name == "reflect") return PadMode::reflect;
  if (name == "edge") return PadMode::edge;
  return std::nullopt;
}

PadParams pad_params(const Attributes& attrs) {
  PadParams p;
  const std::string mode = attrs.s("mode", "constant");
  const auto m = pad_mode_from_name(mode);
  if (!m) throw Error(cat("Pad mode '", mode, "' is unknown; expected constant, reflect or edge"));
  p.mode = *m;
  p.pads = attrs.ints("pads");
  p.value = attrs.f("value", 0.f);
  return p;
}

int64_t pad_source_index(PadMode mode, int64_t i, int64_t size) {
  if (i >= 0 && i < size) return i;
  if (mode == PadMode::constant) return -1;
  if (mode == PadMode::edge) return i < 0 ? 0 : size - 1;
  if (size == 1) return 0;
  const int64_t period = 2 * (size - 1);
  int64_t m = i % period;
  if (m < 0) m += period;
  return m < size ? m : period - m;
}

}  // namespace crowdrt::ir
