// Orchestration and memory of the CUDA compile: storage type and layouts, the int8 values (cuda_int8_selection.cpp)
// and the fusion passes (cuda_pass_*.cpp) consumed in order, the arena planned from value lifetimes, the staging
// buffers, one step per node (built by the op table), then the fused chains and the CUDA graph capture.
#include "backends/cuda/cuda_compiled_graph.h"

#include <algorithm>
#include <cstring>

#include "backends/cuda/cuda_graph.h"
#include "backends/cuda/cuda_op_table.h"
#include "core/log.h"
#include "core/memory_plan.h"
#include "quant/scheme.h"

namespace crowdrt::cuda {

using ir::Op;

CudaCompiledGraph::CudaCompiledGraph(const ir::Graph& graph, const CompileOptions& options)
    : graph_(graph), options_(options) {
  options_.on_layer = nullptr;  // the build's progress callback lives only as long as compile()
  switch (options.precision) {
    case Precision::fp16: type_ = StorageType::f16; precision_ = Precision::fp16; break;
    case Precision::bf16: type_ = StorageType::bf16; precision_ = Precision::bf16; break;
    case Precision::int8: type_ = StorageType::f16; precision_ = Precision::fp16; int8_ = true; break;
    default: break;
  }
  stream_ = make_stream();
  cudnn_ = make_cudnn(stream_.get());
  h2d_start_ = make_event();
  compute_start_ = make_event();
  compute_end_ = make_event();
  d2h_end_ = make_event();
  timing_cache_ = std::make_unique<TimingCache>(options.timing_cache, device_fingerprint());

  // Layouts. A graph input read only by ungrouped convolutions is stored with its channels padded to 8 (zeros),
  // the width tensor cores need; in fp32 no padding is needed.
  const size_t n_values = graph.value_count();
  views_.resize(n_values);
  storage_channels_.assign(n_values, 0);
  const std::vector<int> producer = graph.producers();
  for (ir::ValueId v : graph.inputs()) {
    const Shape& s = graph.value(v).shape;
    if (s.size() != 4 || type_ == StorageType::f32 || s[1] % kTensorCoreChannels == 0 || !read_only_by_convs(v))
      continue;
    storage_channels_[v] = static_cast<int>(round_up(s[1], kTensorCoreChannels));
  }

  // int8 values; an int8 graph input is padded to 16 channels instead.
  int8_value_.assign(n_values, false);
  if (int8_) choose_int8_values();
  for (ir::ValueId v : graph.inputs())
    if (int8_value_[v]) storage_channels_[v] = int8_input_channels(v);

  plan_resize_into_concat();

  // Convolution chains one kernel may run (fp16 engines: the kernel computes in fp16).
  const std::vector<ChainCandidate> chains = find_chains();

  // Lifetimes in steps: step 0 converts the inputs, node i is step i + 1, the last step converts the outputs.
  const int last_step = static_cast<int>(graph.nodes().size()) + 1;
  std::vector<BufferRequest> requests;
  std::vector<ir::ValueId> requested;
  std::vector<int> first(n_values, -1), last(n_values, -1);
  for (ir::ValueId v : graph.inputs()) first[v] = last[v] = 0;
  for (size_t i = 0; i < graph.nodes().size(); ++i) {
    const ir::Node& n = graph.nodes()[i];
    for (ir::ValueId v : n.inputs)
      if (v != ir::kNoValue && !graph.value(v).is_constant()) last[v] = static_cast<int>(i) + 1;
    for (ir::ValueId v : n.outputs) first[v] = last[v] = static_cast<int>(i) + 1;
  }
  for (ir::ValueId v : graph.outputs()) last[v] = last_step;
  // A Resize writing into its Concat's slice may be run by the Concat's own kernel (launch_concat_pixels): its
  // input lives until the Concat's step.
  for (size_t v = 0; v < n_values; ++v)
    if (alias_[v].first != ir::kNoValue) {
      const ir::ValueId resized = graph.nodes()[producer[v]].inputs[0];
      last[resized] = std::max(last[resized], producer[alias_[v].first] + 1);
    }
  // A chain's kernel runs at its first member's step, reading its input and writing its output then: both live
  // over all of its members' steps, so that nothing else shares their memory whether it is fused or not.
  for (const ChainCandidate& c : chains) {
    const int from = static_cast<int>(c.members.front()) + 1, to = static_cast<int>(c.members.back()) + 1;
    last[c.in] = std::max(last[c.in], to);
    first[c.out] = std::min(first[c.out], from);
  }
  for (size_t v = 0; v < n_values; ++v)
    if (alias_[v].first != ir::kNoValue) first[alias_[v].first] = std::min(first[alias_[v].first], first[v]);
  for (size_t v = 0; v < n_values; ++v) {
    const ir::Value& value = graph.value(static_cast<ir::ValueId>(v));
    if (value.is_constant() || first[v] < 0 || alias_[v].first != ir::kNoValue) continue;
    views_[v] = layout_view(value.shape, int8_value_[v] ? StorageType::i8 : type_, storage_channels_[v]);
    if (int8_value_[v]) views_[v].scale = quant::activation_scale(*amax(static_cast<ir::ValueId>(v)));
    requests.push_back({view_bytes(views_[v], storage_channels_[v]), first[v], std::max(first[v], last[v])});
    requested.push_back(static_cast<ir::ValueId>(v));
  }
  const MemoryPlan plan = plan_memory(requests, 256);
  arena_bytes_ = plan.total_bytes;
  arena_ = device_alloc(std::max<size_t>(arena_bytes_, 256), "the activation arena");
  check(cudaMemsetAsync(arena_.get(), 0, arena_bytes_, stream_.get()), "cudaMemset");
  for (size_t r = 0; r < requested.size(); ++r)
    views_[requested[r]].data = static_cast<char*>(arena_.get()) + plan.offsets[r];
  for (size_t v = 0; v < n_values; ++v) {
    const auto [whole, channel] = alias_[v];
    if (whole == ir::kNoValue) continue;
    View slice = views_[whole];
    slice.dims[1] = static_cast<int>(graph.value(static_cast<ir::ValueId>(v)).shape[1]);
    slice.data = static_cast<char*>(slice.data) + channel * storage_bytes(slice.type);
    views_[v] = slice;
  }

  // Step 0: inputs from float32 NCHW staging into their arena layout.
  for (ir::ValueId v : graph.inputs()) {
    const Shape& s = graph.value(v).shape;
    Staging st = staging_for(s, "an input's staging buffer");
    const View src = packed_f32_view(s, st.device.get());
    const View dst = views_[v];
    // The padding channels are zeroed on every run: the arena bytes under them are shared with later values.
    View padded = dst;
    padded.dims[1] = storage_channels_[v];
    const bool pad = storage_channels_[v] > 0;
    add(nullptr, "Input", "crowdrt:reformat",
        [src, dst, padded, pad](cudaStream_t s) {
          if (launch_nchw_to_nhwc(src, dst, pad ? padded.dims[1] : dst.dims[1], s)) return;
          if (pad) launch_fill(padded, 0.f, s);
          launch_activation(src, dst, {}, s);
        },
        cat(graph.value(v).name, ": NCHW float32 to NHWC ",
            int8_value_[v] ? "int8" : type_ == StorageType::f32 ? "fp32" : precision_name(precision_),
            storage_channels_[v] ? cat(", channels padded to ", storage_channels_[v]) : std::string{}));
    in_staging_.push_back(std::move(st));
  }
  find_staging_stems();
  for (const ir::Node& node : graph.nodes()) {
    node_step_.push_back(steps_.size());
    build_node(node);
  }
  for (ir::ValueId v : graph.outputs()) {
    const Shape& s = graph.value(v).shape;
    Staging st = staging_for(s, "an output's staging buffer");
    const View src = views_[v];
    const View dst = packed_f32_view(s, st.device.get());
    add(nullptr, "Output", "crowdrt:reformat", [src, dst](cudaStream_t s) { launch_activation(src, dst, {}, s); },
        cat(graph.value(v).name, ": to NCHW float32"));
    out_staging_.push_back(std::move(st));
  }
  // The workspace first: timing a chain runs its members' own steps.
  for (const auto& conv : convs_) workspace_bytes_ = std::max(workspace_bytes_, conv->workspace_bytes());
  workspace_ = device_alloc(std::max<size_t>(workspace_bytes_, 256), "the convolution workspace");
  for (const ChainCandidate& c : chains) fuse_chain(c);
  timing_cache_->save();
  check(cudaStreamSynchronize(stream_.get()), "compile");
  capture();
}

CudaCompiledGraph::Staging CudaCompiledGraph::staging_for(const Shape& shape, const char* what) {
  Staging st;
  st.bytes = static_cast<size_t>(shape_numel(shape)) * sizeof(float);
  st.host = pinned_alloc(st.bytes, what);
  st.device = device_alloc(st.bytes, what);
  return st;
}

const float* CudaCompiledGraph::upload_floats(const std::vector<float>& values, const char* what) {
  DeviceMemory d = device_alloc(std::max<size_t>(values.size(), 1) * sizeof(float), what);
  if (!values.empty())
    check(cudaMemcpy(d.get(), values.data(), values.size() * sizeof(float), cudaMemcpyHostToDevice), what);
  owned_.push_back(std::move(d));
  return static_cast<const float*>(owned_.back().get());
}

const int* CudaCompiledGraph::upload_ints(const std::vector<int64_t>& values, const char* what) {
  std::vector<int> ints(values.begin(), values.end());
  DeviceMemory d = device_alloc(std::max<size_t>(ints.size(), 1) * sizeof(int), what);
  check(cudaMemcpy(d.get(), ints.data(), ints.size() * sizeof(int), cudaMemcpyHostToDevice), what);
  owned_.push_back(std::move(d));
  return static_cast<const int*>(owned_.back().get());
}

View CudaCompiledGraph::input_view(const ir::Node& node, size_t k) {
  const ir::ValueId v = node.inputs.at(k);
  if (!graph_.value(v).is_constant()) return views_[v];
  const Tensor& t = *graph_.value(v).data;
  const float* data = upload_floats(t.to_float(), "a constant");
  return packed_f32_view(t.shape(), const_cast<float*>(data));
}

size_t CudaCompiledGraph::graph_input_index(ir::ValueId v) const {
  const auto& ins = graph_.inputs();
  return static_cast<size_t>(std::find(ins.begin(), ins.end(), v) - ins.begin());
}

void CudaCompiledGraph::add(const ir::Node* node, std::string op, std::string kernel,
                            std::function<void(cudaStream_t)> run, std::string note, Tactic tactic, bool int8) {
  LayerInfo info;
  info.node = node ? node->name : op;
  info.op = std::move(op);
  info.kernel = std::move(kernel);
  info.precision = int8 ? Precision::int8 : precision_;
  const bool int8_out = node && !node->outputs.empty() && int8_value_[node->outputs[0]];
  info.layout = int8_out ? "NHWC int8"
                : type_ == StorageType::f32 ? "NHWC fp32"
                : type_ == StorageType::f16 ? "NHWC fp16"
                                            : "NHWC bf16";
  if (node && node->op == Op::Conv)
    if (auto it = int8_notes_.find(node->name); it != int8_notes_.end())
      note = note.empty() ? it->second : note + "; " + it->second;
  info.note = std::move(note);
  info.tactic = std::move(tactic);
  layers_.push_back(info);
  steps_.push_back({std::move(run)});
}

void CudaCompiledGraph::run_inside(size_t step, std::string kernel, std::string note) {
  steps_[step].run = [](cudaStream_t) {};
  layers_[step].kernel = std::move(kernel);
  layers_[step].note = std::move(note);
}

void CudaCompiledGraph::build_node(const ir::Node& node) {
  const CudaOp* entry = find_cuda_op(node.op);
  if (!entry) throw Error(cat("node '", node.name, "' (", ir::op_name(node.op), ") has no CUDA kernel"));
  entry->build(*this, node);
}

std::unique_ptr<ConvStep> CudaCompiledGraph::make_conv_step(const ir::Node& node, const ConvProblem& problem,
                                                            const std::string& wanted, std::string* from) {
  std::string chosen = wanted;
  const std::string key = problem.key();
  *from = chosen.empty() ? "" : "plan";
  if (chosen.empty())
    if (const std::string* cached = timing_cache_->find(key)) {
      chosen = *cached;
      *from = "timing cache";
    }
  TacticTimes times;
  auto conv = std::make_unique<ConvStep>(problem, cudnn_.get(), stream_.get(), chosen, &times, options_.time_tactics);
  if (from->empty() && options_.time_tactics) {
    timing_cache_->put(key, conv->tactic());
    std::string timed;
    for (const auto& [t, ms] : times) timed += cat(" ", t, "=", ms, "ms");
    log_verbose(cat("  timed ", node.name, ":", timed, " -> ", conv->tactic()));
  }
  return conv;
}

ConvStep* CudaCompiledGraph::keep_conv(std::unique_ptr<ConvStep> conv) {
  convs_.push_back(std::move(conv));
  return convs_.back().get();
}

bool node_supported(const ir::Graph& g, const ir::Node& n) {
  const CudaOp* entry = find_cuda_op(n.op);
  return entry && entry->supports(g, n);
}

std::unique_ptr<CompiledGraph> compile_graph(const ir::Graph& graph, const CompileOptions& options) {
  std::string why;
  if (!device_available(&why)) throw Error(cat("the CUDA backend cannot run here: ", why, "; use --device cpu"));
  for (const ir::Node& n : graph.nodes())
    if (!node_supported(graph, n))
      throw Error(cat("node '", n.name, "' (", ir::op_name(n.op), ") has no CUDA kernel for its shapes"));
  return std::make_unique<CudaCompiledGraph>(graph, options);
}

}  // namespace crowdrt::cuda
