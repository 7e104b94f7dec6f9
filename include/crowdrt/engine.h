// Engine: a built plan loaded for inference. Load it once, then run tensors or count people in frames.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "crowdrt/export.h"
#include "crowdrt/frames.h"
#include "crowdrt/tensor.h"
#include "crowdrt/zones.h"

namespace crowdrt {
inline namespace v0 {

struct EngineOptions {
  int threads = 0;              // CPU threads; 0: all cores
  std::string flow = "medium";  // DIS preset count() uses on frames: ultrafast, fast or medium
  // Where count(frame) prepares frames: "cuda" (resize, gray, DIS flow and packing on the GPU, straight into the
  // engine's device input; CUDA plans only), "cpu" (OpenCV), or "" for the plan's device.
  std::string flow_device{};
};

// Calls on one Engine run one at a time (they share its memory and flow state); to run inferences in
// parallel, load one Engine per thread.
class CROWDRT_API Engine {
 public:
  // An engine without a plan: every use throws Error until load() succeeds.
  Engine();
  // Same as Engine() then load(plan_path, options).
  explicit Engine(const std::string& plan_path, const EngineOptions& options = {});
  ~Engine();
  Engine(Engine&&) noexcept;
  Engine& operator=(Engine&&) noexcept;

  // Loads a plan file made by Builder or `crowdrt build`. Error when the file is missing, damaged, of
  // another format version, or built for another device (the message says what differs). After a failed
  // load the engine holds no plan, and every use throws an Error that repeats why the load failed.
  void load(const std::string& plan_path, const EngineOptions& options = {});
  bool loaded() const;

  const std::vector<TensorSpec>& inputs() const;
  const std::vector<TensorSpec>& outputs() const;
  std::string device() const;     // the backend the plan was built for: "cpu", "cuda", "ref"
  std::string precision() const;  // the lowest precision the build allowed: "fp32", "fp16", "bf16", "int8"

  // One input through a one-input, one-output plan. Error when the shape differs from inputs()[0].shape.
  Tensor infer(const TensorView& input);
  // The same into caller memory (no allocation); the output's shape must be outputs()[0].shape.
  void infer(const TensorView& input, const MutableTensorView& output);
  // Every input and output, in the order of inputs() and outputs().
  void infer(const std::vector<TensorView>& inputs, const std::vector<MutableTensorView>& outputs);

  // People in a network input: the sum of the density map the plan makes, divided by 100 (the seed's
  // density maps put 100 at each head).
  double count(const TensorView& input);
  // People in the next frame of a sequence: the seed's preprocessing at the plan's input size and channels
  // (flow against the previous frame given here), inference, sum / 100.
  double count(const FrameView& frame);
  // The same for a frame, with each zone's count (Zone: frame pixels or normalized corners). Error naming the zone
  // for a malformed zone, or one in pixels outside the frame; the zones' masks are kept while zones and frame size
  // stay the same.
  ZoneCounts count(const FrameView& frame, const std::vector<Zone>& zones);
  // The next count(frame) starts a new sequence.
  void reset();

  // Device-resident inference (CUDA plans), for callers that prepare inputs on the GPU themselves: where to write
  // each input (float32 NCHW, device memory) and the CUDA stream (a cudaStream_t) the plan runs on; queue the work
  // that writes the inputs on that stream, then infer_on_device(). Error for plans that run on the CPU.
  struct DeviceBuffers {
    void* stream = nullptr;
    std::vector<float*> inputs;
    std::vector<const float*> outputs;  // float32 NCHW, valid after infer_on_device() returns
  };
  DeviceBuffers device_buffers();
  // Runs the plan on the device inputs and waits for it; returns the sum of output 0 (so count = sum / 100) computed
  // on the GPU. The outputs stay on the device (device_buffers().outputs).
  double infer_on_device();

 private:
  friend class Builder;
  struct Impl;
  Impl& impl() const;  // Error when no plan is loaded
  std::unique_ptr<Impl> impl_;
  std::string load_error_;  // why the last load failed, repeated by every later use
};

}  // namespace v0
}  // namespace crowdrt
