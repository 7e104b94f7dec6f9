// The CPU backend on oneDNN: float32 primitives (bf16 and int8 convolutions where permitted) in the layouts oneDNN
// chooses (nhwc for brgconv, nChw16c for jit convolutions on AVX-512) kept from layer to layer, fused
// bias/residual/activation epilogues, concats written in place, one planned arena.
#pragma once
#include "backends/backend.h"

namespace crowdrt {

class CpuBackend final : public Backend {
 public:
  explicit CpuBackend() = default;
  std::string name() const override { return "cpu"; }
  // "cpu:x86_64:avx512_core": plans built for one instruction set are refused on another.
  std::string device_fingerprint() const override;
  bool supports(const ir::Graph& graph, const ir::Node& node, Precision precision) const override;
  bool concat_in_place(const ir::Graph& graph, const ir::Node& concat) const override;
  std::unique_ptr<CompiledGraph> compile(const ir::Graph& graph, const CompileOptions& options) const override;
};

}  // namespace crowdrt
