// Dispatches one compute node to its reference kernel; errors from a kernel come back naming the node.
#include <algorithm>

#include "backends/cpu/reference/reference_backend.h"
#include "backends/cpu/reference/reference_kernels.h"

namespace crowdrt {
namespace {

const Tensor& required(std::span<const Tensor* const> inputs, size_t i, const ir::Node& node) {
  if (i >= inputs.size() || !inputs[i])
    throw Error(cat(ir::op_name(node.op), " needs input ", i, ", which is missing"));
  return *inputs[i];
}

void dispatch(const ir::Node& node, std::span<const Tensor* const> inputs, Tensor& out) {
  using ir::Op;
  const ir::Attributes& a = node.attrs;
  switch (node.op) {
    case Op::Conv: return reference::conv(a, inputs, out);
    case Op::ConvTranspose: return reference::conv_transpose(a, inputs, out);
    case Op::BatchNormalization: return reference::batch_normalization(a, inputs, out);
    case Op::Relu:
    case Op::LeakyRelu:
    case Op::Clip:
    case Op::Sigmoid:
    case Op::HardSigmoid:
    case Op::HardSwish: return reference::activation(node.op, a, required(inputs, 0, node), out);
    case Op::Add:
    case Op::Sub:
    case Op::Mul:
    case Op::Div: return reference::binary(node.op, required(inputs, 0, node), required(inputs, 1, node), out);
    case Op::Concat: return reference::concat(a, inputs, out);
    case Op::MaxPool: return reference::max_pool(a, required(inputs, 0, node), out);
    case Op::AveragePool: return reference::average_pool(a, required(inputs, 0, node), out);
    case Op::GlobalAveragePool: return reference::global_average_pool(required(inputs, 0, node), out);
    case Op::ReduceMean: return reference::reduce_mean(a, required(inputs, 0, node), out);
    case Op::Resize: return reference::resize(a, required(inputs, 0, node), out);
    case Op::Pad: return reference::pad(a, required(inputs, 0, node), out);
    case Op::Identity: {
      const Tensor& x = required(inputs, 0, node);
      reference::require_output_shape(out, x.shape());
      std::copy(x.span<float>().begin(), x.span<float>().end(), out.data<float>());
      return;
    }
    default:
      throw Error(cat("the reference backend has no kernel for ", ir::op_name(node.op),
                      "; shape ops must be folded by fold_constants before a backend sees the graph"));
  }
}

}  // namespace

void run_reference_node(const ir::Graph& graph, const ir::Node& node, std::span<const Tensor* const> inputs,
                        std::span<Tensor* const> outputs) {
  try {
    if (outputs.size() != 1 || !outputs[0])
      throw Error(cat("reference kernels write one output, the node has ", outputs.size()));
    dispatch(node, inputs, *outputs[0]);
  } catch (const Error& e) {
    throw Error(cat("reference backend, ", ir::describe(graph, node), ": ", e.what()));
  }
}

}  // namespace crowdrt
