// Which nodes the CPU backend runs, and which concats it computes in place; kept beside each other so the
// builder never meets a node these predicates let through but cannot build.
#pragma once
#include "backends/backend.h"

namespace crowdrt::cpu {

bool node_supported(const ir::Graph& graph, const ir::Node& node, Precision precision);
bool concat_can_be_in_place(const ir::Graph& graph, const ir::Node& concat);

// The right/bottom padding that makes a pooling window of size `kernel_extent` give `out` outputs from
// `in` inputs (ceil_mode enlarges it beyond the given padding; oneDNN has no ceil_mode flag).
int64_t pool_padding_end(int64_t in, int64_t out, int64_t kernel_extent, int64_t stride, int64_t pad_begin,
                         int64_t pad_end);

}  // namespace crowdrt::cpu
