// Counting work and weights: MACs and parameters per node, for `inspect` and benchmarks.
#pragma once
#include <cstdint>

#include "ir/graph.h"

namespace crowdrt::ir {

int64_t node_macs(const Graph& graph, const Node& node);        // multiply-accumulates (Conv, ConvTranspose)
int64_t node_parameters(const Graph& graph, const Node& node);  // elements of constant inputs
int64_t graph_macs(const Graph& graph);
int64_t graph_parameters(const Graph& graph);                   // each constant counted once

}  // namespace crowdrt::ir
