// Resize of NCHW tensors over H and W, per the ONNX Resize spec (opset 11-19): each output coordinate maps to
// an input coordinate by coordinate_transformation_mode using the per-dimension "scales"; mode nearest rounds
// it by nearest_mode, mode linear interpolates bilinearly between the two neighbours on each axis, with the
// coordinate clamped to the input (as ONNX Runtime and PyTorch do). The output size is the output's shape.
#include <algorithm>
#include <cmath>

#include "backends/cpu/reference/reference_kernels.h"
#include "backends/cpu/reference/reference_op_table.h"

namespace crowdrt::reference {
namespace {

// Input coordinate of output coordinate `out` along one axis (ONNX Resize, coordinate_transformation_mode).
float source_coordinate(const std::string& transform, int64_t out, float scale, int64_t in_size, int64_t out_size) {
  const float x = static_cast<float>(out);
  if (transform == "half_pixel") return (x + 0.5f) / scale - 0.5f;
  if (transform == "pytorch_half_pixel") return out_size > 1 ? (x + 0.5f) / scale - 0.5f : 0.f;
  if (transform == "align_corners")
    return out_size == 1 ? 0.f : x * static_cast<float>(in_size - 1) / static_cast<float>(out_size - 1);
  if (transform == "asymmetric") return x / scale;
  if (transform == "tf_half_pixel_for_nearest") return (x + 0.5f) / scale;
  throw Error(cat("Resize coordinate_transformation_mode '", transform,
                  "' is unknown; expected half_pixel, pytorch_half_pixel, align_corners, asymmetric or "
                  "tf_half_pixel_for_nearest"));
}

int64_t round_nearest(const std::string& nearest_mode, float x) {
  if (nearest_mode == "floor") return static_cast<int64_t>(std::floor(x));
  if (nearest_mode == "ceil") return static_cast<int64_t>(std::ceil(x));
  const float below = std::floor(x);
  if (x - below == 0.5f) {  // a tie: the mode says which way
    if (nearest_mode == "round_prefer_floor") return static_cast<int64_t>(below);
    if (nearest_mode == "round_prefer_ceil") return static_cast<int64_t>(below) + 1;
  }
  if (nearest_mode == "round_prefer_floor" || nearest_mode == "round_prefer_ceil")
    return static_cast<int64_t>(std::round(x));
  throw Error(cat("Resize nearest_mode '", nearest_mode,
                  "' is unknown; expected round_prefer_floor, round_prefer_ceil, floor or ceil"));
}

int64_t clamp_index(int64_t i, int64_t size) { return i < 0 ? 0 : (i >= size ? size - 1 : i); }

}  // namespace

ResizeAxisMap resize_axis_map(const ir::Attributes& attrs, bool linear, float scale, int64_t in_size,
                              int64_t out_size) {
  const std::string transform = attrs.s("coordinate_transformation_mode", "half_pixel");
  const std::string nearest_mode = attrs.s("nearest_mode", "round_prefer_floor");
  ResizeAxisMap map;
  for (int64_t o = 0; o < out_size; ++o) {
    const float src = source_coordinate(transform, o, scale, in_size, out_size);
    if (!linear) {
      const int64_t i = clamp_index(round_nearest(nearest_mode, src), in_size);
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

void resize(const ir::Attributes& attrs, const Tensor& input, Tensor& output) {
  require_rank(input, 4, "Resize input");
  require_rank(output, 4, "Resize output");
  const Shape& x = input.shape();
  const Shape& y = output.shape();
  if (x[0] != y[0] || x[1] != y[1])
    throw Error(cat("Resize from ", shape_str(x), " to ", shape_str(y),
                    " changes N or C; the reference backend resizes H and W only"));
  const std::vector<float> scales = attrs.floats("scales");
  if (scales.size() != 4) throw Error(cat("Resize needs 4 scales (one per dimension), has ", scales.size()));
  if (scales[2] <= 0.f || scales[3] <= 0.f) throw Error("Resize scales must be positive");
  if (x[2] == 0 || x[3] == 0) throw Error(cat("Resize input ", shape_str(x), " is empty"));
  const std::string mode = attrs.s("mode", "nearest");
  if (mode != "nearest" && mode != "linear")
    throw Error(cat("Resize mode '", mode, "' is not supported; the reference backend runs nearest and linear"));
  const bool linear = mode == "linear";
  const ResizeAxisMap rows = resize_axis_map(attrs, linear, scales[2], x[2], y[2]);
  const ResizeAxisMap cols = resize_axis_map(attrs, linear, scales[3], x[3], y[3]);

  const int64_t planes = x[0] * x[1];
  const float* xd = input.data<float>();
  float* yd = output.data<float>();
  for (int64_t p = 0; p < planes; ++p) {
    const float* plane = xd + p * x[2] * x[3];
    for (int64_t oy = 0; oy < y[2]; ++oy) {
      const float* row_lo = plane + rows.lo[oy] * x[3];
      const float* row_hi = plane + rows.hi[oy] * x[3];
      const float wy = rows.weight_hi[oy];
      for (int64_t ox = 0; ox < y[3]; ++ox) {
        const int64_t c0 = cols.lo[ox], c1 = cols.hi[ox];
        float& out = yd[(p * y[2] + oy) * y[3] + ox];
        if (!linear) {  // copied, not weighted, so that inf and NaN pass through unchanged
          out = row_lo[c0];
          continue;
        }
        const float wx = cols.weight_hi[ox];
        const float top = row_lo[c0] * (1.f - wx) + row_lo[c1] * wx;
        const float bottom = row_hi[c0] * (1.f - wx) + row_hi[c1] * wx;
        out = top * (1.f - wy) + bottom * wy;
      }
    }
  }
}

// The op table's entry (reference_op_table.cpp).
OpEntry resize_entry() {
  return {ir::Op::Resize, [](const ir::Node& node, Inputs inputs, Tensor& output) {
            resize(node.attrs, required_input(inputs, 0, node.op), output);
          }};
}

}  // namespace crowdrt::reference
