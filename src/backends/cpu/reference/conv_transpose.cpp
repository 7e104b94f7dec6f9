// ConvTranspose (ONNX ConvTranspose, 2-D): weight Cin x Cout/group x kh x kw; each input pixel scatters its
// kernel into the output at stride spacing, shifted up-left by the begin pads (output size: ir/op_params.h).
#include "backends/cpu/reference/reference_kernels.h"
#include "backends/cpu/reference/reference_op_table.h"

namespace crowdrt::reference {

void conv_transpose(const ir::Attributes& attrs, Inputs inputs, Tensor& output) {
  if (inputs.size() < 2 || !inputs[0] || !inputs[1]) throw Error("ConvTranspose needs inputs X and W");
  const Tensor& x = *inputs[0];
  const Tensor& w = *inputs[1];
  const Tensor* bias = inputs.size() > 2 ? inputs[2] : nullptr;
  require_rank(x, 4, "ConvTranspose input X");
  require_rank(w, 4, "ConvTranspose weight W");

  const int64_t n_batch = x.shape()[0], in_c = x.shape()[1], in_h = x.shape()[2], in_w = x.shape()[3];
  const int64_t kh = w.shape()[2], kw = w.shape()[3];
  const ir::ConvParams p = ir::conv_params(attrs);
  const int64_t group = p.group;
  if (group < 1 || w.shape()[0] != in_c || in_c % group != 0)
    throw Error(cat("ConvTranspose input ", shape_str(x.shape()), ", weight ", shape_str(w.shape()), " and group ",
                    group, " do not fit (weight must be Cin x Cout/group x kh x kw)"));
  const int64_t out_per_group = w.shape()[1], out_c = out_per_group * group, in_per_group = in_c / group;
  const std::vector<int64_t>& strides = p.strides;
  const std::vector<int64_t>& dilations = p.dilations;
  if (p.kernel[0] != kh || p.kernel[1] != kw)
    throw Error(cat("ConvTranspose kernel_shape ", shape_str(p.kernel), " differs from weight ", shape_str(w.shape())));
  if (bias && bias->numel() != out_c)
    throw Error(cat("ConvTranspose bias has ", bias->numel(), " values for ", out_c, " output channels"));

  const int64_t out_h = ir::conv_transpose_output_size(in_h, kh, strides[0], dilations[0], p.pads_begin[0],
                                                       p.pads_end[0], p.output_padding[0]);
  const int64_t out_w = ir::conv_transpose_output_size(in_w, kw, strides[1], dilations[1], p.pads_begin[1],
                                                       p.pads_end[1], p.output_padding[1]);
  require_output_shape(output, {n_batch, out_c, out_h, out_w});

  const float* xd = x.data<float>();
  const float* wd = w.data<float>();
  const float* bd = bias ? bias->data<float>() : nullptr;
  float* yd = output.data<float>();

  // Parallel over output planes: each (n, oc) plane is written by one thread only.
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t n = 0; n < n_batch; ++n) {
    for (int64_t oc = 0; oc < out_c; ++oc) {
      float* plane = yd + (n * out_c + oc) * out_h * out_w;
      for (int64_t i = 0; i < out_h * out_w; ++i) plane[i] = bd ? bd[oc] : 0.f;
      const int64_t g = oc / out_per_group, oc_in_group = oc % out_per_group;
      for (int64_t ic = g * in_per_group; ic < (g + 1) * in_per_group; ++ic) {
        const float* in_plane = xd + (n * in_c + ic) * in_h * in_w;
        const float* taps = wd + (ic * out_per_group + oc_in_group) * kh * kw;
        for (int64_t iy = 0; iy < in_h; ++iy) {
          for (int64_t ix = 0; ix < in_w; ++ix) {
            const float v = in_plane[iy * in_w + ix];
            for (int64_t ky = 0; ky < kh; ++ky) {
              const int64_t oy = iy * strides[0] - p.pads_begin[0] + ky * dilations[0];
              if (oy < 0 || oy >= out_h) continue;
              for (int64_t kx = 0; kx < kw; ++kx) {
                const int64_t ox = ix * strides[1] - p.pads_begin[1] + kx * dilations[1];
                if (ox < 0 || ox >= out_w) continue;
                plane[oy * out_w + ox] += v * taps[ky * kw + kx];
              }
            }
          }
        }
      }
    }
  }
}

// The op table's entry (reference_op_table.cpp).
OpEntry conv_transpose_entry() {
  return {ir::Op::ConvTranspose,
          [](const ir::Node& node, Inputs inputs, Tensor& output) { conv_transpose(node.attrs, inputs, output); }};
}

}  // namespace crowdrt::reference
