// Element-wise activations (ONNX Relu, LeakyRelu, Clip, Sigmoid, HardSigmoid, HardSwish), standalone and as
// the Conv epilogue. HardSwish per ONNX: x * max(0, min(1, x/6 + 0.5)).
#include <algorithm>
#include <cmath>
#include <limits>

#include "backends/cpu/reference/reference_kernels.h"
#include "backends/cpu/reference/reference_op_table.h"

namespace crowdrt::reference {

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

Activation epilogue_activation(const ir::Attributes& attrs) {
  const std::string name = attrs.s("activation", "");
  const float alpha = attrs.f("alpha", 0.f), beta = attrs.f("beta", 0.f);
  if (name.empty()) return {};
  if (name == "relu") return {ActivationKind::relu, alpha, beta};
  if (name == "leaky_relu") return {ActivationKind::leaky_relu, alpha, beta};
  if (name == "clip") return {ActivationKind::clip, alpha, beta};
  if (name == "sigmoid") return {ActivationKind::sigmoid, alpha, beta};
  if (name == "hard_sigmoid") return {ActivationKind::hard_sigmoid, alpha, beta};
  if (name == "hard_swish") return {ActivationKind::hard_swish, alpha, beta};
  throw Error(cat("fused activation '", name,
                  "' is unknown; expected relu, leaky_relu, clip, sigmoid, hard_sigmoid or hard_swish"));
}

Activation op_activation(ir::Op op, const ir::Attributes& attrs) {
  constexpr float kInf = std::numeric_limits<float>::infinity();
  switch (op) {
    case ir::Op::Relu: return {ActivationKind::relu};
    case ir::Op::LeakyRelu: return {ActivationKind::leaky_relu, attrs.f("alpha", 0.01f)};
    case ir::Op::Clip: return {ActivationKind::clip, attrs.f("min", -kInf), attrs.f("max", kInf)};
    case ir::Op::Sigmoid: return {ActivationKind::sigmoid};
    case ir::Op::HardSigmoid: return {ActivationKind::hard_sigmoid, attrs.f("alpha", 0.2f), attrs.f("beta", 0.5f)};
    case ir::Op::HardSwish: return {ActivationKind::hard_swish};
    default: throw Error(cat(ir::op_name(op), " is not an activation"));
  }
}

void activation(ir::Op op, const ir::Attributes& attrs, const Tensor& input, Tensor& output) {
  const Activation act = op_activation(op, attrs);
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
