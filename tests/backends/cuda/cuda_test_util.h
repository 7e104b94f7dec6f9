// What the GPU kernel tests share: views over their device buffers, running a convolution with one tactic.
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>

#include "backends/cuda/cuda_conv.h"
#include "backends/cuda/cuda_kernels.h"
#include "backends/cuda/cuda_resources.h"

namespace crowdrt::cuda {

// N x C x H x W stored NHWC with `pixel_stride` elements per pixel (>= c: a slice of a wider tensor, or padding).
inline View nhwc(void* data, StorageType type, int n, int c, int h, int w, int pixel_stride) {
  View v;
  v.data = data;
  v.type = type;
  v.dims[0] = n, v.dims[1] = c, v.dims[2] = h, v.dims[3] = w;
  v.strides[0] = int64_t{h} * w * pixel_stride, v.strides[1] = 1, v.strides[2] = int64_t{w} * pixel_stride,
  v.strides[3] = pixel_stride;
  return v;
}

// Runs `p` once with `tactic` (which the step must keep) and waits for it; errors name `what`.
inline void run_conv_tactic(const ConvProblem& p, cudnnHandle_t cudnn, cudaStream_t stream, const std::string& tactic,
                            const char* what) {
  ConvStep step(p, cudnn, stream, tactic);
  EXPECT_EQ(step.tactic(), tactic);
  DeviceMemory workspace = device_alloc(std::max<size_t>(step.workspace_bytes(), 16), "workspace");
  step.run(stream, workspace.get());
  check(cudaStreamSynchronize(stream), what);
  check(cudaGetLastError(), what);
}

}  // namespace crowdrt::cuda
