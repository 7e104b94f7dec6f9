// MaxPool, AveragePool (2-D) and GlobalAveragePool.
// Output size: ir::pool_output_size (ceil_mode drops a last window that would start inside the end padding).
// AveragePool's divisor follows PyTorch (and ONNX Runtime): with count_include_pad the window is clipped to the
// padded input, so a ceil_mode window hanging past the padding counts only the part inside it; without it,
// only the input elements inside the window are counted.
#include <algorithm>
#include <limits>

#include "backends/cpu/reference/reference_kernels.h"
#include "backends/cpu/reference/reference_op_table.h"

namespace crowdrt::reference {
namespace {

Shape pooled_shape(const Tensor& input, const ir::PoolParams& w) {
  const Shape& x = input.shape();
  return {x[0], x[1],
          ir::pool_output_size(x[2], w.kernel[0], w.strides[0], w.dilations[0], w.pads_begin[0], w.pads_end[0],
                               w.ceil_mode),
          ir::pool_output_size(x[3], w.kernel[1], w.strides[1], w.dilations[1], w.pads_begin[1], w.pads_end[1],
                               w.ceil_mode)};
}

}  // namespace

void max_pool(const ir::Attributes& attrs, const Tensor& input, Tensor& output) {
  require_rank(input, 4, "MaxPool input");
  const ir::PoolParams w = ir::pool_params(ir::Op::MaxPool, attrs);
  const Shape out = pooled_shape(input, w);
  require_output_shape(output, out);
  const int64_t planes = out[0] * out[1], in_h = input.shape()[2], in_w = input.shape()[3];
  const float* xd = input.data<float>();
  float* yd = output.data<float>();
  for (int64_t p = 0; p < planes; ++p) {
    const float* plane = xd + p * in_h * in_w;
    for (int64_t oy = 0; oy < out[2]; ++oy) {
      for (int64_t ox = 0; ox < out[3]; ++ox) {
        float best = -std::numeric_limits<float>::infinity();  // padding never wins
        for (int64_t ky = 0; ky < w.kernel[0]; ++ky) {
          const int64_t iy = oy * w.strides[0] - w.pads_begin[0] + ky * w.dilations[0];
          if (iy < 0 || iy >= in_h) continue;
          for (int64_t kx = 0; kx < w.kernel[1]; ++kx) {
            const int64_t ix = ox * w.strides[1] - w.pads_begin[1] + kx * w.dilations[1];
            if (ix < 0 || ix >= in_w) continue;
            best = std::max(best, plane[iy * in_w + ix]);
          }
        }
        yd[(p * out[2] + oy) * out[3] + ox] = best;
      }
    }
  }
}

void average_pool(const ir::Attributes& attrs, const Tensor& input, Tensor& output) {
  require_rank(input, 4, "AveragePool input");
  const ir::PoolParams w = ir::pool_params(ir::Op::AveragePool, attrs);
  const Shape out = pooled_shape(input, w);
  require_output_shape(output, out);
  const int64_t planes = out[0] * out[1], in_h = input.shape()[2], in_w = input.shape()[3];
  const float* xd = input.data<float>();
  float* yd = output.data<float>();
  for (int64_t p = 0; p < planes; ++p) {
    const float* plane = xd + p * in_h * in_w;
    for (int64_t oy = 0; oy < out[2]; ++oy) {
      for (int64_t ox = 0; ox < out[3]; ++ox) {
        // The window clipped to the padded input, then to the input itself.
        int64_t y0 = oy * w.strides[0] - w.pads_begin[0], x0 = ox * w.strides[1] - w.pads_begin[1];
        int64_t y1 = std::min(y0 + w.kernel[0], in_h + w.pads_end[0]);
        int64_t x1 = std::min(x0 + w.kernel[1], in_w + w.pads_end[1]);
        const int64_t padded_count = (y1 - y0) * (x1 - x0);
        y0 = std::max<int64_t>(y0, 0);
        x0 = std::max<int64_t>(x0, 0);
        y1 = std::min(y1, in_h);
        x1 = std::min(x1, in_w);
        float sum = 0.f;
        for (int64_t iy = y0; iy < y1; ++iy)
          for (int64_t ix = x0; ix < x1; ++ix) sum += plane[iy * in_w + ix];
        const int64_t count = w.count_include_pad ? padded_count : (y1 - y0) * (x1 - x0);
        yd[(p * out[2] + oy) * out[3] + ox] = count > 0 ? sum / static_cast<float>(count) : 0.f;
      }
    }
  }
}

void global_average_pool(const Tensor& input, Tensor& output) {
  const Shape& x = input.shape();
  if (x.size() < 3) throw Error(cat("GlobalAveragePool input ", shape_str(x), " is not N x C x spatial"));
  Shape out(x.size(), 1);
  out[0] = x[0];
  out[1] = x[1];
  require_output_shape(output, out);
  const int64_t planes = x[0] * x[1], inner = planes == 0 ? 0 : input.numel() / planes;
  const float* xd = input.data<float>();
  float* yd = output.data<float>();
  for (int64_t p = 0; p < planes; ++p) {
    double sum = 0.0;
    for (int64_t i = 0; i < inner; ++i) sum += xd[p * inner + i];
    yd[p] = static_cast<float>(sum / static_cast<double>(inner));
  }
}

// The op table's entry (reference_op_table.cpp).
OpEntry pool_entry(ir::Op op) {
  switch (op) {
    case ir::Op::MaxPool:
      return {op, [](const ir::Node& node, Inputs inputs, Tensor& output) {
                max_pool(node.attrs, required_input(inputs, 0, node.op), output);
              }};
    case ir::Op::AveragePool:
      return {op, [](const ir::Node& node, Inputs inputs, Tensor& output) {
                average_pool(node.attrs, required_input(inputs, 0, node.op), output);
              }};
    case ir::Op::GlobalAveragePool:
      return {op, [](const ir::Node& node, Inputs inputs, Tensor& output) {
                global_average_pool(required_input(inputs, 0, node.op), output);
              }};
    default: throw Error(cat(ir::op_name(op), " is not a pooling op"));
  }
}

}  // namespace crowdrt::reference
