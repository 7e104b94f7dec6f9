// MaxPool, AveragePool (2-D) and GlobalAveragePool.
// Output size per ONNX: floor or ceil((in + pads - dilation*(k-1) - 1) / stride) + 1, where with ceil_mode a
// last window that would start inside the right/bottom padding is dropped (ONNX and PyTorch agree on this).
// AveragePool's divisor follows PyTorch (and ONNX Runtime): with count_include_pad the window is clipped to the
// padded input, so a ceil_mode window hanging past the padding counts only the part inside it; without it,
// only the input elements inside the window are counted.
#include <algorithm>
#include <limits>

#include "backends/cpu/reference/reference_kernels.h"
#include "backends/cpu/reference/reference_op_table.h"

namespace crowdrt::reference {
namespace {

struct Window2d {
  std::vector<int64_t> kernel, strides, dilations, pads;  // pads t, l, b, r
  bool ceil_mode = false;
};

Window2d window_of(const ir::Attributes& attrs, bool with_dilations) {
  Window2d w;
  w.kernel = per_axis(attrs, "kernel_shape", 2, 0);
  w.strides = per_axis(attrs, "strides", 2, 1);
  w.dilations = with_dilations ? per_axis(attrs, "dilations", 2, 1) : std::vector<int64_t>{1, 1};
  w.pads = per_axis(attrs, "pads", 4, 0);
  w.ceil_mode = attrs.i("ceil_mode", 0) != 0;
  if (w.kernel[0] < 1 || w.kernel[1] < 1)
    throw Error(cat("pool kernel_shape ", shape_str(w.kernel), " is not positive"));
  return w;
}

int64_t pooled_size(int64_t in, int64_t k, int64_t stride, int64_t dilation, int64_t pad_begin, int64_t pad_end,
                    bool ceil_mode) {
  const int64_t span = in + pad_begin + pad_end - dilation * (k - 1) - 1;
  int64_t size = (ceil_mode ? (span + stride - 1) / stride : span / stride) + 1;
  if (ceil_mode && (size - 1) * stride >= in + pad_begin) --size;
  return size;
}

Shape pooled_shape(const Tensor& input, const Window2d& w) {
  const Shape& x = input.shape();
  return {x[0], x[1],
          pooled_size(x[2], w.kernel[0], w.strides[0], w.dilations[0], w.pads[0], w.pads[2], w.ceil_mode),
          pooled_size(x[3], w.kernel[1], w.strides[1], w.dilations[1], w.pads[1], w.pads[3], w.ceil_mode)};
}

}  // namespace

void max_pool(const ir::Attributes& attrs, const Tensor& input, Tensor& output) {
  require_rank(input, 4, "MaxPool input");
  const Window2d w = window_of(attrs, true);
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
          const int64_t iy = oy * w.strides[0] - w.pads[0] + ky * w.dilations[0];
          if (iy < 0 || iy >= in_h) continue;
          for (int64_t kx = 0; kx < w.kernel[1]; ++kx) {
            const int64_t ix = ox * w.strides[1] - w.pads[1] + kx * w.dilations[1];
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
  const Window2d w = window_of(attrs, false);
  const bool count_include_pad = attrs.i("count_include_pad", 0) != 0;
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
        int64_t y0 = oy * w.strides[0] - w.pads[0], x0 = ox * w.strides[1] - w.pads[1];
        int64_t y1 = std::min(y0 + w.kernel[0], in_h + w.pads[2]), x1 = std::min(x0 + w.kernel[1], in_w + w.pads[3]);
        const int64_t padded_count = (y1 - y0) * (x1 - x0);
        y0 = std::max<int64_t>(y0, 0);
        x0 = std::max<int64_t>(x0, 0);
        y1 = std::min(y1, in_h);
        x1 = std::min(x1, in_w);
        float sum = 0.f;
        for (int64_t iy = y0; iy < y1; ++iy)
          for (int64_t ix = x0; ix < x1; ++ix) sum += plane[iy * in_w + ix];
        const int64_t count = count_include_pad ? padded_count : (y1 - y0) * (x1 - x0);
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
