// The reference backend's ops: one entry per compute op, saying which kernel runs a node of it. Each entry is
// made at the end of its kernel's file (conv.cpp, pool.cpp, ...) and listed once in reference_op_table.cpp, so
// adding an op here is its kernel file with its entry plus one line there. The reference runs every float32
// node of an op it lists (ReferenceBackend::supports): an entry has no supports predicate of its own.
#pragma once
#include <span>

#include "backends/cpu/reference/reference_kernels.h"

namespace crowdrt::reference {

// Runs `node` on float32 tensors: inputs[i] is null for an omitted optional input, `output` is preallocated
// with the value's shape. Errors say what is wrong; run_reference_node adds which node it was.
using RunNode = void (*)(const ir::Node& node, Inputs inputs, Tensor& output);

struct OpEntry {
  ir::Op op;
  RunNode run;
};

// Every entry, one per compute op of ir/op.h.
std::span<const OpEntry> op_table();
// The entry of `op`; null for an op the reference has no kernel for (the shape ops).
const OpEntry* find_op(ir::Op op);

// Input `i` of a node of `op`; Error when it is omitted.
const Tensor& required_input(Inputs inputs, size_t i, ir::Op op);

}  // namespace crowdrt::reference
