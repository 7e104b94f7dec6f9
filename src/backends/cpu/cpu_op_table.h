// The CPU backend's ops: one entry per compute op, saying whether the backend runs a node of it, how its steps
// are built, and the traits the rest of the backend asks of it. Each entry is made at the end of its op's file
// (cpu_conv.cpp, cpu_pool.cpp, ...) and listed once in cpu_op_table.cpp, so adding an op here is its file (build
// function, supports predicate, entry) plus one line there.
#pragma once
#include <span>

#include "backends/backend.h"

namespace crowdrt::cpu {

class GraphBuilder;

struct OpEntry {
  ir::Op op;
  // Whether the op's kernel runs this node in float32. Called only on nodes that have what every op needs
  // (node_supported checks it first): float32 values with known shapes, one output, a first input.
  bool (*supports)(const ir::Graph& graph, const ir::Node& node);
  // Adds the node's steps (supported nodes only).
  void (*build)(GraphBuilder& builder, const ir::Node& node);

  // Traits.
  // Its builder writes the output straight into a channel-blocked slice of an in-place concat when asked
  // (GraphBuilder::required_output_layout), so a Concat of such outputs can be computed in place.
  bool writes_concat_slice = false;
  // It has bf16 and int8 kernels besides float32; which one a node gets is chosen per node and explained in its
  // layer note (choose_conv). Other ops run float32 whatever the permission.
  bool reduced_precision = false;
  // Whether the node only selects or moves values (MaxPool, nearest Resize, a copying Concat), so that bf16
  // passes through it unrounded; null for never (GraphBuilder::passes_bf16_through).
  bool (*passes_bf16_through)(const ir::Node& node) = nullptr;
};

// Every entry, one per compute op of ir/op.h.
std::span<const OpEntry> op_table();
// The entry of `op`; null for an op the backend has no kernel for (the shape ops).
const OpEntry* find_op(ir::Op op);

}  // namespace crowdrt::cpu
