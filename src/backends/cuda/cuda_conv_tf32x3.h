// fp32 convolution on tensor cores at fp32 accuracy ("3xTF32"): each operand is split into a TF32 part and the
// TF32 rounding of its remainder, and three TF32 products (small·big, big·small, big·big) are accumulated in
// fp32; the dropped small·small term is below fp32's own rounding (about 2^-22 of each product). An implicit GEMM
// over NHWC: M = output pixels, N = output channels, K = kh·kw·input channels, with the epilogue (bias, residual,
// ReLU) fused, or, split over K, partial sums in a workspace and a second kernel that adds them and applies it.
// cuDNN's fp32 kernels without TF32 run on the FMA units at 10–23 TFLOPS on the H100 for these models' layers;
// this is the candidate that lets an fp32 plan use the tensor cores without giving up fp32 results.
#pragma once
#include <cuda_runtime_api.h>

#include <cstddef>
#include <string>

#include "backends/cuda/cuda_kernels.h"

namespace crowdrt::cuda {

struct Tf32x3Config {
  int tile_m = 128;  // output pixels per block: 128 (8 warps) or 64 (4 warps); 64 output channels per block
  int splits = 1;    // slices of K summed through the workspace (1: no workspace)
  std::string name() const;  // "128x64" or "64x64s4": the tactic's suffix
};
// The configuration a tactic suffix names; false for anything else.
bool parse_tf32x3_config(const std::string& name, Tf32x3Config* config);

// Whether the kernel can run this convolution: float32 x, y (and residual) with channel stride 1; x's pixel,
// row and image strides and `channels` multiples of 4 and x 16-byte aligned; group 1; activation none or ReLU.
// `channels` input channels of each pixel enter the sum (x may store more, e.g. a slice of a concat).
bool tf32x3_possible(const View& x, int channels, const View& y, const View* residual, const ConvShape& shape,
                     Activation act);
size_t tf32x3_workspace_bytes(const View& y, const Tf32x3Config& config);
// weight: float32 [out channels][kh][kw][channels] on the device; bias float32 per output channel or null.
void launch_tf32x3_conv(const View& x, int channels, const float* weight, const float* bias, const View* residual,
                        const View& y, const ConvShape& shape, Activation act, const Tf32x3Config& config,
                        void* workspace, cudaStream_t stream);

}  // namespace crowdrt::cuda
