// Convolutions with few input channels and a large window, such as the first convolution of a ResNet encoder
// (the "stem": 7x7, stride 2, the 5-channel network input stored as 8 fp16 channels, 64 output channels): an
// implicit GEMM on the tensor cores (fp16 products, fp32 sums) whose block loads the input window of a whole
// output tile into shared memory once and walks the kernel's taps in it. UNet-resnet34's stem at 608x608 on the
// H100 (byte floor about 5 us, FLOP floor about 3 us): cuDNN's best engine 46 us, this kernel 23-24 us (8x16).
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>
#include <string>
#include <vector>

#include "backends/cuda/cuda_kernels.h"

namespace crowdrt::cuda {

struct StemConfig {
  int tile_rows = 8;         // output rows per block tile (8 or 16), each 16 output pixels wide
  bool progressive = false;  // the first tile starts on the first taps' weights while the rest arrive
  int blocks = 0;            // blocks of the persistent grid; set by prepare_stem_conv
  std::string name() const;  // the tactic's suffix: "8x16", "8x16p", "16x16", "16x16p"
};
// The configurations the tactic timing tries, and the one a tactic suffix names (false for anything else).
std::vector<StemConfig> stem_configs();
bool parse_stem_config(const std::string& name, StemConfig* config);

// Whether the kernel can run this convolution in `config`: x fp16 NHWC (channel stride 1) whose `channels` (8 or
// 16, the ones entering the sum; x may store more per pixel) and pixel, row and image strides fill 16-byte
// vectors, x 16-byte aligned, or x float32 packed NCHW with at most 8 channels and `channels` 8 (a network input
// read from its staging buffer, converted as the window is loaded); y fp16 or int8 (its scale) with channel stride 1
// and any other strides, output channels a multiple of 16; kernel up to 7x7, stride 1 or 2, no dilation, any pads;
// group 1; no residual; activation none or ReLU; the block's shared memory within the device's limit.
bool stem_conv_possible(const View& x, int channels, const View& y, bool has_residual, const ConvShape& shape,
                        Activation act, const StemConfig& config);
// The weights in the order the kernel reads them (to be stored as fp16): per group of 64 output channels, per K
// chunk (a tap's 8 channels: tap-major, channel half within; padded to an even count), 64 output channels x 8
// input channels.
// weight: float32 O x I x kh x kw, I <= channels (the channels beyond I are zero).
std::vector<float> stem_conv_weights(const float* weight, int out_c, int in_c, int kh, int kw, int channels);
// Allows the kernel the shared memory it needs and sizes its persistent grid (config->blocks) for this device;
// call before launching (not while a stream is captured).
void prepare_stem_conv(const View& x, int channels, const View& y, const ConvShape& shape, StemConfig* config);
// weight: stem_conv_weights on the device; bias float32 per output channel or null. y int8 stores
// saturate(round(v / y.scale)).
void launch_stem_conv(const View& x, int channels, const void* weight, const float* bias, const View& y,
                      const ConvShape& shape, Activation act, const StemConfig& config, cudaStream_t stream);

}  // namespace crowdrt::cuda
