// Per-element ops, each one launch of cuda_kernels.cu over NHWC (or row-major) views: BatchNormalization (a
// channel affine), the activations, Identity (a copy) and the broadcasting binary ops.
#include <cmath>

#include "backends/cuda/cuda_op_table.h"

namespace crowdrt::cuda {

using ir::Op;

bool batch_normalization_supported(const ir::Graph& g, const ir::Node& n) {
  if (n.inputs.size() < 5) return false;
  for (size_t k = 1; k < 5; ++k)
    if (!g.value(n.inputs[k]).is_constant()) return false;
  return rank_at_most_4(g, n.inputs[0]) && g.value(n.inputs[0]).shape.size() >= 2;
}

void build_batch_normalization(CudaCompiledGraph& graph, const ir::Node& node) {
  const ir::Graph& g = graph.graph();
  const std::vector<float> gamma = g.value(node.inputs[1]).data->to_float();
  const std::vector<float> beta = g.value(node.inputs[2]).data->to_float();
  const std::vector<float> mean = g.value(node.inputs[3]).data->to_float();
  const std::vector<float> var = g.value(node.inputs[4]).data->to_float();
  const float eps = node.attrs.f("epsilon", 1e-5f);
  std::vector<float> scale(gamma.size()), shift(gamma.size());
  for (size_t c = 0; c < gamma.size(); ++c) {
    scale[c] = gamma[c] / std::sqrt(var[c] + eps);
    shift[c] = beta[c] - mean[c] * scale[c];
  }
  const float* sc = graph.upload_floats(scale, "BatchNormalization scale");
  const float* sh = graph.upload_floats(shift, "BatchNormalization shift");
  const View x = graph.input_view(node, 0);
  const View out = graph.view(node.outputs[0]);
  graph.add(&node, ir::fused_op_name(node), "crowdrt:channel_affine",
            [x, out, sc, sh](cudaStream_t s) { launch_channel_affine(x, out, sc, sh, s); });
}

bool activation_supported(const ir::Graph& g, const ir::Node& n) {
  if (n.op == Op::Clip) return n.inputs.size() == 1 && rank_at_most_4(g, n.inputs[0]);
  return rank_at_most_4(g, n.inputs.at(0));
}

void build_activation(CudaCompiledGraph& graph, const ir::Node& node) {
  const Activation act = to_cuda(ir::op_activation(node.op, node.attrs));
  const View x = graph.input_view(node, 0);
  const View out = graph.view(node.outputs[0]);
  graph.add(&node, ir::fused_op_name(node), "crowdrt:activation",
            [x, out, act](cudaStream_t s) { launch_activation(x, out, act, s); });
}

bool identity_supported(const ir::Graph& g, const ir::Node& n) { return rank_at_most_4(g, n.inputs.at(0)); }

void build_identity(CudaCompiledGraph& graph, const ir::Node& node) {
  const View x = graph.input_view(node, 0);
  const View out = graph.view(node.outputs[0]);
  graph.add(&node, ir::fused_op_name(node), "crowdrt:copy", [x, out](cudaStream_t s) {
    if (!launch_copy_pixels(x, out, s)) launch_activation(x, out, {}, s);
  });
}

bool binary_supported(const ir::Graph& g, const ir::Node& n) {
  return n.inputs.size() == 2 && rank_at_most_4(g, n.inputs[0]) && rank_at_most_4(g, n.inputs[1]) &&
         rank_at_most_4(g, n.outputs.at(0));
}

void build_binary(CudaCompiledGraph& graph, const ir::Node& node) {
  const BinaryOp bop = node.op == Op::Add ? BinaryOp::add
                       : node.op == Op::Sub ? BinaryOp::sub
                       : node.op == Op::Mul ? BinaryOp::mul
                                            : BinaryOp::div;
  const View out = graph.view(node.outputs[0]);
  const View x = broadcast_to(graph.input_view(node, 0), out.dims);
  const View y = broadcast_to(graph.input_view(node, 1), out.dims);
  graph.add(&node, ir::fused_op_name(node), "crowdrt:binary",
            [bop, x, y, out](cudaStream_t s) { launch_binary(bop, x, y, out, s); });
}

}  // namespace crowdrt::cuda
