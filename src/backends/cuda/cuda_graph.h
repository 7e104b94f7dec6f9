// The CUDA backend's compile: nodes → steps over one device arena, captured as one CUDA graph
// (cuda_compiled_graph.h says which file does which part).
#pragma once
#include <memory>

#include "backends/backend.h"

namespace crowdrt::cuda {

bool node_supported(const ir::Graph& graph, const ir::Node& node);
std::unique_ptr<CompiledGraph> compile_graph(const ir::Graph& graph, const CompileOptions& options);

}  // namespace crowdrt::cuda
