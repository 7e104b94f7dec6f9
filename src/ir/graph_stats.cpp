#include "ir/graph_stats.h"

#include <set>

#include "core/checked.h"

namespace crowdrt::ir {

int64_t node_macs(const Graph& graph, const Node& node) {
  if (node.op != Op::Conv && node.op != Op::ConvTranspose) return 0;
  // Graphs are validated (ir/validate.h) before they get here; a node without its operands counts nothing.
  if (node.inputs.size() < 2 || node.inputs[0] == kNoValue || node.inputs[1] == kNoValue || node.outputs.empty())
    return 0;
  const Shape& w = graph.value(node.inputs[1]).shape;
  if (w.size() < 3) return 0;
  const std::string what = cat("multiply-accumulates of ", describe(graph, node));
  int64_t kernel = 1;
  for (size_t i = 2; i < w.size(); ++i) kernel = checked_mul(kernel, w[i], what);
  // Conv: every output element takes Cin/group × kernel MACs; transposed: every input element scatters into
  // Cout/group × kernel outputs.
  const Shape& per = graph.value(node.op == Op::Conv ? node.outputs[0] : node.inputs[0]).shape;
  return checked_mul(checked_mul(shape_numel(per), w[1], what), kernel, what);
}

int64_t node_parameters(const Graph& graph, const Node& node) {
  int64_t n = 0;
  for (ValueId v : node.inputs)
    if (v != kNoValue && graph.value(v).is_constant()) n += graph.constant(v).numel();
  return n;
}

int64_t graph_macs(const Graph& graph) {
  int64_t n = 0;
  for (const Node& node : graph.nodes()) n = checked_add(n, node_macs(graph, node), "the graph's multiply-accumulates");
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
