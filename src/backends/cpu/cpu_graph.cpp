#include "backends/cpu/cpu_graph.h"

#include <omp.h>

#include <chrono>
#include <cstdlib>

#include "backends/cpu/cpu_backend.h"
#include "core/memory_plan.h"

namespace crowdrt::cpu {
namespace {

// OpenMP's thread count is per calling thread; oneDNN reads it when it creates and when it runs primitives.
// Set for the scope of compile() and run(), restored afterwards so callers keep their own setting.
class ScopedOmpThreads {
 public:
  explicit ScopedOmpThreads(int threads) : previous_(omp_get_max_threads()) {
    omp_set_num_threads(threads > 0 ? threads : omp_get_num_procs());
  }
  ~ScopedOmpThreads() { omp_set_num_threads(previous_); }
  ScopedOmpThreads(const ScopedOmpThreads&) = delete;
  ScopedOmpThreads& operator=(const ScopedOmpThreads&) = delete;

 private:
  int previous_;
};

struct FreeDeleter {
  void operator()(std::byte* p) const { std::free(p); }
};
using AlignedBytes = std::unique_ptr<std::byte, FreeDeleter>;

AlignedBytes allocate_aligned(size_t bytes) {
  constexpr size_t kAlignment = 64;
  const size_t rounded = (std::max<size_t>(bytes, 1) + kAlignment - 1) / kAlignment * kAlignment;
  auto* p = static_cast<std::byte*>(std::aligned_alloc(kAlignment, rounded));
  if (!p) throw Error(cat("cpu backend: could not allocate ", rounded, " bytes of activation memory"));
  return AlignedBytes(p);
}

void build_node(GraphBuilder& builder, const ir::Node& node) {
  const OpEntry* entry = find_op(node.op);
  if (!entry)
    throw Error(cat("cpu backend cannot run ", ir::describe(builder.graph(), node),
                    ": shape ops must be folded first (fold_constants)"));
  entry->build(builder, node);
}

// Whether a layer (LayerInfo::op, "Conv+Add+Relu" for a fused one) is of an op with bf16 and int8 kernels: its
// note then says itself why it runs the precision it does.
bool chooses_own_precision(const std::string& layer_op) {
  ir::Op op;
  if (!ir::op_from_name(layer_op.substr(0, layer_op.find('+')), &op)) return false;
  const OpEntry* entry = find_op(op);
  return entry && entry->reduced_precision;
}

class CpuCompiledGraph final : public CompiledGraph {
 public:
  CpuCompiledGraph(const ir::Graph& graph, const CompileOptions& options)
      : threads_(options.threads), engine_(dnnl::engine::kind::cpu, 0), stream_(engine_) {
    ScopedOmpThreads threads(threads_);
    GraphBuilder builder(graph, engine_, options);
    const CpuBackend backend;
    for (const ir::Node& node : graph.nodes())
      if (node.op == ir::Op::Concat && node.attrs.i("in_place", 0) != 0 && backend.concat_in_place(graph, node))
        builder.prepare_in_place_concat(node);
    std::unordered_map<std::string, ConvChoice> choices;
    size_t chosen = 0;
    for (const ir::Node& node : graph.nodes()) {
      if (node.op == ir::Op::Conv && backend.supports(graph, node, Precision::fp32)) {
        try {
          choices[node.name] = choose_conv(builder, node);
        } catch (const dnnl::error& e) {
          throw Error(cat("cpu backend: oneDNN refused ", ir::describe(graph, node), ": ", e.what()));
        }
      }
      if (options.on_layer) options.on_layer(++chosen, graph.nodes().size());
    }
    builder.set_conv_choices(std::move(choices));
    for (const ir::Node& node : graph.nodes()) {
      if (!backend.supports(graph, node, Precision::fp32))
        throw Error(cat("cpu backend cannot run ", ir::describe(graph, node),
                        ": unsupported attributes, shapes or dtypes for oneDNN; build with --device ref to run it "
                        "on the reference kernels"));
      try {
        build_node(builder, node);
        builder.node_built(node);
      } catch (const dnnl::error& e) {
        throw Error(cat("cpu backend: oneDNN refused ", ir::describe(graph, node), ": ", e.what(),
                        "; build with --device ref to run it on the reference kernels"));
      }
    }
    builder.finish_inputs_and_outputs();
    input_count_ = graph.inputs().size();
    output_count_ = graph.outputs().size();
    user_inputs_ = builder.user_inputs;
    user_outputs_ = builder.user_outputs;
    steps_ = builder.take_steps();
    bind_arena(builder.buffers());
    for (const Step& step : steps_) layers_.push_back(step.info);
    // Precision is a permission (as in TensorRT): layers of ops without lower-precision kernels (the op table's
    // reduced_precision) run float32, except where bf16 passes through them (MaxPool, nearest Resize, Concat).
    if (options.precision != Precision::fp32)
      for (LayerInfo& layer : layers_)
        if (layer.op != "Reorder" && !chooses_own_precision(layer.op) && layer.precision == Precision::fp32)
          layer.note += cat(layer.note.empty() ? "" : "; ", "fell back to fp32: no ", precision_name(options.precision),
                            " kernel for ", layer.op, " on cpu");
  }

  void run(std::span<const float* const> inputs, std::span<float* const> outputs,
           std::vector<double>* layer_ms) override {
    if (inputs.size() != input_count_ || outputs.size() != output_count_)
      throw Error(cat("cpu backend: run got ", inputs.size(), " inputs and ", outputs.size(),
                      " outputs; the graph has ", input_count_, " and ", output_count_));
    ScopedOmpThreads threads(threads_);
    // oneDNN only reads inputs; its handle type is non-const.
    for (size_t i = 0; i < inputs.size(); ++i) user_inputs_[i].set_data_handle(const_cast<float*>(inputs[i]));
    for (size_t i = 0; i < outputs.size(); ++i) user_outputs_[i].set_data_handle(outputs[i]);
    if (layer_ms) layer_ms->assign(steps_.size(), 0.0);
    for (size_t s = 0; s < steps_.size(); ++s) {
      const auto start = std::chrono::steady_clock::now();
      const Step& step = steps_[s];
      if (step.primitive) step.primitive->execute(stream_, step.args);
      else if (step.kernel) step.kernel(step.args);
      if (layer_ms) {
        stream_.wait();
        (*layer_ms)[s] = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
      }
    }
    stream_.wait();
  }

  const std::vector<LayerInfo>& layers() const override { return layers_; }
  size_t arena_bytes() const override { return arena_bytes_; }

 private:
  // One arena for every activation (planned over buffer lifetimes) and one scratchpad shared by all steps:
  // steps run one at a time, so each may use all of it.
  void bind_arena(const std::vector<GraphBuilder::Buffer>& buffers) {
    std::vector<BufferRequest> requests;
    for (const GraphBuilder::Buffer& b : buffers)
      requests.push_back(BufferRequest{b.bytes, std::max(b.first_step, 0), std::max(b.last_step, b.first_step)});
    const MemoryPlan plan = plan_memory(requests, 64);
    arena_bytes_ = plan.total_bytes;
    arena_ = allocate_aligned(plan.total_bytes);
    size_t scratchpad_bytes = 0;
    for (const Step& step : steps_)
      if (step.scratchpad) scratchpad_bytes = std::max(scratchpad_bytes, step.scratchpad->get_size());
    scratchpad_ = allocate_aligned(scratchpad_bytes);
    for (Step& step : steps_) {
      for (const auto& [arg, slot] : step.arena_args)
        step.args[arg] = dnnl::memory(slot.md, engine_, arena_.get() + plan.offsets.at(slot.buffer) + slot.offset);
      if (step.scratchpad) step.args[DNNL_ARG_SCRATCHPAD] = dnnl::memory(*step.scratchpad, engine_, scratchpad_.get());
    }
  }

  int threads_;
  dnnl::engine engine_;
  dnnl::stream stream_;
  size_t input_count_ = 0, output_count_ = 0;
  std::vector<dnnl::memory> user_inputs_, user_outputs_;
  std::vector<Step> steps_;
  std::vector<LayerInfo> layers_;
  AlignedBytes arena_, scratchpad_;
  size_t arena_bytes_ = 0;
};

}  // namespace

std::unique_ptr<CompiledGraph> compile_graph(const ir::Graph& graph, const CompileOptions& options) {
  return std::make_unique<CpuCompiledGraph>(graph, options);
}

}  // namespace crowdrt::cpu
