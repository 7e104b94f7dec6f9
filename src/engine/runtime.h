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

 private:
  Plan plan_;
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<CompiledGraph> compiled_;
  std::vector<TensorInfo> inputs_, outputs_;
};

}  // namespace crowdrt
