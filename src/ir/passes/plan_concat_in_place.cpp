// A Concat whose inputs are each written by one node and read only by the Concat can be computed for free:
// the producers write into slices of the output. The graph-level conditions are checked here; the
// backend's predicate adds its own (layout, alignment).
#include <algorithm>
#include <set>

#include "ir/passes/passes.h"

namespace crowdrt::ir {

Graph plan_concat_in_place(Graph graph, const std::function<bool(const Graph&, const Node&)>& allowed) {
  const std::vector<int> producer = graph.producers();
  const std::vector<int> uses = graph.use_counts();
  const auto& outs = graph.outputs();
  for (Node& node : graph.nodes()) {
    if (node.op != Op::Concat) continue;
    node.attrs.erase("in_place");
    std::set<ValueId> seen;
    bool ok = !node.inputs.empty();
    for (ValueId v : node.inputs) {
      const bool graph_output = std::find(outs.begin(), outs.end(), v) != outs.end();
      if (v == kNoValue || producer[v] < 0 || uses[v] != 1 || graph_output || !seen.insert(v).second ||
          graph.nodes()[producer[v]].op == Op::Concat) {
        ok = false;
        break;
      }
    }
    if (ok && allowed(graph, node)) node.attrs.set("in_place", int64_t{1});
  }
  return graph;
}

}  // namespace crowdrt::ir
