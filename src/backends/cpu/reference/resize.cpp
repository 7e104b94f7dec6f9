// Resize of NCHW tensors over H and W, per the ONNX Resize spec (opset 11-19): each output coordinate maps to
// input neighbours by ir::resize_axis_map (coordinate_transformation_mode, nearest_mode, the per-dimension
// "scales"); mode nearest copies the neighbour, mode linear interpolates bilinearly between the two on each
// axis. The output size is the output's shape.

#include "backends/cpu/reference/reference_kernels.h"
#include "backends/cpu/reference/reference_op_table.h"

namespace crowdrt::reference {

void resize(const ir::Attributes& attrs, const Tensor& input, Tensor& output) {
  require_rank(input, 4, "Resize input");
  require_rank(output, 4, "Resize output");
  const Shape& x = input.shape();
  const Shape& y = output.shape();
  if (x[0] != y[0] || x[1] != y[1])
    throw Error(cat("Resize from ", shape_str(x), " to ", shape_str(y),
                    " changes N or C; the reference backend resizes H and W only"));
  const ir::ResizeParams params = ir::resize_params(attrs);
  const std::vector<float>& scales = params.scales;
  if (scales.size() != 4) throw Error(cat("Resize needs 4 scales (one per dimension), has ", scales.size()));
  if (scales[2] <= 0.f || scales[3] <= 0.f) throw Error("Resize scales must be positive");
  if (x[2] == 0 || x[3] == 0) throw Error(cat("Resize input ", shape_str(x), " is empty"));
  const bool linear = params.mode == ir::ResizeMode::linear;
  const ir::ResizeAxisMap rows = ir::resize_axis_map(params, scales[2], x[2], y[2]);
  const ir::ResizeAxisMap cols = ir::resize_axis_map(params, scales[3], x[3], y[3]);

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
