// DIS optical flow on an NVIDIA GPU: the flow OpenCV 4.6's DISOpticalFlow computes (Kroeger et al., ECCV 2016) with the
// seed's settings (spatial propagation off, warm start from the previous flow warped by itself), for a sequence of
// 8-bit gray frames already on the device. No OpenCV here: the engine core's GPU bundle stays small.
//
// Where the arithmetic departs from OpenCV's (docs/gpu-flow.md lists each with its measured effect):
// - the 2x2 float area average of the warm start's first level sums (a + b) + (c + d) in every column (OpenCV's SSE
//   loop does; its scalar tail, the last width % 4 columns, sums ((a + b) + c) + d);
// everything else (pyramid, Sobel gradients, the structure tensor's sliding sums, the patch search's four SSE lanes and
// their reduction, densification, the variational refinement's red-black SOR, the bilinear remaps with 1/32-pixel
// coordinates and the resizes) is evaluated in OpenCV's order of operations, without fused multiply-adds.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>

#include "vision/flow_preset.h"

struct CUstream_st;

namespace crowdrt::vision {

class CudaDisFlow {
 public:
  // Buffers for width x height frames on the current device. Error when the preset is `none`, when the frame is too
  // small for the preset's pyramid (the message gives the smallest size), or when the GPU has no memory for it.
  CudaDisFlow(FlowPreset preset, int width, int height, CUstream_st* stream = nullptr);
  ~CudaDisFlow();
  CudaDisFlow(const CudaDisFlow&) = delete;
  CudaDisFlow& operator=(const CudaDisFlow&) = delete;

  // The next frame is the first of a sequence: compared with itself, from zero flow.
  void start_sequence();
  // Enqueues the flow from the previous frame to `gray` (device memory, width x height bytes, rows `pitch` bytes
  // apart) on the stream; the first frame of a sequence gets the flow of the frame against itself. The gray frame
  // may be overwritten once the call returns... only after the stream has passed this point.
  void next(const uint8_t* gray, size_t pitch);
  // The last flow: device memory, width x height interleaved (x, y) float32 pairs, row-major without padding.
  const float* flow() const;
  // Copies the last flow to host memory (width * height * 2 floats), waiting for the stream.
  void download(float* host) const;

  int width() const;
  int height() const;
  CUstream_st* stream() const;
  // Whether the per-frame work is replayed as a CUDA graph (on by default; CROWDRT_DIS_GRAPHS=0 turns it off).
  bool uses_graphs() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Error saying why (and to use --flow-device cpu) when no CUDA device is usable here.
void require_cuda_device();

// The smallest width and height (the same for both) a preset's pyramid accepts.
int dis_minimum_size(FlowPreset preset);

}  // namespace crowdrt::vision
