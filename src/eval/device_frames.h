// The whole frame on the GPU for a CUDA plan: the decoded 8-bit frame is uploaded once, and resize, the seed's
// gray, DIS flow and packing (vision::CudaNetworkInput) write straight into the engine's device input; the plan
// runs on the same stream and the density map's sum is reduced on the GPU, so one number comes back per frame
// (the density map only when asked for). The seed's eval recipe; the calibration recipe stays on the CPU.
#pragma once
#include <memory>
#include <string>
#include <opencv2/core.hpp>

#include "core/tensor.h"
#include "engine/runtime.h"
#include "vision/flow_preset.h"

namespace crowdrt::eval {

// Whether this build has the GPU frame path (CUDA compiled in) and the plan runs on the GPU.
bool device_frames_available(Engine& engine);
// Where frames are prepared for this engine: flow_device "cpu" (OpenCV), "cuda" (the GPU frame path; Error naming
// the plan's device when it cannot), or "" (the plan's device: CUDA plans on the GPU). True for the GPU.
bool use_device_frames(Engine& engine, const std::string& flow_device);

class DeviceFramePath {
 public:
  // Error unless the plan runs on the GPU with one 1 x C x H x W input (C 3 or 5) and this build has CUDA.
  DeviceFramePath(Engine& engine, vision::FlowPreset flow);
  ~DeviceFramePath();
  DeviceFramePath(DeviceFramePath&&) noexcept;

  // The next frame starts a sequence (its flow is against itself).
  void start_sequence();
  // Queues one 8-bit BGR frame of any size: upload, preprocessing, inference and the density's sum. Returns once
  // the frame is copied into pinned memory; the GPU work runs on. Error for other image types.
  void submit(const cv::Mat& bgr);
  // Waits for the last submitted frame and returns its count (sum of the density / 100).
  double wait_count();
  // After wait_count(): the density map of that frame, copied from the device into `density` (1 x 1 x H x W).
  void density(Tensor* density);
  // The network input of the last submitted frame (C x H x W float32), copied from the device: for tests and
  // `crowdrt preprocess`.
  Tensor network_input();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// One stream's frames prepared on the GPU apart from any engine: its own CUDA stream, flow state and device copy of
// the network input, so that many streams share a few engines (the counting sequences of `crowdrt serve`). The
// same kernels as DeviceFramePath, so a stream's counts are the ones DeviceFramePath gives for it alone.
class DeviceStreamInput {
 public:
  // input_shape: the plan's 1 x C x H x W input (C 3 or 5). Error for other shapes or in a build without CUDA.
  DeviceStreamInput(const Shape& input_shape, vision::FlowPreset flow);
  ~DeviceStreamInput();
  DeviceStreamInput(DeviceStreamInput&&) noexcept;

  // The next frame starts a sequence (its flow is against itself).
  void start_sequence();
  // Queues the network input of one 8-bit BGR frame of any size on this stream's CUDA stream; returns once the frame
  // is copied into pinned memory. Error for other image types.
  void submit(const cv::Mat& bgr);
  // Runs `engine` (a CUDA plan with this input shape) on the last submitted frame: the engine's stream waits for the
  // frame, copies it into the engine's input and runs the plan. Returns the count (sum of the density / 100) and,
  // when `density` is given, copies the density map there (1 x 1 x H x W). One engine may serve many streams, one
  // frame at a time.
  double count_on(Engine& engine, Tensor* density);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace crowdrt::eval
