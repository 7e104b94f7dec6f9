// Element-wise activations (ONNX Relu, LeakyRelu, Clip, Sigmoid, HardSigmoid, HardSwish) as standalone ops;
// what each computes is ir::Activation (ir/op_params.h), which the Conv epilogue applies too.
#include "backends/cpu/reference/reference_kernels.h"

namespace crowdrt::reference {

void activation(ir::Op op, const ir::Attributes& attrs, const Tensor& input, Tensor& output) {
  const ir::Activation act = ir::op_activation(op, attrs);
  require_output_shape(output, input.shape());
  const float* x = input.data<float>();
  float* y = output.data<float>();
  for (int64_t i = 0; i < input.numel(); ++i) y[i] = act(x[i]);
}

}  // namespace crowdrt::reference
