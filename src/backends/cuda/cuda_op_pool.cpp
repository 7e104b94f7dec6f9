// Windowed and reducing ops: MaxPool and AveragePool (one window kernel each), GlobalAveragePool and ReduceMean
// (one mean over the reduced axes).
#include "backends/cuda/cuda_op_table.h"

namespace crowdrt::cuda {

using ir::Op;

bool pool_supported(const ir::Graph& g, const ir::Node& n) { return all_rank_4(g, n); }

void build_pool(CudaCompiledGraph& graph, const ir::Node& node) {
  const ir::Attributes& a = node.attrs;
  Window w;
  const ir::PoolParams p = ir::pool_params(node.op, a);
  for (int i = 0; i < 2; ++i) {
    w.kernel[i] = static_cast<int>(p.kernel[i]);
    w.strides[i] = static_cast<int>(p.strides[i]);
    w.dilations[i] = static_cast<int>(p.dilations[i]);  // 1 for AveragePool
    w.pads[i] = static_cast<int>(p.pads_begin[i]);      // t, l, b, r
    w.pads[2 + i] = static_cast<int>(p.pads_end[i]);
  }
  const View x = graph.input_view(node, 0);
  const View out = graph.view(node.outputs[0]);
  if (node.op == Op::MaxPool) {
    graph.add(&node, ir::fused_op_name(node), "crowdrt:max_pool",
              [x, out, w](cudaStream_t st) { launch_max_pool(x, out, w, st); });
  } else {
    const bool include = p.count_include_pad;
    graph.add(&node, ir::fused_op_name(node), "crowdrt:average_pool",
              [x, out, w, include](cudaStream_t st) { launch_average_pool(x, out, w, include, st); });
  }
}

bool reduce_mean_supported(const ir::Graph& g, const ir::Node& n) {
  // Dropped dimensions would change the element order our views assume; keepdims only.
  return rank_at_most_4(g, n.inputs.at(0)) && n.attrs.i("keepdims", 1) != 0;
}

void build_reduce_mean(CudaCompiledGraph& graph, const ir::Node& node) {
  bool reduce[4] = {false, false, false, false};
  const int rank = static_cast<int>(graph.graph().value(node.inputs[0]).shape.size());
  if (node.op == Op::GlobalAveragePool) {
    reduce[2] = reduce[3] = true;
  } else {
    std::vector<int64_t> axes = node.attrs.ints("axes");
    if (axes.empty())
      for (int d = 0; d < rank; ++d) axes.push_back(d);
    for (int64_t axis : axes) reduce[axis + 4 - rank] = true;
  }
  const View x = graph.input_view(node, 0);
  const View out = graph.view(node.outputs[0]);
  graph.add(&node, ir::fused_op_name(node), "crowdrt:reduce_mean",
            [x, out, reduce](cudaStream_t s) { launch_reduce_mean(x, out, reduce, s); });
}

}  // namespace crowdrt::cuda
