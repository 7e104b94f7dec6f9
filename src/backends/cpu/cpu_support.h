// Which nodes the CPU backend runs, and which concats it computes in place. Each op's own conditions are its
// supports predicate in the op table (cpu_op_table.h), beside its build function, so that the builder never
// meets a node these predicates let through but cannot build; here are what every op needs and the helpers
// the predicates share.
#pragma once
#include "backends/backend.h"

namespace crowdrt::cpu {

bool node_supported(const ir::Graph& graph, const ir::Node& node, Precision precision);
bool concat_can_be_in_place(const ir::Graph& graph, const ir::Node& concat);

// The right/bottom padding that makes a pooling window of size `kernel_extent` give `out` outputs from
// `in` inputs (ceil_mode enlarges it beyond the given padding; oneDNN has no ceil_mode flag).
int64_t pool_padding_end(int64_t in, int64_t out, int64_t kernel_extent, int64_t stride, int64_t pad_begin,
                         int64_t pad_end);

// What the supports predicates read of a value: a constant's own shape, else the inferred one.
const Shape& value_shape(const ir::Graph& graph, ir::ValueId v);
int64_t value_rank(const ir::Graph& graph, ir::ValueId v);
// Whether `v` is given (not an omitted optional input) and a constant.
bool is_constant_value(const ir::Graph& graph, ir::ValueId v);
// Whether the node has its input `i` (not omitted).
bool input_present(const ir::Node& node, size_t i);

}  // namespace crowdrt::cpu
