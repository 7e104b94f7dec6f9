// Convolutions with few output channels (at most 8), such as the density head (16 → 1 channel, 3x3, at the full
// input resolution): one thread per output pixel computes every output channel from 16-byte vector loads of its
// NHWC window, the weights in shared memory. GEMM kernels spend a tile of 64 or more output channels on such a
// layer and run it at a small fraction of its memory bandwidth (cuDNN: 0.136 ms fp32 / 0.027 ms fp16 for the
// head of UNet-resnet34 at 608x608 on the H100, ~17x its byte floor).
#pragma once
#include <cuda_runtime_api.h>

#include "backends/cuda/cuda_kernels.h"

namespace crowdrt::cuda {

constexpr int kNarrowMaxOutputs = 8;

// x: float32, float16 or bfloat16 NHWC (channel stride 1) whose `channels` (the ones entering the sum) and pixel,
// row and image strides fill 16-byte vectors, 16-byte aligned; y: at most 8 channels, any strides, a float type;
// group 1; no residual; activation none or ReLU; the weights fit in 32 KB of shared memory.
bool narrow_conv_possible(const View& x, int channels, const View& y, bool has_residual, const ConvShape& shape,
                          Activation act);
// weight: float32 [out channels][kh][kw][channels] on the device; bias float32 or null.
void launch_narrow_conv(const View& x, int channels, const float* weight, const float* bias, const View& y,
                        const ConvShape& shape, Activation act, cudaStream_t stream);

}  // namespace crowdrt::cuda
