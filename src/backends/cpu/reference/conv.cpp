// Conv (ONNX Conv, 2-D): groups, strides, dilations, pads (t, l, b, r), optional bias, and the fused epilogue
// y = act(conv(x) + B + residual) that fuse_residual_add / fuse_activation leave on the node.
#include "backends/cpu/reference/reference_kernels.h"
#include "backends/cpu/reference/reference_op_table.h"

namespace crowdrt::reference {

void conv(const ir::Attributes& attrs, Inputs inputs, Tensor& output) {
  if (inputs.size() < 2 || !inputs[0] || !inputs[1]) throw Error("Conv needs inputs X and W");
  const Tensor& x = *inputs[0];
  const Tensor& w = *inputs[1];
  const Tensor* bias = inputs.size() > 2 ? inputs[2] : nullptr;
  const bool fused_add = attrs.i("fused_add", 0) != 0;
  const Tensor* residual = fused_add && inputs.size() > 3 ? inputs[3] : nullptr;
  if (fused_add && !residual) throw Error("Conv has fused_add = 1 but no residual input (inputs[3])");
  require_rank(x, 4, "Conv input X");
  require_rank(w, 4, "Conv weight W");

  const int64_t n_batch = x.shape()[0], in_c = x.shape()[1], in_h = x.shape()[2], in_w = x.shape()[3];
  const int64_t out_c = w.shape()[0], kh = w.shape()[2], kw = w.shape()[3];
  const ir::ConvParams p = ir::conv_params(attrs);
  const int64_t group = p.group;
  const std::vector<int64_t>& strides = p.strides;
  const std::vector<int64_t>& dilations = p.dilations;
  if (p.kernel[0] != kh || p.kernel[1] != kw)
    throw Error(cat("Conv kernel_shape ", shape_str(p.kernel), " differs from weight ", shape_str(w.shape())));
  if (group < 1 || in_c % group != 0 || out_c % group != 0 || w.shape()[1] != in_c / group)
    throw Error(cat("Conv input ", shape_str(x.shape()), ", weight ", shape_str(w.shape()), " and group ", group,
                    " do not fit (weight must be Cout x Cin/group x kh x kw)"));
  if (bias && bias->numel() != out_c)
    throw Error(cat("Conv bias has ", bias->numel(), " values for ", out_c, " output channels"));

  const int64_t out_h = ir::conv_output_size(in_h, kh, strides[0], dilations[0], p.pads_begin[0], p.pads_end[0]);
  const int64_t out_w = ir::conv_output_size(in_w, kw, strides[1], dilations[1], p.pads_begin[1], p.pads_end[1]);
  require_output_shape(output, {n_batch, out_c, out_h, out_w});
  if (residual && residual->shape() != output.shape())
    throw Error(cat("Conv residual is ", shape_str(residual->shape()), ", not the output shape ",
                    shape_str(output.shape())));

  const ir::Activation act = ir::epilogue_activation(attrs);
  const int64_t in_per_group = in_c / group, out_per_group = out_c / group;
  const float* xd = x.data<float>();
  const float* wd = w.data<float>();
  const float* bd = bias ? bias->data<float>() : nullptr;
  const float* rd = residual ? residual->data<float>() : nullptr;
  float* yd = output.data<float>();

#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t n = 0; n < n_batch; ++n) {
    for (int64_t oc = 0; oc < out_c; ++oc) {
      const int64_t first_ic = (oc / out_per_group) * in_per_group;
      for (int64_t oy = 0; oy < out_h; ++oy) {
        for (int64_t ox = 0; ox < out_w; ++ox) {
          float sum = 0.f;
          for (int64_t ic = 0; ic < in_per_group; ++ic) {
            const float* plane = xd + (n * in_c + first_ic + ic) * in_h * in_w;
            const float* taps = wd + (oc * in_per_group + ic) * kh * kw;
            for (int64_t ky = 0; ky < kh; ++ky) {
              const int64_t iy = oy * strides[0] - p.pads_begin[0] + ky * dilations[0];
              if (iy < 0 || iy >= in_h) continue;
              for (int64_t kx = 0; kx < kw; ++kx) {
                const int64_t ix = ox * strides[1] - p.pads_begin[1] + kx * dilations[1];
                if (ix < 0 || ix >= in_w) continue;
                sum += plane[iy * in_w + ix] * taps[ky * kw + kx];
              }
            }
          }
          const int64_t at = ((n * out_c + oc) * out_h + oy) * out_w + ox;
          if (bd) sum += bd[oc];
          if (rd) sum += rd[at];
          yd[at] = act(sum);
        }
      }
    }
  }
}

// The op table's entry (reference_op_table.cpp).
OpEntry conv_entry() {
  return {ir::Op::Conv, [](const ir::Node& node, Inputs inputs, Tensor& output) { conv(node.attrs, inputs, output); }};
}

}  // namespace crowdrt::reference
