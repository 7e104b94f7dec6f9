// The CUDA backend: convolutions on cuDNN (fused bias, residual and ReLU; tactics timed at build), every other
// op on our own kernels, tensors in NHWC (fp32, fp16 or bf16), one device arena, the inference replayed as
// one CUDA graph, inputs and outputs staged in pinned host memory.
#pragma once
#include "backends/backend.h"

namespace crowdrt {

class CudaBackend final : public Backend {
 public:
  std::string name() const override { return "cuda"; }
  // Error when no CUDA device is usable here.
  std::string device_fingerprint() const override;
  bool supports(const ir::Graph& graph, const ir::Node& node, Precision precision) const override;
  bool concat_in_place(const ir::Graph& graph, const ir::Node& concat) const override;
  std::unique_ptr<CompiledGraph> compile(const ir::Graph& graph, const CompileOptions& options) const override;
};

}  // namespace crowdrt
