// An activation whose input is a Conv's only use runs as the Conv's epilogue (after bias and residual).
#include <algorithm>
#include <limits>

#include "ir/passes/passes.h"

namespace crowdrt::ir {
namespace {
// The epilogue name and parameters of a fusable activation node; false when it is not one.
bool activation_of(const Node& n, std::string* kind, float* alpha, float* beta) {
  *alpha = 0.f;
  *beta = 0.f;
  switch (n.op) {
    case Op::Relu: *kind = "relu"; return true;
    case Op::LeakyRelu: *kind = "leaky_relu"; *alpha = n.attrs.f("alpha", 0.01f); return true;
    case Op::Clip:
      *kind = "clip";
      *alpha = n.attrs.f("min", -std::numeric_limits<float>::infinity());
      *beta = n.attrs.f("max", std::numeric_limits<float>::infinity());
      return n.inputs.size() == 1;  // canonical Clip: bounds as attributes
    case Op::Sigmoid: *kind = "sigmoid"; return true;
    case Op::HardSigmoid:
      *kind = "hard_sigmoid";
      *alpha = n.attrs.f("alpha", 0.2f);
      *beta = n.attrs.f("beta", 0.5f);
      return true;
    case Op::HardSwish: *kind = "hard_swish"; return true;
    default: return false;
  }
}
}  // namespace

Graph fuse_activation(Graph graph) {
  const std::vector<int> producer = graph.producers();
  const std::vector<int> uses = graph.use_counts();
  const auto& outs = graph.outputs();
  std::vector<bool> drop(graph.nodes().size(), false);
  for (size_t i = 0; i < graph.nodes().size(); ++i) {
    const Node& act = graph.nodes()[i];
    std::string kind;
    float alpha, beta;
    if (!activation_of(act, &kind, &alpha, &beta)) continue;
    const ValueId x = act.inputs[0];
    const int p = producer[x];
    if (p < 0 || uses[x] != 1 || std::find(outs.begin(), outs.end(), x) != outs.end()) continue;
    Node& conv = graph.nodes()[p];
    if (conv.op != Op::Conv || conv.attrs.has("activation")) continue;
    conv.attrs.set("activation", kind);
    conv.attrs.set("alpha", alpha);
    conv.attrs.set("beta", beta);
    conv.outputs[0] = act.outputs[0];
    drop[i] = true;
  }
  graph.erase_nodes(drop);
  return graph;
}

}  // namespace crowdrt::ir
