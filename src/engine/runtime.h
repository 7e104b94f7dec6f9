// Loading a plan and running it: one compile at load, one arena, no allocation per inference.
#pragma once
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "engine/plan.h"

namespace crowdrt {

struct TensorInfo {
  std::string name;
  Shape shape;
};

struct RuntimeOptions {
  int threads = 0;  // 0: all cores
};

class Engine {
 public:
  // Error when the file is not a plan, is corrupted, has another format version, or was built for
  // another device (the message says what differs).
  static Engine load(const std::string& plan_path, const RuntimeOptions& options = {});
  Engine(Plan plan, const RuntimeOptions& options, const std::string& what = "plan");

  const std::vector<TensorInfo>& inputs() const { return inputs_; }
  const std::vector<TensorInfo>& outputs() const { return outputs_; }
  const Plan& plan() const { return plan_; }
  const std::vector<LayerInfo>& layers() const { return compiled_->layers(); }
  size_t arena_bytes() const { return compiled_->arena_bytes(); }
  // GPU plans: where the last inference's time went (copies apart from compute); false on the CPU.
  bool last_device_times(DeviceTimes* times) const { return compiled_->last_device_times(times); }

  // Caller-owned NCHW float32 buffers, one per input / output in order; no allocation.
  void infer(std::span<const float* const> inputs, std::span<float* const> outputs,
             std::vector<double>* layer_ms = nullptr);
  // One input, one output; Error when the tensor's shape differs from the plan's input.
  Tensor infer(const Tensor& input);

  // Device-resident inference (CUDA plans; false / Error elsewhere): see CompiledGraph::device_io.
  bool device_io(CompiledGraph::DeviceIo* io) { return compiled_->device_io(io); }
  void run_on_device(bool sum_output) { compiled_->run_on_device(sum_output); }
  double wait_output_sum() { return compiled_->wait_output_sum(); }
  void wait_output(size_t index, float* host) { compiled_->wait_output(index, host); }

 private:
  Plan plan_;
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<CompiledGraph> compiled_;
  std::vector<TensorInfo> inputs_, outputs_;
};

}  // namespace crowdrt
