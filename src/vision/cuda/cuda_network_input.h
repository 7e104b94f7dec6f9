// The seed's eval input recipe on the GPU: an 8-bit BGR frame of any size is uploaded once (pinned memory, async),
// resized to the network size (cv::resize INTER_LINEAR's fixed-point arithmetic), turned into the seed's RGB and
// gray (COLOR_BGR2GRAY applied to the RGB image), given DIS flow (CudaDisFlow), and packed as float32 NCHW
// (R/255, G/255, B/255, Fx, Fy) straight into a device buffer, e.g. the engine's input. The calibration variant
// (flow at source resolution) stays on the CPU (vision::NetworkInput).
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>

#include "vision/flow_preset.h"

struct CUstream_st;

namespace crowdrt::vision {

class CudaNetworkInput {
 public:
  // A width x height network input of 3 (RGB) or 5 (RGB + flow) channels, computed on `stream` (null: a stream of
  // its own). Error for other
  // channel counts, 5 channels with flow `none`, or a size too small for the flow preset.
  CudaNetworkInput(int width, int height, int channels, FlowPreset flow, CUstream_st* stream);
  ~CudaNetworkInput();
  CudaNetworkInput(const CudaNetworkInput&) = delete;
  CudaNetworkInput& operator=(const CudaNetworkInput&) = delete;

  // The next frame starts a sequence (its flow is against itself).
  void start_sequence();
  // Queues the network input of this frame (host memory: 8-bit BGR, rows `row_bytes` apart) into `destination`
  // (device, channels x height x width float32). The frame is copied into pinned memory before this returns, so
  // the caller may reuse it at once; the copy to the device overlaps the previous frame's work. Error for an empty
  // frame or rows shorter than width x 3.
  void next(const uint8_t* bgr, int width, int height, size_t row_bytes, float* destination);

  // The same, into host memory (channels x height x width float32), waiting for the GPU: for `crowdrt preprocess`.
  void next_to_host(const uint8_t* bgr, int width, int height, size_t row_bytes, float* host);

  int width() const;
  int height() const;
  int channels() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace crowdrt::vision
