// Nodes whose outputs nobody reads (after fusions and folding) are dropped.
#include "ir/passes/passes.h"

namespace crowdrt::ir {

Graph remove_dead(Graph graph) {
  graph.remove_dead_nodes();
  return graph;
}

}  // namespace crowdrt::ir
