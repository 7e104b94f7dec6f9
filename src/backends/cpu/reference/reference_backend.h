// The reference backend: plain fp32 NCHW loops, one file per op; the spec every other kernel is tested against.
#pragma once
#include <span>

#include "backends/backend.h"

namespace crowdrt {

// Runs one compute node (canonical attributes, see ir/graph.h) on fp32 tensors. inputs[i] is null for an
// omitted optional input; outputs are preallocated with the value shapes.
void run_reference_node(const ir::Graph& graph, const ir::Node& node, std::span<const Tensor* const> inputs,
                        std::span<Tensor* const> outputs);

class ReferenceBackend final : public Backend {
 public:
  std::string name() const override { return "ref"; }
  std::string device_fingerprint() const override { return "ref"; }
  bool supports(const ir::Graph& graph, const ir::Node& node, Precision precision) const override;
  bool concat_in_place(const ir::Graph&, const ir::Node&) const override { return false; }
  std::unique_ptr<CompiledGraph> compile(const ir::Graph& graph, const CompileOptions& options) const override;
};

}  // namespace crowdrt
