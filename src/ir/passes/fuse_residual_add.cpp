// Add(Conv(x), y) → Conv(x) with y as residual input: the sum happens in the Conv's epilogue, so y is read
// once and the Add's output is never materialised separately (ResNet blocks: conv → bn → add → relu).
#include <algorithm>

#include "ir/passes/passes.h"

namespace crowdrt::ir {

Graph fuse_residual_add(Graph graph) {
  const std::vector<int> producer = graph.producers();
  const std::vector<int> uses = graph.use_counts();
  const auto& outs = graph.outputs();
  std::vector<bool> drop(graph.nodes().size(), false);
  std::vector<bool> fused(graph.nodes().size(), false);
  for (size_t i = 0; i < graph.nodes().size(); ++i) {
    const Node& add = graph.nodes()[i];
    if (add.op != Op::Add || add.inputs.size() != 2) continue;
    const Value& a = graph.value(add.inputs[0]);
    const Value& b = graph.value(add.inputs[1]);
    if (a.is_constant() || b.is_constant() || a.shape != b.shape || !a.shape_known) continue;
    // Prefer the Conv computed later, so the residual is ready when the Conv runs.
    int best = -1, other = -1;
    for (int k = 0; k < 2; ++k) {
      const ValueId v = add.inputs[k];
      const int p = producer[v];
      if (p < 0 || uses[v] != 1 || std::find(outs.begin(), outs.end(), v) != outs.end() || fused[p]) continue;
      const Node& conv = graph.nodes()[p];
      if (conv.op != Op::Conv || conv.attrs.has("activation") || conv.attrs.i("fused_add")) continue;
      const int residual_producer = producer[add.inputs[1 - k]];
      if (residual_producer >= p) continue;  // residual must exist before the Conv runs
      if (best < 0 || p > best) { best = p; other = 1 - k; }
    }
    if (best < 0) continue;
    Node& conv = graph.nodes()[best];
    conv.inputs.resize(4, kNoValue);
    conv.inputs[3] = add.inputs[other];
    conv.attrs.set("fused_add", int64_t{1});
    conv.outputs[0] = add.outputs[0];
    fused[best] = true;
    drop[i] = true;
  }
  graph.erase_nodes(drop);
  return graph;
}

}  // namespace crowdrt::ir
