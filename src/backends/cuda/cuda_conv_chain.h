// A chain of up to three 3x3 convolutions (stride 1, pads 1, group 1, bias, ReLU or none), optionally reading
// its input through a nearest 2x upsampling, in one kernel whose intermediate tensors never leave shared memory.
// This is the full-resolution tail of the smp U-Nets (Resize x2 → conv 32→16 + ReLU → conv 16→16 + ReLU →
// density head 16→1): at 608x608 cuDNN runs those layers at 8-20x their byte floor (few channels, many pixels)
// and each one reads and writes its whole tensor. Here a block computes a 16x32 tile of the last convolution's
// output: it loads the input window (with a halo of one pixel per stage) once, and each stage is an implicit GEMM
// on tensor cores (mma.sync m16n8k16, fp16 operands, fp32 accumulation) from shared memory into shared memory,
// recomputing the halo of the intermediate tensors instead of storing them.
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>
#include <vector>

#include "backends/cuda/cuda_kernels.h"

namespace crowdrt::cuda {

constexpr int kChainMaxStages = 3;

struct ChainStage {
  int in_channels = 0, out_channels = 0;
  bool relu = false;
};

// The shapes of a chain; the channel counts it runs are a fixed list of compiled variants.
struct ChainShape {
  int upsample = 1;  // 1, or 2: the first convolution reads x at (h / 2, w / 2) (nearest, floor)
  int stages = 0;
  ChainStage stage[kChainMaxStages];
};

// Whether a compiled variant runs this chain: x fp16 or int8 NHWC (channel stride 1, pixel stride = its channels,
// 16-byte aligned) with stage[0].in_channels channels; y any type with the last stage's channels and x's size
// times `upsample`.
bool conv_chain_possible(const ChainShape& shape, const View& x, const View& y);

// int8: x is int8 (its steps enter the first stage exactly); the first stage then multiplies them by int8 weights
// (quantised per output channel, max|w| / 127) on int8 tensor cores, as an int8 convolution does, and the other
// stages run fp16. The bytes the kernel copies into shared memory as they are: per stage, rows of out_channels
// (rounded up to 8 for the last) x (9 · in_channels + padding) weights, int8 or fp16, k = (kh · 3 + kw) ·
// in_channels + c. weights[s]: float32 OIHW (out x in x 3 x 3) on the host.
std::vector<uint8_t> conv_chain_weights(const ChainShape& shape, const float* const weights[kChainMaxStages],
                                        bool int8);
// Floats: the first stage's per-output-channel weight scales (1 unless int8), then every stage's biases (zeros
// where a stage has none; the last stage's rounded up to 8 channels).
std::vector<float> conv_chain_constants(const ChainShape& shape, const float* const weights[kChainMaxStages],
                                        const float* const biases[kChainMaxStages], bool int8);

// A compiled variant made ready on the current device by prepare_conv_chain: which one runs the chain and its
// persistent grid (the blocks that fit on the device at once). Owned by whoever launches it.
struct ConvChainKernel {
  ChainShape shape;
  int variant = -1;  // -1: no compiled variant runs this chain (launch_conv_chain then launches nothing)
  int resident_blocks = 1;
};

// Allows the kernel its shared memory (over 48 KB) on the current device and sizes its persistent grid: once
// before it is launched, outside a stream capture.
ConvChainKernel prepare_conv_chain(const ChainShape& shape, bool int8);
// weights, constants: the device copies of conv_chain_weights / conv_chain_constants for x's type (the `int8`
// that prepared `kernel`).
void launch_conv_chain(const ConvChainKernel& kernel, const View& x, const void* weights, const float* constants,
                       const View& y, cudaStream_t stream);

}  // namespace crowdrt::cuda
