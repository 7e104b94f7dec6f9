// Compiling a graph for the GPU. Every value lives in the arena (NHWC for rank 4, row-major otherwise) in the
// engine's storage type; graph inputs and outputs also have float32 NCHW staging buffers on the device and in
// pinned host memory. Steps are closures over fixed device pointers, so the whole inference is captured once
// as a CUDA graph and replayed; the per-layer profile runs the same steps one by one between events.
//
// int8 (a permission, as in TensorRT): the engine is fp16, and a Conv runs int8 (cuDNN int8 operation graph,
// epilogue fused) where its input has a calibrated amax, it is expressible (group 1, none/ReLU, channels a
// multiple of 16, or a graph input padded to 16) and, when the builder times tactics, its best int8 kernel beats its best fp16 one by 10% (the
// two timed side by side; the verdict is kept in the timing cache and, as the tactic's "int8/" prefix, in the
// plan). A value is stored int8 (scale amax / 127) where it has an amax, every Conv reading it as input runs
// int8, and a Conv writing it (or reading it as residual) runs int8 or fp16 in the scaled form whose epilogue
// requantises (an fp16 Conv's only where that costs under 10% more); other ops read and write int8 through
// their load/store, so a MaxPool, Resize or Concat next to int8 Convs quantises in its own kernel.
#include "backends/cuda/cuda_graph.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <cstdio>
#include <functional>
#include <limits>
#include <map>
#include <optional>

#include "backends/cuda/cuda_conv.h"
#include "backends/cuda/cuda_conv_chain.h"
#include "backends/cuda/cuda_conv_stem.h"
#include "backends/cuda/cuda_kernels.h"
#include "backends/cuda/cuda_resources.h"
#include "backends/cuda/cuda_timing_cache.h"
#include "core/log.h"
#include "core/memory_plan.h"
#include "ir/op_params.h"

namespace crowdrt::cuda {
namespace {

using ir::Op;

constexpr int kTensorCoreChannels = 8;
constexpr int kInt8Channels = 16;           // int8 tensors: channels fill 16-byte vectors
constexpr double kInt8Margin = 0.9;         // int8 must time at least 10% faster than fp16 to be kept (as on
                                            // the CPU: in the graph, near ties often came out slower)
constexpr double kScaledSlack = 1.1;        // fp16 with an int8 output may cost 10% more (its readers gain)
const std::string kInt8Tactic = "int8/";     // prefix of an int8 Conv's tactic in plans
const std::string kScaledTactic = "scaled/"; // prefix of the tactic of an fp16 Conv reading or writing int8
const std::string kChainTactic = "chain/";   // prefix of the tactics of the nodes a convolution chain runs
const std::string kStagingTactic = "staging/";  // prefix of the tactic of a Conv reading a network input's staging

// A node's tactic as its own step reads it: without the "chain/" prefix of a fused chain's member or the
// "staging/" one of a Conv reading a network input's staging buffer.
std::string own_tactic(std::string tactic) {
  for (const std::string& prefix : {kChainTactic, kStagingTactic})
    if (tactic.rfind(prefix, 0) == 0) tactic = tactic.substr(prefix.size());
  return tactic;
}

bool rank_at_most_4(const ir::Graph& g, ir::ValueId v) { return v != ir::kNoValue && g.value(v).shape.size() <= 4; }
bool rank_4(const ir::Graph& g, ir::ValueId v) { return v != ir::kNoValue && g.value(v).shape.size() == 4; }

int64_t round_up(int64_t x, int64_t multiple) { return (x + multiple - 1) / multiple * multiple; }

// Dimensions left-padded to 4.
void dims4(const Shape& shape, int dims[4]) {
  const size_t pad = 4 - shape.size();
  for (size_t d = 0; d < 4; ++d) dims[d] = d < pad ? 1 : static_cast<int>(shape[d - pad]);
}

// The arena layout of a value: NHWC (channels fastest, `channels` stored) for rank 4, row-major otherwise.
View layout_view(const Shape& shape, StorageType type, int storage_channels = 0) {
  View v;
  v.type = type;
  dims4(shape, v.dims);
  if (shape.size() == 4) {
    const int64_t c = storage_channels > 0 ? storage_channels : v.dims[1];
    v.strides[1] = 1;
    v.strides[3] = c;
    v.strides[2] = c * v.dims[3];
    v.strides[0] = v.strides[2] * v.dims[2];
  } else {
    v.strides[3] = 1;
    for (int d = 2; d >= 0; --d) v.strides[d] = v.strides[d + 1] * v.dims[d + 1];
  }
  return v;
}

// Row-major NCHW float32 (staging buffers and uploaded constants).
View packed_f32_view(const Shape& shape, void* data) {
  View v;
  v.data = data;
  v.type = StorageType::f32;
  dims4(shape, v.dims);
  v.strides[3] = 1;
  for (int d = 2; d >= 0; --d) v.strides[d] = v.strides[d + 1] * v.dims[d + 1];
  return v;
}

// `v` seen with the dimensions of `out` (rank 4 after padding): stride 0 where v has extent 1.
View broadcast_to(View v, const int out_dims[4]) {
  for (int d = 0; d < 4; ++d)
    if (v.dims[d] == 1 && out_dims[d] != 1) {
      v.strides[d] = 0;
      v.dims[d] = out_dims[d];
    }
  return v;
}

size_t view_bytes(const View& v, int storage_channels) {
  int64_t elements = int64_t{v.dims[0]} * v.dims[2] * v.dims[3] * (storage_channels > 0 ? storage_channels : v.dims[1]);
  return static_cast<size_t>(elements) * storage_bytes(v.type);
}

// Kernel, strides, dilations, pads (t, l, b, r) and group of a Conv / ConvTranspose node (canonical attributes).
ConvShape conv_shape_of(const ir::Attributes& a) {
  ConvShape shape;
  const auto k = ir::per_axis(a, "kernel_shape", 2, 0), s = ir::per_axis(a, "strides", 2, 1),
             d = ir::per_axis(a, "dilations", 2, 1), pads = ir::per_axis(a, "pads", 4, 0);
  for (int i = 0; i < 2; ++i) {
    shape.kernel[i] = static_cast<int>(k[i]);
    shape.strides[i] = static_cast<int>(s[i]);
    shape.dilations[i] = static_cast<int>(d[i]);
  }
  for (int i = 0; i < 4; ++i) shape.pads[i] = static_cast<int>(pads[i]);
  shape.group = static_cast<int>(a.i("group", 1));
  return shape;
}

Activation to_cuda(const ir::Activation& a) {
  return {static_cast<ActivationKind>(static_cast<int>(a.kind)), a.alpha, a.beta};
}

// What a step launches; layers_ holds what it is (the same index).
struct Step {
  std::function<void(cudaStream_t)> run;
};

// Convolutions (and the upsampling before them) that one kernel may run (cuda_conv_chain.h): members in order,
// the chain's input and output values.
struct ChainCandidate {
  std::vector<size_t> members;  // node indices: [Resize,] Conv, Conv[, Conv]
  ir::ValueId in = ir::kNoValue, out = ir::kNoValue;
  ChainShape shape;
};

// A Conv that can be a chain stage: 3x3, stride 1, dilation 1, pads 1, group 1, no residual, none or ReLU, a bias
// or none.
bool chain_stage(const ir::Graph& g, const ir::Node& n) {
  if (n.op != Op::Conv || n.attrs.i("fused_add", 0) != 0 || n.inputs.size() < 2) return false;
  const ConvShape s = conv_shape_of(n.attrs);
  const std::string act = n.attrs.s("activation", "");
  const Shape& w = g.value(n.inputs[1]).shape;
  return s.kernel[0] == 3 && s.kernel[1] == 3 && s.strides[0] == 1 && s.strides[1] == 1 && s.dilations[0] == 1 &&
         s.dilations[1] == 1 && s.pads[0] == 1 && s.pads[1] == 1 && s.pads[2] == 1 && s.pads[3] == 1 && s.group == 1 &&
         (act.empty() || act == "relu") && w.size() == 4 && g.value(n.inputs[1]).data &&
         g.value(n.inputs[1]).data->dtype() == DType::f32;
}

// A nearest Resize that doubles H and W, output pixel (h, w) reading input (h / 2, w / 2).
bool upsampling_by_2(const ir::Graph& g, const ir::Node& n) {
  if (n.op != Op::Resize || n.attrs.s("mode", "nearest") != "nearest") return false;
  const std::vector<float> scales = n.attrs.floats("scales");
  const Shape& x = g.value(n.inputs[0]).shape;
  const Shape& y = g.value(n.outputs[0]).shape;
  if (scales.size() != 4 || x.size() != 4 || y[2] != 2 * x[2] || y[3] != 2 * x[3]) return false;
  for (int axis : {2, 3}) {
    const auto map = ir::resize_axis_map(ir::resize_params(n.attrs), scales[axis], x[axis], y[axis]);
    for (size_t i = 0; i < map.lo.size(); ++i)
      if (map.lo[i] != static_cast<int64_t>(i / 2)) return false;
  }
  return true;
}

// Milliseconds per run of each of `forms` (the same work done two ways), timed side by side and interleaved: one
// warm-up run, then 20 runs a round, the best of 3 rounds (near ties would otherwise be left to noise).
std::vector<double> time_side_by_side(cudaStream_t stream, const std::vector<std::function<void()>>& forms) {
  const Event start = make_event(), stop = make_event();
  std::vector<double> best(forms.size(), std::numeric_limits<double>::infinity());
  constexpr int kRounds = 3, kRuns = 20;
  for (int round = 0; round < kRounds; ++round)
    for (size_t k = 0; k < forms.size(); ++k) {
      forms[k]();
      check(cudaEventRecord(start.get(), stream), "cudaEventRecord");
      for (int i = 0; i < kRuns; ++i) forms[k]();
      check(cudaEventRecord(stop.get(), stream), "cudaEventRecord");
      check(cudaEventSynchronize(stop.get()), "side-by-side timing");
      float ms = 0.f;
      check(cudaEventElapsedTime(&ms, start.get(), stop.get()), "cudaEventElapsedTime");
      best[k] = std::min(best[k], double(ms) / kRuns);
    }
  return best;
}

class CudaCompiledGraph final : public CompiledGraph {
 public:
  CudaCompiledGraph(const ir::Graph& graph, const CompileOptions& options);

  void run(std::span<const float* const> inputs, std::span<float* const> outputs,
           std::vector<double>* layer_ms) override;
  const std::vector<LayerInfo>& layers() const override { return layers_; }
  size_t arena_bytes() const override { return arena_bytes_; }
  bool last_device_times(DeviceTimes* times) const override {
    if (!has_times_) return false;
    *times = times_;
    return true;
  }
  bool device_io(DeviceIo* io) override;
  void run_on_device(bool sum_output) override;
  double wait_output_sum() override;
  void wait_output(size_t index, float* host) override;

 private:
  struct Staging {
    size_t bytes = 0;
    PinnedMemory host;
    DeviceMemory device;
  };

  // A float32 NCHW buffer of `shape` in pinned host memory and on the device.
  static Staging staging_for(const Shape& shape, const char* what) {
    Staging st;
    st.bytes = static_cast<size_t>(shape_numel(shape)) * sizeof(float);
    st.host = pinned_alloc(st.bytes, what);
    st.device = device_alloc(st.bytes, what);
    return st;
  }
  const float* upload_floats(const std::vector<float>& values, const char* what);
  std::optional<float> amax(ir::ValueId v) const;
  bool scaled_form(const ir::Node& node) const;
  bool int8_eligible(const ir::Node& node) const;
  bool int8_candidate(ir::ValueId v) const;
  bool read_only_by_convs(ir::ValueId v) const;
  int int8_input_channels(ir::ValueId v) const;
  struct Int8Timing {
    double fp16_ms = std::numeric_limits<double>::infinity(), int8_ms = std::numeric_limits<double>::infinity(),
           fp16_to_int8_ms = std::numeric_limits<double>::infinity();
  };
  Int8Timing time_int8(const ir::Node& node);
  void choose_int8_values();
  View constant_view(ir::ValueId v);
  void add(const ir::Node* node, std::string op, std::string kernel, std::function<void(cudaStream_t)> run,
           std::string note = "", std::string tactic = "", bool int8 = false);
  void build_node(const ir::Node& node);
  std::vector<ChainCandidate> find_chains() const;
  void fuse_chain(const ChainCandidate& chain);
  void run_inside(size_t step, std::string kernel, std::string note);
  void capture();

  const ir::Graph& graph_;
  CompileOptions options_;
  StorageType type_ = StorageType::f32;
  Precision precision_ = Precision::fp32;
  bool int8_ = false;                          // int8 permitted (the engine is fp16 otherwise)
  std::vector<bool> int8_value_;               // per value id: stored int8
  std::map<std::string, std::string> int8_notes_;  // per Conv node: why it runs fp16 under an int8 permission
  Stream stream_;
  CudnnHandle cudnn_;
  DeviceMemory arena_, workspace_;
  size_t arena_bytes_ = 0, workspace_bytes_ = 0;
  std::vector<DeviceMemory> owned_;            // constants, resize maps, dedicated input buffers
  std::vector<View> views_;                    // per value id (data set for non-constants)
  std::vector<int> storage_channels_;          // per value id (0: as the shape says)
  std::vector<std::pair<ir::ValueId, int64_t>> alias_;  // per value id: (Concat output, channel) it is written into
  std::vector<std::unique_ptr<ConvStep>> convs_;
  std::unique_ptr<TimingCache> timing_cache_;
  std::vector<Step> steps_;
  std::vector<LayerInfo> layers_;
  std::vector<size_t> node_step_;              // per node: its step
  std::map<ir::ValueId, ResizeMaps> resize_maps_;  // per Resize output: its maps on the device
  std::vector<Staging> in_staging_, out_staging_;
  GraphExec exec_;
  Event h2d_start_, compute_start_, compute_end_, d2h_end_;
  DeviceTimes times_;
  bool has_times_ = false;
  // run_on_device's sum of output 0: partial sums, the sum on the device and its pinned host copy.
  DeviceMemory sum_scratch_;
  PinnedMemory sum_host_;
  bool sum_queued_ = false;
};

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
    if (s.size() != 4 || type_ == StorageType::f32 || s[1] % kTensorCoreChannels == 0 || !read_only_by_convs(v)) continue;
    storage_channels_[v] = static_cast<int>(round_up(s[1], kTensorCoreChannels));
  }

  // int8 values; an int8 graph input is padded to 16 channels instead.
  int8_value_.assign(n_values, false);
  if (int8_) choose_int8_values();
  for (ir::ValueId v : graph.inputs())
    if (int8_value_[v]) storage_channels_[v] = int8_input_channels(v);

  // A nearest/linear Resize read only by a channel Concat writes straight into its slice of the Concat's output
  // (our kernels take any output strides), so the upsampled tensor is never stored apart and never copied.
  const std::vector<int> uses = graph.use_counts();
  alias_.assign(n_values, {ir::kNoValue, 0});
  for (const ir::Node& n : graph.nodes()) {
    if (n.op != Op::Concat || graph.value(n.outputs[0]).shape.size() != 4 || n.attrs.i("axis", 0) != 1) continue;
    int64_t at = 0;
    for (ir::ValueId v : n.inputs) {
      const int p = producer[v];
      if (p >= 0 && graph.nodes()[p].op == Op::Resize && uses[v] == 1 && storage_channels_[v] == 0)
        alias_[v] = {n.outputs[0], at};
      at += graph.value(v).shape[1];
    }
  }

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
    if (int8_value_[v]) views_[v].scale = *amax(static_cast<ir::ValueId>(v)) / 127.f;
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

const float* CudaCompiledGraph::upload_floats(const std::vector<float>& values, const char* what) {
  DeviceMemory d = device_alloc(std::max<size_t>(values.size(), 1) * sizeof(float), what);
  if (!values.empty())
    check(cudaMemcpy(d.get(), values.data(), values.size() * sizeof(float), cudaMemcpyHostToDevice), what);
  owned_.push_back(std::move(d));
  return static_cast<const float*>(owned_.back().get());
}

std::optional<float> CudaCompiledGraph::amax(ir::ValueId v) const {
  const auto it = options_.activation_amax.find(graph_.value(v).name);
  if (it == options_.activation_amax.end() || !(it->second > 0.f) || !std::isfinite(it->second)) return std::nullopt;
  return it->second;
}

// A Conv that may read or write int8 values: the scaled cuDNN graph's form (group 1, no activation or ReLU).
bool CudaCompiledGraph::scaled_form(const ir::Node& n) const {
  if (!int8_ || n.op != Op::Conv || options_.keep_fp32.count(n.name)) return false;
  const std::string act = n.attrs.s("activation", "");
  return n.attrs.i("group", 1) == 1 && (act.empty() || act == "relu");
}

// A Conv that may run int8: the scaled form and an int8-able input.
bool CudaCompiledGraph::int8_eligible(const ir::Node& n) const {
  return scaled_form(n) && int8_candidate(n.inputs[0]);
}

// A value read only as the input of ungrouped Convs (a graph input may then be stored with padding channels).
bool CudaCompiledGraph::read_only_by_convs(ir::ValueId v) const {
  for (const ir::Node& n : graph_.nodes())
    for (size_t k = 0; k < n.inputs.size(); ++k)
      if (n.inputs[k] == v && (n.op != Op::Conv || k != 0 || n.attrs.i("group", 1) != 1)) return false;
  return true;
}

// The storage channels of a graph input stored int8: its channels padded to 16 (0 where no padding is needed),
// -1 where it cannot be int8 (read by other than ungrouped Convs).
int CudaCompiledGraph::int8_input_channels(ir::ValueId v) const {
  const int64_t c = graph_.value(v).shape[1];
  if (!read_only_by_convs(v)) return -1;
  return c % kInt8Channels == 0 ? 0 : static_cast<int>(round_up(c, kInt8Channels));
}

// A value that may be stored int8: a 4-D activation with an amax, not a graph output (converted to float32),
// with channels that fill 16-byte vectors; a graph input also where it is padded to them (read by Convs only).
bool CudaCompiledGraph::int8_candidate(ir::ValueId v) const {
  const ir::Value& value = graph_.value(v);
  const auto& ins = graph_.inputs();
  const auto& outs = graph_.outputs();
  if (value.is_constant() || value.shape.size() != 4 || !amax(v) || std::find(outs.begin(), outs.end(), v) != outs.end())
    return false;
  if (std::find(ins.begin(), ins.end(), v) != ins.end()) return int8_input_channels(v) >= 0;
  return value.shape[1] % kInt8Channels == 0;
}

// Times the Conv's best kernel for fp16 x, y and residual, for int8 ones (each int8 where it may be), and for
// fp16 x with the others int8, on scratch buffers; the times go into the timing cache.
CudaCompiledGraph::Int8Timing CudaCompiledGraph::time_int8(const ir::Node& node) {
  const auto& ins = graph_.inputs();
  const auto storage_of = [&](ir::ValueId v, bool q) {
    if (std::find(ins.begin(), ins.end(), v) == ins.end()) return 0;
    return q ? int8_input_channels(v) : storage_channels_[v];
  };
  const auto view_of = [&](ir::ValueId v, bool int8) {
    const bool q = int8 && int8_candidate(v);
    View view = layout_view(graph_.value(v).shape, q ? StorageType::i8 : type_, storage_of(v, q));
    if (q) view.scale = *amax(v) / 127.f;
    return view;
  };
  std::vector<DeviceMemory> scratch;
  const auto problem = [&](bool x_int8, bool others_int8) {
    ConvProblem p;
    p.x = view_of(node.inputs[0], x_int8);
    const int x_storage = storage_of(node.inputs[0], p.x.type == StorageType::i8);
    p.x_storage_channels = x_storage > 0 ? x_storage : p.x.dims[1];
    p.y = view_of(node.outputs[0], others_int8);
    p.weight = graph_.value(node.inputs[1]).data.get();
    p.bias = node.inputs.size() > 2 && node.inputs[2] != ir::kNoValue ? graph_.value(node.inputs[2]).data.get()
                                                                         : nullptr;
    p.has_residual = node.attrs.i("fused_add", 0) != 0;
    if (p.has_residual) p.residual = view_of(node.inputs[3], others_int8);
    p.shape = conv_shape_of(node.attrs);
    p.act = to_cuda(ir::epilogue_activation(node.attrs));
    for (View* v : {&p.x, &p.y, &p.residual}) {
      if (v == &p.residual && !p.has_residual) continue;
      const size_t bytes = view_bytes(*v, v == &p.x ? p.x_storage_channels : 0);
      scratch.push_back(device_alloc(std::max<size_t>(bytes, 256), "int8 timing scratch"));
      check(cudaMemsetAsync(scratch.back().get(), 0, bytes, stream_.get()), "cudaMemset");
      v->data = scratch.back().get();
    }
    return p;
  };
  const bool x_int8 = int8_eligible(node);
  const ConvProblem p16 = problem(false, false), p8 = problem(x_int8, true), p16q = problem(false, true);
  const std::string key = "int8 timing: " + p16.key();
  Int8Timing t;
  if (const std::string* cached = timing_cache_->find(key)) {
    if (std::sscanf(cached->c_str(), "fp16 %lf int8 %lf fp16->int8 %lf", &t.fp16_ms, &t.int8_ms, &t.fp16_to_int8_ms) == 3)
      return t;
  }
  // Each form's best tactic (ConvStep's own timing), then the winners timed again side by side, interleaved, 20
  // runs a round, best of 3 rounds: the per-tactic timing's 5 runs leave near ties to noise.
  const auto make = [&](const ConvProblem& p) -> std::unique_ptr<ConvStep> {
    try {
      return std::make_unique<ConvStep>(p, cudnn_.get(), stream_.get(), "", nullptr, true);
    } catch (const Error&) {
      return nullptr;
    }
  };
  std::array<std::unique_ptr<ConvStep>, 3> steps = {make(p16), p8.x.type == StorageType::i8 ? make(p8) : nullptr,
                                                    p16q.quantised() ? make(p16q) : nullptr};
  size_t workspace_bytes = 256;
  for (const auto& step : steps)
    if (step) workspace_bytes = std::max(workspace_bytes, step->workspace_bytes());
  const DeviceMemory workspace = device_alloc(workspace_bytes, "int8 timing workspace");
  std::array<double, 3> ms;
  ms.fill(std::numeric_limits<double>::infinity());
  const Event start = make_event(), stop = make_event();
  constexpr int kRounds = 3, kRuns = 20;
  for (int round = 0; round < kRounds; ++round)
    for (size_t k = 0; k < steps.size(); ++k) {
      if (!steps[k]) continue;
      try {
        steps[k]->run(stream_.get(), workspace.get());
        check(cudaEventRecord(start.get(), stream_.get()), "cudaEventRecord");
        for (int i = 0; i < kRuns; ++i) steps[k]->run(stream_.get(), workspace.get());
        check(cudaEventRecord(stop.get(), stream_.get()), "cudaEventRecord");
        check(cudaEventSynchronize(stop.get()), "int8 timing");
        float elapsed = 0.f;
        check(cudaEventElapsedTime(&elapsed, start.get(), stop.get()), "cudaEventElapsedTime");
        ms[k] = std::min(ms[k], double(elapsed) / kRuns);
      } catch (const Error&) {
        cudaGetLastError();
        steps[k].reset();  // fails when it runs: not a candidate
        ms[k] = std::numeric_limits<double>::infinity();
      }
    }
  t.fp16_ms = ms[0];
  t.int8_ms = ms[1];
  t.fp16_to_int8_ms = ms[2];
  timing_cache_->put(key, cat("fp16 ", t.fp16_ms, " int8 ", t.int8_ms, " fp16->int8 ", t.fp16_to_int8_ms));
  log_verbose(cat("  int8 timing ", node.name, ": fp16 ", t.fp16_ms, " ms, int8 ", t.int8_ms, " ms, fp16 with int8 ",
                  "output/residual ", t.fp16_to_int8_ms, " ms"));
  return t;
}

// Which Convs run int8 and which values are stored int8 (see the top of this file).
void CudaCompiledGraph::choose_int8_values() {
  const size_t n_values = graph_.value_count();
  const size_t n_nodes = graph_.nodes().size();
  const std::vector<int> producer = graph_.producers();
  // Per Conv: may it run int8 (x int8), may it run fp16 with an int8 output or residual (scaled)?
  std::vector<bool> wants(n_nodes, false), scaled(n_nodes, false);
  for (size_t i = 0; i < n_nodes; ++i) {
    const ir::Node& n = graph_.nodes()[i];
    if (!scaled_form(n)) continue;
    const std::string tactic = own_tactic(n.attrs.s("tactic", ""));
    if (!options_.time_tactics && !tactic.empty()) {
      // The plan's choice: "int8/" ran int8, "scaled/" ran fp16 reading or writing int8.
      wants[i] = tactic.rfind(kInt8Tactic, 0) == 0;
      scaled[i] = wants[i] || tactic.rfind(kScaledTactic, 0) == 0;
    } else if (options_.time_tactics) {
      const Int8Timing t = time_int8(n);
      wants[i] = int8_eligible(n) && t.int8_ms < kInt8Margin * t.fp16_ms;
      scaled[i] = t.fp16_to_int8_ms <= kScaledSlack * t.fp16_ms;
      if (int8_eligible(n) && !wants[i])
        int8_notes_[n.name] = cat("int8 permitted, fp16: int8 timed ", t.int8_ms, " ms against fp16 ", t.fp16_ms, " ms");
    } else {
      wants[i] = int8_eligible(n);  // untimed: the lowest permitted precision
      scaled[i] = true;
    }
  }
  std::vector<std::vector<std::pair<size_t, size_t>>> readers(n_values);  // (node, input index)
  for (size_t i = 0; i < n_nodes; ++i)
    for (size_t k = 0; k < graph_.nodes()[i].inputs.size(); ++k)
      if (graph_.nodes()[i].inputs[k] != ir::kNoValue) readers[graph_.nodes()[i].inputs[k]].emplace_back(i, k);
  const auto& ins = graph_.inputs();
  for (size_t v = 0; v < n_values; ++v) {
    const auto id = static_cast<ir::ValueId>(v);
    int8_value_[v] = int8_candidate(id) && !readers[v].empty() &&
                     (producer[v] >= 0 || std::find(ins.begin(), ins.end(), id) != ins.end());
  }
  // Drop values until every constraint holds: a Conv runs int8 only with an int8 input; a Conv reads an int8
  // input only if it runs int8; a Conv writes an int8 output or reads an int8 residual only if it runs int8 or in
  // the scaled fp16 form. Other ops convert in their own kernels.
  const auto runs_int8 = [&](size_t node) { return wants[node] && int8_value_[graph_.nodes()[node].inputs[0]]; };
  const auto int8_operands = [&](size_t node) { return runs_int8(node) || scaled[node]; };
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t v = 0; v < n_values; ++v) {
      if (!int8_value_[v]) continue;
      bool ok = producer[v] < 0 || graph_.nodes()[producer[v]].op != Op::Conv || int8_operands(producer[v]);
      for (const auto& [node, k] : readers[v]) {
        if (graph_.nodes()[node].op != Op::Conv) continue;
        if (k == 0) ok = ok && wants[node];
        if (k == 3) ok = ok && int8_operands(node);
      }
      if (!ok) {
        int8_value_[v] = false;
        changed = true;
      }
    }
  }
  for (size_t i = 0; i < n_nodes; ++i) {
    const ir::Node& n = graph_.nodes()[i];
    if (n.op != Op::Conv || int8_notes_.count(n.name) || runs_int8(i)) continue;
    if (wants[i])
      int8_notes_[n.name] = cat("int8 permitted, fp16: its input '", graph_.value(n.inputs[0]).name,
                                "' stays fp16 (a reader or writer of it is not int8)");
    else if (options_.keep_fp32.count(n.name))
      int8_notes_[n.name] = "int8 permitted, fp16: kept out of int8 (--keep-fp32)";
    else if (!amax(n.inputs[0]))
      int8_notes_[n.name] = cat("int8 permitted, fp16: no int8 scale for its input '", graph_.value(n.inputs[0]).name, "'");
    else
      int8_notes_[n.name] = "int8 permitted, fp16: no int8 form (group, activation, channels not a multiple of 16, "
                            "or a graph input read by other than Convs)";
  }
}

View CudaCompiledGraph::constant_view(ir::ValueId v) {
  const Tensor& t = *graph_.value(v).data;
  const float* data = upload_floats(t.to_float(), "a constant");
  return packed_f32_view(t.shape(), const_cast<float*>(data));
}

void CudaCompiledGraph::add(const ir::Node* node, std::string op, std::string kernel,
                            std::function<void(cudaStream_t)> run, std::string note, std::string tactic, bool int8) {
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

void CudaCompiledGraph::build_node(const ir::Node& node) {
  const ir::Attributes& a = node.attrs;
  const auto in_view = [&](size_t k) {
    const ir::ValueId v = node.inputs.at(k);
    return graph_.value(v).is_constant() ? constant_view(v) : views_[v];
  };
  const View out = node.outputs.empty() ? View{} : views_[node.outputs[0]];
  const std::string op = ir::fused_op_name(node);

  switch (node.op) {
    case Op::Conv: {
      ConvProblem p;
      p.x = views_[node.inputs[0]];
      p.x_storage_channels = storage_channels_[node.inputs[0]] ? storage_channels_[node.inputs[0]] : p.x.dims[1];
      p.y = out;
      p.weight = graph_.value(node.inputs[1]).data.get();
      p.bias = node.inputs.size() > 2 && node.inputs[2] != ir::kNoValue ? graph_.value(node.inputs[2]).data.get()
                                                                           : nullptr;
      p.has_residual = a.i("fused_add", 0) != 0;
      if (p.has_residual) p.residual = in_view(3);
      p.shape = conv_shape_of(a);
      p.act = to_cuda(ir::epilogue_activation(a));
      // Tactic: the plan's, else the timing cache's, else timed now (the builder). An int8 Conv's tactic carries
      // the prefix "int8/" in the plan, one reading a network input's staging buffer "staging/".
      const bool int8 = p.x.type == StorageType::i8;
      const std::string planned = options_.time_tactics ? "" : a.s("tactic", "");
      std::string tactic = own_tactic(planned);
      for (const std::string& prefix : {kInt8Tactic, kScaledTactic})
        if (tactic.rfind(prefix, 0) == 0) tactic = tactic.substr(prefix.size());
      const auto make_step = [&](const ConvProblem& problem, const std::string& wanted, std::string* from) {
        std::string chosen = wanted;
        const std::string key = problem.key();
        *from = chosen.empty() ? "" : "plan";
        if (chosen.empty())
          if (const std::string* cached = timing_cache_->find(key)) {
            chosen = *cached;
            *from = "timing cache";
          }
        TacticTimes times;
        auto conv = std::make_unique<ConvStep>(problem, cudnn_.get(), stream_.get(), chosen, &times,
                                               options_.time_tactics);
        if (from->empty() && options_.time_tactics) {
          timing_cache_->put(key, conv->tactic());
          std::string timed;
          for (const auto& [t, ms] : times) timed += cat(" ", t, "=", ms, "ms");
          log_verbose(cat("  timed ", node.name, ":", timed, " -> ", conv->tactic()));
        }
        return conv;
      };

      // A network input read only by this Conv, stored fp16: our stem kernel may read its float32 staging buffer
      // itself (converting as it loads), and the input's conversion step then runs nothing.
      const auto& ins = graph_.inputs();
      const size_t k = static_cast<size_t>(std::find(ins.begin(), ins.end(), node.inputs[0]) - ins.begin());
      std::optional<ConvProblem> staged;  // the input's conversion is step k, as it is input k
      if (k < ins.size() && p.x.type == StorageType::f16 && p.y.type == StorageType::f16 &&
          graph_.use_counts()[node.inputs[0]] == 1 && p.x.dims[1] <= 8) {
        ConvProblem q = p;
        q.x = packed_f32_view(graph_.value(node.inputs[0]).shape, in_staging_[k].device.get());
        q.x_storage_channels = 8;
        const auto configs = stem_configs();
        if (std::any_of(configs.begin(), configs.end(), [&](const StemConfig& c) {
              return stem_conv_possible(q.x, 8, q.y, q.has_residual, q.shape, q.act, c);
            }))
          staged = q;
      }
      std::string from;
      std::unique_ptr<ConvStep> conv;
      bool staging = false;
      std::string staging_note;
      if (staged && !options_.time_tactics && !planned.empty()) {
        staging = planned.rfind(kStagingTactic, 0) == 0;  // the plan's choice
      } else if (staged && !options_.time_tactics) {
        staging = true;  // untimed: the one kernel
      } else if (staged) {
        // Timed: the input's conversion and this Conv's best kernel, against the stem kernel on the staging buffer.
        std::string from_staged;
        conv = make_step(p, tactic, &from);
        std::unique_ptr<ConvStep> direct = make_step(*staged, "", &from_staged);
        const std::string key = "staging: " + staged->key();
        double staged_ms = 0, separate_ms = 0;
        const std::string* cached = timing_cache_->find(key);
        if (!cached || std::sscanf(cached->c_str(), "staging %lf separate %lf", &staged_ms, &separate_ms) != 2) {
          const DeviceMemory workspace = device_alloc(
              std::max<size_t>({256, conv->workspace_bytes(), direct->workspace_bytes()}), "convolution workspace (timing)");
          const std::vector<double> ms = time_side_by_side(
              stream_.get(), {[&] { direct->run(stream_.get(), workspace.get()); },
                              [&] {
                                steps_[k].run(stream_.get());
                                conv->run(stream_.get(), workspace.get());
                              }});
          staged_ms = ms[0];
          separate_ms = ms[1];
          timing_cache_->put(key, cat("staging ", staged_ms, " separate ", separate_ms));
        }
        staging = staged_ms < separate_ms;
        staging_note = cat(" (timed ", staged_ms, " ms against ", separate_ms, " ms with the conversion)");
        log_verbose(cat("  ", node.name, " on the staging buffer: ", staged_ms, " ms, converted input and its own ",
                        "kernel ", separate_ms, " ms -> ", staging ? "staging" : "separate"));
        if (staging) {
          conv = std::move(direct);
          from = from_staged;
        }
      }
      if (staging) {
        if (!conv) conv = make_step(*staged, tactic, &from);
        run_inside(k, cat("(in ", node.name, "'s kernel)"), layers_[k].note + "; read as float32 NCHW by " + node.name);
      } else if (!conv) {
        conv = make_step(p, tactic, &from);
      }
      ConvStep* step = conv.get();
      convs_.push_back(std::move(conv));
      std::string note = from.empty() ? "" : cat("tactic from the ", from);
      if (staging) note += cat(note.empty() ? "" : "; ", "reads the network input's float32 staging buffer", staging_note);
      add(&node, op, step->kernel(), [this, step](cudaStream_t s) { step->run(s, workspace_.get()); }, note,
          (staging ? kStagingTactic : "") + (int8 ? kInt8Tactic : p.quantised() && !staging ? kScaledTactic : "") +
              step->tactic(),
          int8);
      return;
    }
    case Op::ConvTranspose: {
      const ConvShape shape = conv_shape_of(a);
      const Tensor& w = *graph_.value(node.inputs[1]).data;
      const float* weight = upload_floats(std::vector<float>(w.data<float>(), w.data<float>() + w.numel()), "weights");
      const float* bias = nullptr;
      if (node.inputs.size() > 2 && node.inputs[2] != ir::kNoValue) {
        const Tensor& b = *graph_.value(node.inputs[2]).data;
        bias = upload_floats(std::vector<float>(b.data<float>(), b.data<float>() + b.numel()), "bias");
      }
      const View x = in_view(0);
      add(&node, op, "crowdrt:conv_transpose",
          [x, weight, bias, out, shape](cudaStream_t st) { launch_conv_transpose(x, weight, bias, out, shape, st); });
      return;
    }
    case Op::BatchNormalization: {
      const std::vector<float> gamma = graph_.value(node.inputs[1]).data->to_float();
      const std::vector<float> beta = graph_.value(node.inputs[2]).data->to_float();
      const std::vector<float> mean = graph_.value(node.inputs[3]).data->to_float();
      const std::vector<float> var = graph_.value(node.inputs[4]).data->to_float();
      const float eps = a.f("epsilon", 1e-5f);
      std::vector<float> scale(gamma.size()), shift(gamma.size());
      for (size_t c = 0; c < gamma.size(); ++c) {
        scale[c] = gamma[c] / std::sqrt(var[c] + eps);
        shift[c] = beta[c] - mean[c] * scale[c];
      }
      const float* sc = upload_floats(scale, "BatchNormalization scale");
      const float* sh = upload_floats(shift, "BatchNormalization shift");
      const View x = in_view(0);
      add(&node, op, "crowdrt:channel_affine",
          [x, out, sc, sh](cudaStream_t s) { launch_channel_affine(x, out, sc, sh, s); });
      return;
    }
    case Op::Relu: case Op::LeakyRelu: case Op::Clip: case Op::Sigmoid: case Op::HardSigmoid: case Op::HardSwish: {
      const Activation act = to_cuda(ir::op_activation(node.op, a));
      const View x = in_view(0);
      add(&node, op, "crowdrt:activation", [x, out, act](cudaStream_t s) { launch_activation(x, out, act, s); });
      return;
    }
    case Op::Identity: {
      const View x = in_view(0);
      add(&node, op, "crowdrt:copy", [x, out](cudaStream_t s) {
        if (!launch_copy_pixels(x, out, s)) launch_activation(x, out, {}, s);
      });
      return;
    }
    case Op::Add: case Op::Sub: case Op::Mul: case Op::Div: {
      const BinaryOp bop = node.op == Op::Add ? BinaryOp::add
                           : node.op == Op::Sub ? BinaryOp::sub
                           : node.op == Op::Mul ? BinaryOp::mul
                                                : BinaryOp::div;
      const View x = broadcast_to(in_view(0), out.dims), y = broadcast_to(in_view(1), out.dims);
      add(&node, op, "crowdrt:binary", [bop, x, y, out](cudaStream_t s) { launch_binary(bop, x, y, out, s); });
      return;
    }
    case Op::Concat: {
      const int rank = static_cast<int>(graph_.value(node.outputs[0]).shape.size());
      int64_t axis = a.i("axis", 0);
      if (axis < 0) axis += rank;
      const int axis4 = static_cast<int>(axis) + 4 - rank;
      // Channels of NHWC pixels: one kernel writes every input, the upsampling of those that Resize would write in
      // place included (their Resize steps then run nothing).
      if (axis4 == 1 && node.inputs.size() <= static_cast<size_t>(kMaxConcatInputs)) {
        std::vector<ConcatInput> inputs;
        std::vector<size_t> resizes;
        const std::vector<int> producer = graph_.producers();
        for (ir::ValueId v : node.inputs) {
          ConcatInput in;
          if (alias_[v].first != ir::kNoValue) {
            const ResizeMaps& m = resize_maps_.at(v);
            if (m.linear) break;
            in.x = views_[graph_.nodes()[producer[v]].inputs[0]];
            in.rows = m.row_lo;
            in.cols = m.col_lo;
            resizes.push_back(static_cast<size_t>(producer[v]));
          } else {
            in.x = in_view(inputs.size());
          }
          inputs.push_back(in);
        }
        if (inputs.size() == node.inputs.size() &&
            concat_pixels_possible(inputs.data(), static_cast<int>(inputs.size()), out)) {
          for (size_t r : resizes)
            run_inside(node_step_[r], cat("(in ", node.name, "'s concat)"), "upsampled by " + node.name + "'s kernel");
          add(&node, op, "crowdrt:concat_pixels", [inputs, out](cudaStream_t s) {
            launch_concat_pixels(inputs.data(), static_cast<int>(inputs.size()), out, s);
          }, resizes.empty() ? "" : "upsamples its Resize inputs itself");
          return;
        }
      }
      std::vector<std::pair<View, View>> copies;
      int64_t at = 0;
      for (size_t k = 0; k < node.inputs.size(); ++k) {
        const View x = in_view(k);
        if (alias_[node.inputs[k]].first != ir::kNoValue) {  // written in place by its producer
          at += x.dims[axis4];
          continue;
        }
        View slice = out;
        slice.dims[axis4] = x.dims[axis4];
        slice.data = static_cast<char*>(out.data) + at * out.strides[axis4] * storage_bytes(out.type);
        at += x.dims[axis4];
        copies.emplace_back(x, slice);
      }
      add(&node, op, "crowdrt:concat_copy", [copies](cudaStream_t s) {
        for (const auto& [x, slice] : copies)
          if (!launch_copy_pixels(x, slice, s)) launch_activation(x, slice, {}, s);
      });
      return;
    }
    case Op::MaxPool: case Op::AveragePool: {
      Window w;
      const auto k = ir::per_axis(a, "kernel_shape", 2, 0), s = ir::per_axis(a, "strides", 2, 1),
                 d = ir::per_axis(a, "dilations", 2, 1), pads = ir::per_axis(a, "pads", 4, 0);
      for (int i = 0; i < 2; ++i) {
        w.kernel[i] = static_cast<int>(k[i]);
        w.strides[i] = static_cast<int>(s[i]);
        w.dilations[i] = node.op == Op::MaxPool ? static_cast<int>(d[i]) : 1;
      }
      for (int i = 0; i < 4; ++i) w.pads[i] = static_cast<int>(pads[i]);
      const View x = in_view(0);
      if (node.op == Op::MaxPool) {
        add(&node, op, "crowdrt:max_pool", [x, out, w](cudaStream_t st) { launch_max_pool(x, out, w, st); });
      } else {
        const bool include = a.i("count_include_pad", 0) != 0;
        add(&node, op, "crowdrt:average_pool",
            [x, out, w, include](cudaStream_t st) { launch_average_pool(x, out, w, include, st); });
      }
      return;
    }
    case Op::GlobalAveragePool: case Op::ReduceMean: {
      bool reduce[4] = {false, false, false, false};
      const int rank = static_cast<int>(graph_.value(node.inputs[0]).shape.size());
      if (node.op == Op::GlobalAveragePool) {
        reduce[2] = reduce[3] = true;
      } else {
        std::vector<int64_t> axes = a.ints("axes");
        if (axes.empty())
          for (int d = 0; d < rank; ++d) axes.push_back(d);
        for (int64_t axis : axes) reduce[axis + 4 - rank] = true;
      }
      const View x = in_view(0);
      add(&node, op, "crowdrt:reduce_mean", [x, out, reduce](cudaStream_t s) { launch_reduce_mean(x, out, reduce, s); });
      return;
    }
    case Op::Resize: {
      const std::vector<float> scales = a.floats("scales");
      const bool linear = a.s("mode", "nearest") == "linear";
      const View x = in_view(0);
      const ir::ResizeParams params = ir::resize_params(a);
      const auto rows = ir::resize_axis_map(params, scales[2], x.dims[2], out.dims[2]);
      const auto cols = ir::resize_axis_map(params, scales[3], x.dims[3], out.dims[3]);
      const auto upload_ints = [&](const std::vector<int64_t>& v) {
        std::vector<int> ints(v.begin(), v.end());
        DeviceMemory d = device_alloc(std::max<size_t>(ints.size(), 1) * sizeof(int), "resize map");
        check(cudaMemcpy(d.get(), ints.data(), ints.size() * sizeof(int), cudaMemcpyHostToDevice), "resize map");
        owned_.push_back(std::move(d));
        return static_cast<const int*>(owned_.back().get());
      };
      ResizeMaps m;
      m.linear = linear;
      m.row_lo = upload_ints(rows.lo);
      m.row_hi = upload_ints(rows.hi);
      m.row_weight = upload_floats(rows.weight_hi, "resize weights");
      m.col_lo = upload_ints(cols.lo);
      m.col_hi = upload_ints(cols.hi);
      m.col_weight = upload_floats(cols.weight_hi, "resize weights");
      resize_maps_[node.outputs[0]] = m;
      add(&node, op, linear ? "crowdrt:resize_linear" : "crowdrt:resize_nearest",
          [x, out, m](cudaStream_t s) {
            if (!launch_resize_nearest_pixels(x, out, m, s)) launch_resize(x, out, m, s);
          },
          alias_[node.outputs[0]].first != ir::kNoValue ? "writes into its Concat's slice" : "");
      return;
    }
    case Op::Pad: {
      const std::vector<int64_t> pads = a.ints("pads");
      const int rank = static_cast<int>(pads.size() / 2);
      int64_t pads4[8] = {0, 0, 0, 0, 0, 0, 0, 0};
      for (int d = 0; d < rank; ++d) {
        pads4[d + 4 - rank] = pads[d];
        pads4[4 + d + 4 - rank] = pads[rank + d];
      }
      const std::string mode = a.s("mode", "constant");
      const PadMode pm = mode == "reflect" ? PadMode::reflect : mode == "edge" ? PadMode::edge : PadMode::constant;
      const float value = a.f("value", 0.f);
      const View x = in_view(0);
      std::array<int64_t, 8> p;
      std::copy(pads4, pads4 + 8, p.begin());
      add(&node, op, "crowdrt:pad", [x, out, p, pm, value](cudaStream_t s) { launch_pad(x, out, p.data(), pm, value, s); });
      return;
    }
    default:
      throw Error(cat("node '", node.name, "' (", ir::op_name(node.op), ") has no CUDA kernel"));
  }
}

std::vector<ChainCandidate> CudaCompiledGraph::find_chains() const {
  std::vector<ChainCandidate> chains;
  if (type_ != StorageType::f16) return chains;
  const auto& nodes = graph_.nodes();
  const std::vector<int> producer = graph_.producers();
  const std::vector<int> uses = graph_.use_counts();
  const auto& outs = graph_.outputs();
  const auto is_output = [&](ir::ValueId v) { return std::find(outs.begin(), outs.end(), v) != outs.end(); };
  std::vector<int> reader(graph_.value_count(), -1);  // a reader of each value (the only one where uses is 1)
  for (size_t i = 0; i < nodes.size(); ++i)
    for (ir::ValueId v : nodes[i].inputs)
      if (v != ir::kNoValue) reader[v] = static_cast<int>(i);
  const auto view_of = [&](ir::ValueId v) {
    return layout_view(graph_.value(v).shape, int8_value_[v] ? StorageType::i8 : type_, storage_channels_[v]);
  };
  const auto single_use = [&](ir::ValueId v) {
    return uses[v] == 1 && !is_output(v) && alias_[v].first == ir::kNoValue && storage_channels_[v] == 0;
  };
  std::vector<bool> taken(nodes.size(), false);
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (taken[i] || !chain_stage(graph_, nodes[i])) continue;
    ChainCandidate c;
    c.in = nodes[i].inputs[0];
    const int p = producer[c.in];
    if (p >= 0 && !taken[p] && single_use(c.in) && upsampling_by_2(graph_, nodes[p])) {
      c.members.push_back(static_cast<size_t>(p));
      c.shape.upsample = 2;
      c.in = nodes[p].inputs[0];
    }
    for (size_t at = i;;) {
      const ir::Node& n = nodes[at];
      const Shape& w = graph_.value(n.inputs[1]).shape;
      c.members.push_back(at);
      c.shape.stage[c.shape.stages++] = {static_cast<int>(w[1]), static_cast<int>(w[0]),
                                         n.attrs.s("activation", "") == "relu"};
      const ir::ValueId out = n.outputs[0];
      if (c.shape.stages == kChainMaxStages || !single_use(out)) break;
      const int next = reader[out];
      if (next < 0 || taken[next] || !chain_stage(graph_, nodes[next]) || nodes[next].inputs[0] != out) break;
      at = static_cast<size_t>(next);
    }
    // The longest prefix of two or more convolutions a compiled variant runs.
    while (c.shape.stages >= 2) {
      c.out = nodes[c.members.back()].outputs[0];
      if (!graph_.value(c.in).is_constant() && conv_chain_possible(c.shape, view_of(c.in), view_of(c.out))) break;
      c.members.pop_back();
      --c.shape.stages;
    }
    if (c.shape.stages < 2) continue;
    for (size_t m : c.members) taken[m] = true;
    chains.push_back(c);
  }
  return chains;
}

// Runs the chain in one kernel where that is faster than its members' own steps (timed side by side when the
// builder times tactics, the verdict kept in the timing cache), where a plan says so ("chain/" tactics) or, untimed
// without a plan's tactics, always. The first member's step runs the kernel; the others' run nothing.
void CudaCompiledGraph::fuse_chain(const ChainCandidate& c) {
  const auto& nodes = graph_.nodes();
  const ir::Node& head = nodes[c.members.front()];
  const View x = views_[c.in];
  View y = views_[c.out];
  // A chain whose output is only a graph output writes the float32 NCHW staging buffer itself; the output's
  // conversion step then runs nothing.
  std::optional<size_t> output_step;
  const auto& outs = graph_.outputs();
  if (graph_.use_counts()[c.out] == 1 && std::count(outs.begin(), outs.end(), c.out) == 1) {  // no node reads it
    const size_t k = static_cast<size_t>(std::find(outs.begin(), outs.end(), c.out) - outs.begin());
    y = packed_f32_view(graph_.value(c.out).shape, out_staging_[k].device.get());
    output_step = steps_.size() - outs.size() + k;
  }
  ChainShape shape = c.shape;
  std::vector<const float*> weights, biases;
  for (size_t m : c.members) {
    const ir::Node& n = nodes[m];
    if (n.op != Op::Conv) continue;
    weights.push_back(graph_.value(n.inputs[1]).data->data<float>());
    const bool bias = n.inputs.size() > 2 && n.inputs[2] != ir::kNoValue;
    biases.push_back(bias ? graph_.value(n.inputs[2]).data->data<float>() : nullptr);
  }
  weights.resize(kChainMaxStages, nullptr);
  biases.resize(kChainMaxStages, nullptr);
  const bool int8 = x.type == StorageType::i8;
  const std::vector<uint8_t> w = conv_chain_weights(shape, weights.data(), int8);
  DeviceMemory w_device = device_alloc(w.size(), "convolution chain weights");
  check(cudaMemcpy(w_device.get(), w.data(), w.size(), cudaMemcpyHostToDevice), "convolution chain weights");
  const void* w_ptr = w_device.get();
  owned_.push_back(std::move(w_device));
  const float* b_ptr =
      upload_floats(conv_chain_constants(shape, weights.data(), biases.data(), int8), "convolution chain constants");
  prepare_conv_chain(shape, int8);
  const auto fused = [shape, x, w_ptr, b_ptr, y](cudaStream_t s) { launch_conv_chain(shape, x, w_ptr, b_ptr, y, s); };

  std::string names, ops;
  for (size_t m : c.members) {
    names += (names.empty() ? "" : ", ") + nodes[m].name;
    ops += (ops.empty() ? "" : " → ") + ir::fused_op_name(nodes[m]);
  }
  bool fuse = true;
  std::string why = "untimed";
  const std::string planned = head.attrs.s("tactic", nodes[c.members.back()].attrs.s("tactic", ""));
  if (!options_.time_tactics && !planned.empty()) {
    fuse = planned.rfind(kChainTactic, 0) == 0;
    why = "the plan's choice";
  } else if (options_.time_tactics) {
    std::string key = cat("conv chain: x ", static_cast<int>(x.type), " ", x.dims[0], ",", x.dims[1], ",", x.dims[2],
                          ",", x.dims[3], " up", shape.upsample, " y ", static_cast<int>(y.type), " ys", y.strides[0],
                          ",", y.strides[1], ",", y.strides[2], ",", y.strides[3]);
    for (int s = 0; s < shape.stages; ++s)
      key += cat(" ", shape.stage[s].in_channels, ">", shape.stage[s].out_channels, shape.stage[s].relu ? "r" : "");
    double fused_ms = 0, separate_ms = 0;
    const std::string* cached = timing_cache_->find(key);
    if (!cached || std::sscanf(cached->c_str(), "fused %lf separate %lf", &fused_ms, &separate_ms) != 2) {
      // Both forms on the real buffers.
      const std::vector<double> ms = time_side_by_side(stream_.get(), {[&] { fused(stream_.get()); }, [&] {
                                                         for (size_t m : c.members) steps_[node_step_[m]].run(stream_.get());
                                                         if (output_step) steps_[*output_step].run(stream_.get());
                                                       }});
      fused_ms = ms[0];
      separate_ms = ms[1];
      timing_cache_->put(key, cat("fused ", fused_ms, " separate ", separate_ms));
    }
    fuse = fused_ms < separate_ms;
    why = cat("timed ", fused_ms, " ms against ", separate_ms, " ms for their own kernels");
    log_verbose(cat("  conv chain ", names, ": one kernel ", fused_ms, " ms, separate ", separate_ms, " ms -> ",
                    fuse ? "fused" : "separate"));
  }
  if (!fuse) return;
  for (size_t m : c.members) layers_[node_step_[m]].tactic = kChainTactic + layers_[node_step_[m]].tactic;
  const std::string inside = cat("(in ", head.name, "'s conv_chain)");
  for (size_t k = 1; k < c.members.size(); ++k)
    run_inside(node_step_[c.members[k]], inside, "fused into the chain of " + head.name);
  if (output_step) run_inside(*output_step, inside, layers_[*output_step].note + "; written by the chain of " + head.name);
  LayerInfo& first = layers_[node_step_[c.members.front()]];
  first.kernel = "crowdrt:conv_chain";
  first.precision = int8 ? Precision::int8 : Precision::fp16;  // int8: the first convolution
  first.note = cat("runs ", ops, " in one kernel (", why, ")");
  steps_[node_step_[c.members.front()]].run = fused;
}

// Step `step` launches nothing: another step's kernel does its work, as `kernel` and `note` say in the layer list.
void CudaCompiledGraph::run_inside(size_t step, std::string kernel, std::string note) {
  steps_[step].run = [](cudaStream_t) {};
  layers_[step].kernel = std::move(kernel);
  layers_[step].note = std::move(note);
}

void CudaCompiledGraph::capture() {
  cudaGraph_t graph = nullptr;
  check(cudaStreamBeginCapture(stream_.get(), cudaStreamCaptureModeThreadLocal), "cudaStreamBeginCapture");
  try {
    for (const Step& step : steps_) step.run(stream_.get());
  } catch (...) {
    cudaStreamEndCapture(stream_.get(), &graph);
    if (graph) cudaGraphDestroy(graph);
    throw;
  }
  check(cudaStreamEndCapture(stream_.get(), &graph), "cudaStreamEndCapture");
  Graph owned(graph);
  cudaGraphExec_t exec = nullptr;
  check(cudaGraphInstantiate(&exec, graph, 0), "cudaGraphInstantiate");
  exec_ = GraphExec(exec);
}

void CudaCompiledGraph::run(std::span<const float* const> inputs, std::span<float* const> outputs,
                            std::vector<double>* layer_ms) {
  cudaStream_t s = stream_.get();
  for (size_t i = 0; i < in_staging_.size(); ++i) std::memcpy(in_staging_[i].host.get(), inputs[i], in_staging_[i].bytes);
  check(cudaEventRecord(h2d_start_.get(), s), "cudaEventRecord");
  for (const Staging& st : in_staging_)
    check(cudaMemcpyAsync(st.device.get(), st.host.get(), st.bytes, cudaMemcpyHostToDevice, s), "input copy");
  check(cudaEventRecord(compute_start_.get(), s), "cudaEventRecord");
  if (layer_ms) {
    layer_ms->assign(steps_.size(), 0.0);
    std::vector<Event> marks;
    for (size_t i = 0; i <= steps_.size(); ++i) marks.push_back(make_event());
    check(cudaEventRecord(marks[0].get(), s), "cudaEventRecord");
    for (size_t i = 0; i < steps_.size(); ++i) {
      steps_[i].run(s);
      check(cudaEventRecord(marks[i + 1].get(), s), "cudaEventRecord");
    }
    check(cudaEventSynchronize(marks.back().get()), "profiled run");
    for (size_t i = 0; i < steps_.size(); ++i) {
      float ms = 0.f;
      check(cudaEventElapsedTime(&ms, marks[i].get(), marks[i + 1].get()), "cudaEventElapsedTime");
      (*layer_ms)[i] = ms;
    }
  } else {
    check(cudaGraphLaunch(exec_.get(), s), "cudaGraphLaunch");
  }
  check(cudaEventRecord(compute_end_.get(), s), "cudaEventRecord");
  for (const Staging& st : out_staging_)
    check(cudaMemcpyAsync(st.host.get(), st.device.get(), st.bytes, cudaMemcpyDeviceToHost, s), "output copy");
  check(cudaEventRecord(d2h_end_.get(), s), "cudaEventRecord");
  check(cudaEventSynchronize(d2h_end_.get()), "inference");
  check(cudaGetLastError(), "inference kernels");
  float h2d = 0.f, compute = 0.f, d2h = 0.f;
  check(cudaEventElapsedTime(&h2d, h2d_start_.get(), compute_start_.get()), "cudaEventElapsedTime");
  check(cudaEventElapsedTime(&compute, compute_start_.get(), compute_end_.get()), "cudaEventElapsedTime");
  check(cudaEventElapsedTime(&d2h, compute_end_.get(), d2h_end_.get()), "cudaEventElapsedTime");
  times_ = {h2d, compute, d2h};
  has_times_ = true;
  for (size_t i = 0; i < out_staging_.size(); ++i)
    std::memcpy(outputs[i], out_staging_[i].host.get(), out_staging_[i].bytes);
}

bool CudaCompiledGraph::device_io(DeviceIo* io) {
  io->stream = stream_.get();
  io->inputs.clear();
  io->outputs.clear();
  for (Staging& st : in_staging_) io->inputs.push_back(static_cast<float*>(st.device.get()));
  for (Staging& st : out_staging_) io->outputs.push_back(static_cast<const float*>(st.device.get()));
  return true;
}

void CudaCompiledGraph::run_on_device(bool sum_output) {
  cudaStream_t s = stream_.get();
  check(cudaEventRecord(compute_start_.get(), s), "cudaEventRecord");
  check(cudaGraphLaunch(exec_.get(), s), "cudaGraphLaunch");
  check(cudaEventRecord(compute_end_.get(), s), "cudaEventRecord");
  sum_queued_ = sum_output;
  if (sum_output) {
    if (!sum_scratch_) {
      sum_scratch_ = device_alloc(sizeof(double) * (kSumBlocks + 1), "the output sum");
      sum_host_ = pinned_alloc(sizeof(double), "the output sum");
    }
    double* partials = static_cast<double*>(sum_scratch_.get());
    launch_sum(static_cast<const float*>(out_staging_.at(0).device.get()),
               static_cast<int64_t>(out_staging_[0].bytes / sizeof(float)), partials, partials + kSumBlocks, s);
    check(cudaMemcpyAsync(sum_host_.get(), partials + kSumBlocks, sizeof(double), cudaMemcpyDeviceToHost, s),
          "copying the output sum");
  }
  check(cudaEventRecord(d2h_end_.get(), s), "cudaEventRecord");
  check(cudaGetLastError(), "inference kernels");
}

double CudaCompiledGraph::wait_output_sum() {
  if (!sum_queued_) throw Error("wait_output_sum: the last run_on_device did not sum its output");
  check(cudaEventSynchronize(d2h_end_.get()), "inference");
  float compute = 0.f;
  check(cudaEventElapsedTime(&compute, compute_start_.get(), compute_end_.get()), "cudaEventElapsedTime");
  times_ = {0.0, compute, 0.0};
  has_times_ = true;
  return *static_cast<const double*>(sum_host_.get());
}

void CudaCompiledGraph::wait_output(size_t index, float* host) {
  const Staging& st = out_staging_.at(index);
  check(cudaMemcpyAsync(st.host.get(), st.device.get(), st.bytes, cudaMemcpyDeviceToHost, stream_.get()), "output copy");
  check(cudaStreamSynchronize(stream_.get()), "inference");
  std::memcpy(host, st.host.get(), st.bytes);
}

}  // namespace

bool node_supported(const ir::Graph& g, const ir::Node& n) {
  const auto all_rank_4 = [&] {
    return rank_4(g, n.inputs.at(0)) && std::all_of(n.outputs.begin(), n.outputs.end(), [&](ir::ValueId v) { return rank_4(g, v); });
  };
  switch (n.op) {
    case Op::Conv:
      return all_rank_4() && n.inputs.size() >= 2 && g.value(n.inputs[1]).is_constant() &&
             (n.inputs.size() < 3 || n.inputs[2] == ir::kNoValue || g.value(n.inputs[2]).is_constant());
    case Op::ConvTranspose:
      return all_rank_4() && n.inputs.size() >= 2 && g.value(n.inputs[1]).is_constant() &&
             (n.inputs.size() < 3 || n.inputs[2] == ir::kNoValue || g.value(n.inputs[2]).is_constant());
    case Op::BatchNormalization:
      if (n.inputs.size() < 5) return false;
      for (size_t k = 1; k < 5; ++k)
        if (!g.value(n.inputs[k]).is_constant()) return false;
      return rank_at_most_4(g, n.inputs[0]) && g.value(n.inputs[0]).shape.size() >= 2;
    case Op::Relu: case Op::LeakyRelu: case Op::Sigmoid: case Op::HardSigmoid: case Op::HardSwish: case Op::Identity:
      return rank_at_most_4(g, n.inputs.at(0));
    case Op::Clip: return n.inputs.size() == 1 && rank_at_most_4(g, n.inputs[0]);
    case Op::Add: case Op::Sub: case Op::Mul: case Op::Div:
      return n.inputs.size() == 2 && rank_at_most_4(g, n.inputs[0]) && rank_at_most_4(g, n.inputs[1]) &&
             rank_at_most_4(g, n.outputs.at(0));
    case Op::Concat:
      return std::all_of(n.inputs.begin(), n.inputs.end(), [&](ir::ValueId v) { return rank_at_most_4(g, v); });
    case Op::MaxPool: case Op::AveragePool: case Op::GlobalAveragePool: return all_rank_4();
    case Op::ReduceMean:
      // Dropped dimensions would change the element order our views assume; keepdims only.
      return rank_at_most_4(g, n.inputs.at(0)) && n.attrs.i("keepdims", 1) != 0;
    case Op::Resize: {
      if (!all_rank_4()) return false;
      const Shape& x = g.value(n.inputs[0]).shape;
      const Shape& y = g.value(n.outputs[0]).shape;
      const std::string mode = n.attrs.s("mode", "nearest");
      return x[0] == y[0] && x[1] == y[1] && n.attrs.floats("scales").size() == 4 && (mode == "nearest" || mode == "linear");
    }
    case Op::Pad: return rank_at_most_4(g, n.inputs.at(0)) && n.inputs.size() == 1;
    default: return false;
  }
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
