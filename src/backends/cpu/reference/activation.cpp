// Element-wise activations (ONNX Relu, LeakyRelu, Clip, Sigmoid, HardSigmoid, HardSwish) as standalone ops;
// what each computes is ir::Activation (ir/op_params.h), which the Conv epilogue applies too.
#include "backends/cpu/reference/reference_kernels.h"
#include "backends/cpu/reference/reference_op_table.h"

namespace crowdrt::reference {

void activation(ir::Op op, const ir::Attributes& attrs, const Tensor& input, Tensor& output) {
  const ir::Activation act = ir::op_activation(op, attrs);
  require_output_shape(output, input.shape());
  const float* x = input.data<float>();
  float* y = output.data<float>();
  for (int64_t i = 0; i < input.numel(); ++i) y[i] = act(x[i]);
}

// The op table's entry (reference_op_table.cpp).
OpEntry activation_entry(ir::Op op) {
  return {op, [](const ir::Node& node, Inputs inputs, Tensor& output) {
            activation(node.op, node.attrs, required_input(inputs, 0, node.op), output);
          }};
}

}  // namespace crowdrt::reference
