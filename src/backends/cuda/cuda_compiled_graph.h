// The CUDA backend's compiled graph, shared by the files that build it, each doing one job:
//   cuda_compiled_graph.cpp  orchestration and memory: layouts, the arena, staging buffers, the steps in order;
//   cuda_int8_selection.cpp  which Convs run int8 and which values are stored int8;
//   cuda_pass_*.cpp          the fusions, passes over the graph whose results the orchestration consumes;
//   cuda_op_table.cpp        one entry per op (supports, build, traits); cuda_op_<op>.cpp the builds;
//   cuda_execution.cpp       CUDA graph capture and replay, run, run_on_device and the waits;
//   cuda_timer.cpp           the one side-by-side timer; cuda_layout.cpp the views and decoded attributes.
// Every value lives in the arena (NHWC for rank 4, row-major otherwise) in the engine's storage type; graph inputs
// and outputs also have float32 NCHW staging buffers on the device and in pinned host memory. Steps are closures
// over fixed device pointers, so the whole inference is captured once as a CUDA graph and replayed; the per-layer
// profile runs the same steps one by one between events.
#pragma once
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "backends/backend.h"
#include "backends/cuda/cuda_conv.h"
#include "backends/cuda/cuda_conv_chain.h"
#include "backends/cuda/cuda_kernels.h"
#include "backends/cuda/cuda_layout.h"
#include "backends/cuda/cuda_resources.h"
#include "backends/cuda/cuda_timing_cache.h"

namespace crowdrt::cuda {

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

  // For the op builds (cuda_op_*.cpp): what the graph holds and how a node adds its step.
  const ir::Graph& graph() const { return graph_; }
  const CompileOptions& options() const { return options_; }
  StorageType storage_type() const { return type_; }
  const View& view(ir::ValueId v) const { return views_[v]; }
  int storage_channels(ir::ValueId v) const { return storage_channels_[v]; }
  // The Concat output (and channel) a Resize output is written into, kNoValue where it is stored apart.
  const std::pair<ir::ValueId, int64_t>& alias(ir::ValueId v) const { return alias_[v]; }
  // Input k of `node`: its arena view, or a constant uploaded as float32 NCHW.
  View input_view(const ir::Node& node, size_t k);
  const float* upload_floats(const std::vector<float>& values, const char* what);
  const int* upload_ints(const std::vector<int64_t>& values, const char* what);
  void add(const ir::Node* node, std::string op, std::string kernel, std::function<void(cudaStream_t)> run,
           std::string note = "", Tactic tactic = {}, bool int8 = false);
  // Step `step` launches nothing: another step's kernel does its work, as `kernel` and `note` say.
  void run_inside(size_t step, std::string kernel, std::string note);
  size_t node_step(size_t node_index) const { return node_step_[node_index]; }
  void keep_resize_maps(ir::ValueId out, const ResizeMaps& maps) { resize_maps_[out] = maps; }
  const ResizeMaps& resize_maps(ir::ValueId out) const { return resize_maps_.at(out); }
  // A Conv's step: its tactic from the plan (`wanted`), else the timing cache, else timed now; `from` says which.
  std::unique_ptr<ConvStep> make_conv_step(const ir::Node& node, const ConvProblem& problem, const std::string& wanted,
                                           std::string* from);
  ConvStep* keep_conv(std::unique_ptr<ConvStep> conv);
  void* workspace() const { return workspace_.get(); }
  // cuda_pass_stem_staging.cpp: whether the Conv `node` (problem `p`) reads its network input's float32 staging
  // buffer, and the step that runs it where that choice built one (the caller builds it otherwise).
  struct StagingChoice {
    bool staging = false;
    std::unique_ptr<ConvStep> conv;
    std::string from, note;
  };
  StagingChoice choose_staging(const ir::Node& node, const ConvProblem& p, const Tactic& planned,
                               const std::string& algorithm);
  size_t node_index(const ir::Node& node) const { return static_cast<size_t>(&node - graph_.nodes().data()); }
  // The input index of a graph input (its conversion is step k), inputs().size() where `v` is none.
  size_t graph_input_index(ir::ValueId v) const;

 private:
  struct Staging {
    size_t bytes = 0;
    PinnedMemory host;
    DeviceMemory device;
  };
  static Staging staging_for(const Shape& shape, const char* what);

  // cuda_int8_selection.cpp
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

  // cuda_pass_resize_into_concat.cpp, cuda_pass_conv_chains.cpp
  void plan_resize_into_concat();
  void find_staging_stems();
  std::vector<ChainCandidate> find_chains() const;
  void fuse_chain(const ChainCandidate& chain);

  void build_node(const ir::Node& node);
  void capture();

  const ir::Graph& graph_;
  CompileOptions options_;
  StorageType type_ = StorageType::f32;
  Precision precision_ = Precision::fp32;
  bool int8_ = false;                              // int8 permitted (the engine is fp16 otherwise)
  std::vector<bool> int8_value_;                   // per value id: stored int8
  std::map<std::string, std::string> int8_notes_;  // per Conv node: why it runs fp16 under an int8 permission
  Stream stream_;
  CudnnHandle cudnn_;
  DeviceMemory arena_, workspace_;
  size_t arena_bytes_ = 0, workspace_bytes_ = 0;
  std::vector<DeviceMemory> owned_;                      // constants, resize maps, dedicated input buffers
  std::vector<View> views_;                              // per value id (data set for non-constants)
  std::vector<int> storage_channels_;                    // per value id (0: as the shape says)
  std::vector<std::pair<ir::ValueId, int64_t>> alias_;  // per value id: (Concat output, channel) it is written into
  std::vector<std::unique_ptr<ConvStep>> convs_;
  std::unique_ptr<TimingCache> timing_cache_;
  std::vector<Step> steps_;
  std::vector<LayerInfo> layers_;
  std::vector<size_t> node_step_;                  // per node: its step
  std::vector<bool> stem_reads_staging_;           // per node: a Conv that may read its input's staging buffer
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

}  // namespace crowdrt::cuda
