#include "ir/graph_stats.h"

#include <set>

namespace crowdrt::ir {

int64_t node_macs(const Graph& graph, const Node& node) {
  if (node.op != Op::Conv && node.op != Op::ConvTranspose) return 0;
  const Shape& w = graph.value(node.inputs[1]).shape;
  if (w.size() < 3) return 0;
  int64_t kernel = 1;
  for (size_t i = 2; i < w.size(); ++i) kernel *= w[i];
  if (node.op == Op::Conv) {  // every output element: Cin/group × kernel MACs
    return shape_numel(graph.value(node.outputs[0]).shape) * w[1] * kernel;
  }
  // Transposed: every input element scatters into Cout/group × kernel outputs.
  return shape_numel(graph.value(node.inputs[0]).shape) * w[1] * kernel;
}

int64_t node_parameters(const Graph& graph, const Node& node) {
  int64_t n = 0;
  for (ValueId v : node.inputs)
    if (v != kNoValue && graph.value(v).is_constant()) n += graph.constant(v).numel();
  return n;
}

int64_t graph_macs(const Graph& graph) {
  int64_t n = 0;
  for (const Node& node : graph.nodes()) n += node_macs(graph, node);
  return n;
}

int64_t graph_parameters(const Graph& graph) {
  std::set<ValueId> seen;
  int64_t n = 0;
  for (const Node& node : graph.nodes())
    for (ValueId v : node.inputs)
      if (v != kNoValue && graph.value(v).is_constant() && seen.insert(v).second) n += graph.constant(v).numel();
  return n;
}

}  // namespace crowdrt::ir
