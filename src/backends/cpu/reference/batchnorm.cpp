// BatchNormalization in inference mode (ONNX): y = scale * (x - mean) / sqrt(var + epsilon) + B per channel
// (dimension 1), for any rank >= 2.
#include <cmath>

#include "backends/cpu/reference/reference_kernels.h"
#include "backends/cpu/reference/reference_op_table.h"

namespace crowdrt::reference {

void batch_normalization(const ir::Attributes& attrs, Inputs inputs, Tensor& output) {
  if (inputs.size() != 5) throw Error("BatchNormalization needs inputs X, scale, B, mean, var");
  for (const Tensor* t : inputs)
    if (!t) throw Error("BatchNormalization needs inputs X, scale, B, mean, var (one is missing)");
  const Tensor& x = *inputs[0];
  if (x.shape().size() < 2) throw Error(cat("BatchNormalization input ", shape_str(x.shape()), " has no channels"));
  require_output_shape(output, x.shape());
  const int64_t n_batch = x.shape()[0], channels = x.shape()[1];
  const int64_t inner = channels == 0 ? 0 : x.numel() / (n_batch * channels);
  for (size_t i = 1; i < 5; ++i)
    if (inputs[i]->numel() != channels)
      throw Error(cat("BatchNormalization parameter ", i, " has ", inputs[i]->numel(), " values for ", channels,
                      " channels"));
  const float epsilon = attrs.f("epsilon", 1e-5f);
  const float* scale = inputs[1]->data<float>();
  const float* shift = inputs[2]->data<float>();
  const float* mean = inputs[3]->data<float>();
  const float* var = inputs[4]->data<float>();
  const float* xd = x.data<float>();
  float* yd = output.data<float>();
  for (int64_t n = 0; n < n_batch; ++n) {
    for (int64_t c = 0; c < channels; ++c) {
      const float inv_std = 1.f / std::sqrt(var[c] + epsilon);
      const int64_t base = (n * channels + c) * inner;
      for (int64_t i = 0; i < inner; ++i) yd[base + i] = scale[c] * (xd[base + i] - mean[c]) * inv_std + shift[c];
    }
  }
}

// The op table's entry (reference_op_table.cpp).
OpEntry batch_normalization_entry() {
  return {ir::Op::BatchNormalization, [](const ir::Node& node, Inputs inputs, Tensor& output) {
            batch_normalization(node.attrs, inputs, output);
          }};
}

}  // namespace crowdrt::reference
