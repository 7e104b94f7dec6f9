#include "backends/cuda/cuda_backend.h"

#include "backends/cuda/cuda_graph.h"
#include "backends/cuda/cuda_resources.h"

namespace crowdrt {

std::string CudaBackend::device_fingerprint() const { return cuda::device_fingerprint(); }

bool CudaBackend::supports(const ir::Graph& graph, const ir::Node& node, Precision precision) const {
  (void)precision;  // every op runs in fp32, fp16 and bf16; under int8 the engine is fp16 and Convs run int8
                    // where they can (cuda_graph.cpp; the compile says which)
  return cuda::node_supported(graph, node);
}

bool CudaBackend::concat_in_place(const ir::Graph&, const ir::Node&) const {
  return false;  // concatenation is a copy kernel (cuDNN writes only whole NHWC tensors)
}

std::unique_ptr<CompiledGraph> CudaBackend::compile(const ir::Graph& graph, const CompileOptions& options) const {
  return cuda::compile_graph(graph, options);
}

}  // namespace crowdrt
