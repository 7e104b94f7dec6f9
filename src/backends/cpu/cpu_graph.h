// The run-time half of the CPU backend: steps bound to one arena, executed in order on one stream.
#pragma once
#include <memory>

#include "backends/cpu/cpu_graph_builder.h"

namespace crowdrt::cpu {

// Builds the steps of `graph` (compute ops, shapes known) and plans and allocates their arena.
std::unique_ptr<CompiledGraph> compile_graph(const ir::Graph& graph, const CompileOptions& options);

}  // namespace crowdrt::cpu
