// Within the passes: fold_constants' first step on each node (canonical_attributes.cpp).
#pragma once
#include "ir/graph.h"

namespace crowdrt::ir {

// Rewrites the node's attributes into the canonical forms of ir/graph.h (defaults written out, constant inputs
// such as Pad pads and Resize scales moved into attributes). Needs the node's input shapes and constant inputs
// known. Error naming the node when a constant it needs is computed at run time or an attribute is out of range.
void canonicalise_attributes(Graph& graph, Node& node);

}  // namespace crowdrt::ir
