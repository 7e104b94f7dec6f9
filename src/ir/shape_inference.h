// Output shapes and dtypes of every node from its inputs' (static shapes only, batch included).
#pragma once
#include "ir/graph.h"

namespace crowdrt::ir {

// Sets value shapes of the node's outputs; Error naming the node when inputs are inconsistent.
// Resize needs its output size known (canonical attributes or constant scales/sizes inputs).
void infer_node_shapes(Graph& graph, const Node& node);
// Runs infer_node_shapes over the graph in order.
void infer_shapes(Graph& graph);

}  // namespace crowdrt::ir
