// ReferenceBackend: runs a graph node by node on the reference kernels (its op table, reference_op_table.h),
// one Tensor per value allocated at compile time. It is the spec other backends are compared against, so it
// favours plainness over speed: no arena sharing, no layout changes, fp32 only.
#include <algorithm>
#include <chrono>

#include "backends/cpu/reference/reference_backend.h"
#include "backends/cpu/reference/reference_op_table.h"

namespace crowdrt {
namespace {

class ReferenceCompiledGraph final : public CompiledGraph {
 public:
  explicit ReferenceCompiledGraph(const ir::Graph& graph) : graph_(graph) {
    const size_t count = graph_.value_count();
    storage_.resize(count);
    values_.assign(count, nullptr);
    auto bind = [&](ir::ValueId id, const std::string& role) {
      if (values_[id]) return;
      const ir::Value& v = graph_.value(id);
      if (v.is_constant()) {
        if (v.data->dtype() != DType::f32)
          throw Error(cat("reference backend: constant '", v.name, "' holds ", dtype_name(v.data->dtype()),
                          "; only float32 constants reach compute ops"));
        values_[id] = v.data.get();
        return;
      }
      if (!v.shape_known)
        throw Error(cat("reference backend: ", role, " '", v.name, "' has no known shape; run fold_constants first"));
      if (v.dtype != DType::f32)
        throw Error(cat("reference backend: ", role, " '", v.name, "' is ", dtype_name(v.dtype),
                        "; only float32 runs"));
      storage_[id] = Tensor(DType::f32, v.shape);
      arena_bytes_ += storage_[id].bytes();
      values_[id] = &storage_[id];
    };
    for (ir::ValueId id : graph_.inputs()) bind(id, "graph input");
    for (const ir::Node& node : graph_.nodes()) {
      if (!ReferenceBackend().supports(graph_, node, Precision::fp32))
        throw Error(cat("reference backend cannot run ", ir::describe(graph_, node),
                        ": it runs float32 compute ops only (shape ops must be folded first)"));
      Step step;
      for (ir::ValueId id : node.inputs) {
        if (id != ir::kNoValue) bind(id, "input");
        step.inputs.push_back(id == ir::kNoValue ? nullptr : values_[id]);
      }
      for (ir::ValueId id : node.outputs) {
        bind(id, "output");
        step.outputs.push_back(&storage_[id]);
      }
      steps_.push_back(std::move(step));
      layers_.push_back(LayerInfo{node.name, ir::fused_op_name(node), "reference", Precision::fp32, "nchw", ""});
    }
    for (ir::ValueId id : graph_.outputs()) bind(id, "graph output");
  }

  void run(std::span<const float* const> inputs, std::span<float* const> outputs,
           std::vector<double>* layer_ms) override {
    if (inputs.size() != graph_.inputs().size() || outputs.size() != graph_.outputs().size())
      throw Error(cat("reference backend: run got ", inputs.size(), " inputs and ", outputs.size(),
                      " outputs; the graph has ", graph_.inputs().size(), " and ", graph_.outputs().size()));
    for (size_t i = 0; i < inputs.size(); ++i) {
      Tensor& t = storage_[graph_.inputs()[i]];
      std::copy(inputs[i], inputs[i] + t.numel(), t.data<float>());
    }
    if (layer_ms) layer_ms->assign(steps_.size(), 0.0);
    for (size_t s = 0; s < steps_.size(); ++s) {
      const auto start = std::chrono::steady_clock::now();
      run_reference_node(graph_, graph_.nodes()[s], steps_[s].inputs, steps_[s].outputs);
      if (layer_ms)
        (*layer_ms)[s] = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    }
    for (size_t i = 0; i < outputs.size(); ++i) {
      const Tensor& t = *values_[graph_.outputs()[i]];
      std::copy(t.data<float>(), t.data<float>() + t.numel(), outputs[i]);
    }
  }

  const std::vector<LayerInfo>& layers() const override { return layers_; }
  size_t arena_bytes() const override { return arena_bytes_; }

 private:
  struct Step {
    std::vector<const Tensor*> inputs;  // null for an omitted optional input
    std::vector<Tensor*> outputs;
  };
  ir::Graph graph_;                     // a copy: the compiled graph outlives the caller's
  std::vector<Tensor> storage_;         // one per non-constant value in use; empty otherwise
  std::vector<const Tensor*> values_;   // every value in use: into storage_ or the graph's constants
  std::vector<Step> steps_;
  std::vector<LayerInfo> layers_;
  size_t arena_bytes_ = 0;
};

}  // namespace

bool ReferenceBackend::supports(const ir::Graph& graph, const ir::Node& node, Precision precision) const {
  if (precision != Precision::fp32 || !reference::find_op(node.op) || node.outputs.size() != 1) return false;
  auto is_f32 = [&](ir::ValueId id) { return id == ir::kNoValue || graph.value(id).dtype == DType::f32; };
  return std::all_of(node.inputs.begin(), node.inputs.end(), is_f32) &&
         std::all_of(node.outputs.begin(), node.outputs.end(), is_f32);
}

std::unique_ptr<CompiledGraph> ReferenceBackend::compile(const ir::Graph& graph, const CompileOptions&) const {
  return std::make_unique<ReferenceCompiledGraph>(graph);
}

}  // namespace crowdrt
