// The one check every graph passes before the engine works on it: after ONNX import, when a plan is read (its
// checksum catches accidents, not edits, so its graph is checked as thoroughly as a model's), and before a
// backend compiles a graph handed to the runtime. Rules, each an Error naming the file, the node and the value:
//   structure   every node has the inputs its op needs, each one defined and produced before it is read, one
//               output written once; graph inputs are not constants; the graph has outputs
//   attributes  kernel sizes, strides and dilations >= 1, pads and output padding >= 0, group >= 1 and dividing
//               the channels, axes within the rank, Resize scales finite and positive and sizes >= 1, activation
//               parameters finite, Clip min <= max
//   sizes       every known shape has non-negative dimensions, an element count and a byte size that fit in 64
//               bits (checked arithmetic) and at most kMaxTensorBytes (core/checked.h), before any allocation
//   weights     each constant's data has the value's declared shape and type
//   optimised   (plans) compute ops only, and every stored shape is the one shape inference gives again
#pragma once
#include <string>
#include <vector>

#include "ir/graph.h"

namespace crowdrt::ir {

enum class GraphForm {
  imported,   // as import_onnx returns it: shape ops may remain, only inputs' and constants' shapes are known
  optimised,  // as the builder leaves it and a plan stores it: compute ops in canonical form, every shape known
};

// Error "<what>: <node>: <rule>; <what to do>" at the first broken rule.
void validate_graph(const Graph& graph, GraphForm form, const std::string& what);

// Error unless every name is a node of the graph, listing the nearest node names (`option` names the flag or
// field the names came from, e.g. "--keep-fp32").
void check_node_names(const Graph& graph, const std::vector<std::string>& names, const std::string& option);

}  // namespace crowdrt::ir
