// Pad (constant, reflect, edge) over up to 4 dimensions, one kernel.
#include <algorithm>
#include <array>

#include "backends/cuda/cuda_op_table.h"

namespace crowdrt::cuda {

bool pad_supported(const ir::Graph& g, const ir::Node& n) {
  return rank_at_most_4(g, n.inputs.at(0)) && n.inputs.size() == 1;
}

void build_pad(CudaCompiledGraph& graph, const ir::Node& node) {
  const ir::PadParams params = ir::pad_params(node.attrs);
  const std::vector<int64_t>& pads = params.pads;
  const int rank = static_cast<int>(pads.size() / 2);
  std::array<int64_t, 8> p = {0, 0, 0, 0, 0, 0, 0, 0};
  for (int d = 0; d < rank; ++d) {
    p[d + 4 - rank] = pads[d];
    p[4 + d + 4 - rank] = pads[rank + d];
  }
  // The kernel's modes mirror ir::PadMode's (constant, reflect, edge).
  const PadMode pm = static_cast<PadMode>(static_cast<int>(params.mode));
  const float value = params.value;
  const View x = graph.input_view(node, 0);
  const View out = graph.view(node.outputs[0]);
  graph.add(&node, ir::fused_op_name(node), "crowdrt:pad",
            [x, out, p, pm, value](cudaStream_t s) { launch_pad(x, out, p.data(), pm, value, s); });
}

}  // namespace crowdrt::cuda
