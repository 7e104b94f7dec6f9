// Identity nodes (PyTorch 1.13 puts them on shared weights and smp's nn.Identity modules) carry no work.
#include <algorithm>

#include "ir/passes/passes.h"

namespace crowdrt::ir {

Graph remove_identity(Graph graph) {
  const auto& outs = graph.outputs();
  std::vector<Node> kept;
  std::vector<std::pair<ValueId, ValueId>> renames;  // (identity output, its input)
  for (Node& node : graph.nodes()) {
    const bool is_output =
        node.op == Op::Identity && std::find(outs.begin(), outs.end(), node.outputs[0]) != outs.end();
    if (node.op != Op::Identity || is_output) {
      kept.push_back(std::move(node));
      continue;
    }
    // Nodes are in topological order, so an identity of an identity resolves to the first one's input.
    ValueId source = node.inputs[0];
    for (const auto& [from, to] : renames)
      if (from == source) source = to;
    renames.emplace_back(node.outputs[0], source);
  }
  graph.nodes() = std::move(kept);
  for (auto [from, to] : renames) graph.replace_uses(from, to);
  // An Identity that produces a graph output: let its input's producer write the output directly,
  // so the output keeps its name, when nothing else reads the input.
  const std::vector<int> uses = graph.use_counts();
  const std::vector<int> producer = graph.producers();
  for (size_t i = 0; i < graph.nodes().size(); ++i) {
    Node& node = graph.nodes()[i];
    if (node.op != Op::Identity) continue;
    const ValueId in = node.inputs[0];
    const int p = producer[in];
    const bool graph_output = std::find(outs.begin(), outs.end(), in) != outs.end();
    if (p < 0 || uses[in] != 1 || graph_output) continue;
    for (ValueId& v : graph.nodes()[p].outputs)
      if (v == in) v = node.outputs[0];
    node.outputs.clear();
  }
  auto& nodes = graph.nodes();
  nodes.erase(std::remove_if(nodes.begin(), nodes.end(), [](const Node& n) { return n.outputs.empty(); }),
              nodes.end());
  return graph;
}

}  // namespace crowdrt::ir
