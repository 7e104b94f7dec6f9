// Graph → Graph passes, one job each. The builder runs them in the order of optimise().
#pragma once
#include <functional>

#include "ir/graph.h"

namespace crowdrt::ir {

// Evaluates shape arithmetic and any node whose inputs are all constant; infers every value's shape;
// rewrites Resize / Pad / Clip / Squeeze / Unsqueeze / ReduceMean into the canonical attribute forms
// of ir/graph.h. Error naming the node when a shape cannot be inferred.
Graph fold_constants(Graph graph);
// Replaces Identity (and no-op Pad / Resize by 1) with its input.
Graph remove_identity(Graph graph);
// Conv → BatchNormalization becomes one Conv with scaled weights and bias.
Graph fold_batchnorm(Graph graph);
// Conv(+Add) → Relu / LeakyRelu / Clip / Sigmoid / HardSigmoid / HardSwish becomes a Conv with "activation".
Graph fuse_activation(Graph graph);
// Add(Conv(x), y) where the Conv's only reader is the Add becomes Conv with a residual input.
Graph fuse_residual_add(Graph graph);
// Marks Concats whose inputs can be written straight into the output (attr in_place = 1) where allowed.
Graph plan_concat_in_place(Graph graph, const std::function<bool(const Graph&, const Node&)>& allowed);
// Drops unread nodes and renumbers nothing; constants no node reads stay but are not serialised.
Graph remove_dead(Graph graph);

}  // namespace crowdrt::ir
