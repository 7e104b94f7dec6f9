// Our own CUDA kernels: every op cuDNN does not run, plus the conversions at the graph's edges. Each kernel
// reads and writes tensors through a View (logical N, C, H, W with element strides), so one kernel serves any
// layout, broadcasting (stride 0) and slices of a larger tensor (a concat's part). Arithmetic is in float;
// storage is float, half, bfloat16 or int8 (symmetric, one scale per tensor: real = q * scale; stores round to
// nearest and saturate to [-128, 127]), so every kernel also quantises, dequantises or requantises. The plain CPU
// reference kernels (backends/cpu/reference) are the spec. Per-element kernels are in cuda_kernels.cu, the
// 16-byte pixel fast paths in cuda_pixel_kernels.cu.
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

namespace crowdrt::cuda {

enum class StorageType : int { f32 = 0, f16 = 1, bf16 = 2, i8 = 3 };
size_t storage_bytes(StorageType type);

// A tensor of rank <= 4 seen as N x C x H x W (missing leading dimensions are 1).
struct View {
  void* data = nullptr;
  StorageType type = StorageType::f32;
  int dims[4] = {1, 1, 1, 1};
  int64_t strides[4] = {0, 0, 0, 0};  // in elements; 0 broadcasts
  float scale = 1.f;                  // i8 only: the real value of one step (amax / 127)
  int64_t count() const { return int64_t{dims[0]} * dims[1] * dims[2] * dims[3]; }
};

// The activations a step may apply after its sum (ONNX semantics; alpha/beta as in ir::Activation).
enum class ActivationKind : int { none = 0, relu, leaky_relu, clip, sigmoid, hard_sigmoid, hard_swish };
struct Activation {
  ActivationKind kind = ActivationKind::none;
  float alpha = 0.f;
  float beta = 0.f;
};

enum class BinaryOp : int { add = 0, sub, mul, div };

// out = act(in); with ActivationKind::none a copy (also between storage types and layouts).
void launch_activation(const View& in, const View& out, Activation act, cudaStream_t stream);
// out = act(out + bias[c] + residual): the epilogue of a convolution whose kernel did not fuse it.
// bias (float, one per channel) and residual may be null.
void launch_epilogue(const View& out, const float* bias, const View* residual, Activation act, cudaStream_t stream);
void launch_binary(BinaryOp op, const View& a, const View& b, const View& out, cudaStream_t stream);
// out = in * scale[c] + shift[c] (BatchNormalization left unfolded), scale/shift float on the device.
void launch_channel_affine(const View& in, const View& out, const float* scale, const float* shift,
                           cudaStream_t stream);

struct Window {
  int kernel[2] = {1, 1}, strides[2] = {1, 1}, dilations[2] = {1, 1}, pads[4] = {0, 0, 0, 0};  // pads t, l, b, r
};
void launch_max_pool(const View& in, const View& out, const Window& window, cudaStream_t stream);
void launch_average_pool(const View& in, const View& out, const Window& window, bool count_include_pad,
                         cudaStream_t stream);
// Mean over the dimensions flagged in reduce[4] (of the 4-D view); `out` has extent 1 there.
void launch_reduce_mean(const View& in, const View& out, const bool reduce[4], cudaStream_t stream);

// Resize over H and W: for each output row / column, the two source indices and the weight of the second,
// precomputed on the host from the ONNX attributes (device arrays). Nearest: lo == hi, weight 0.
struct ResizeMaps {
  const int* row_lo = nullptr;
  const int* row_hi = nullptr;
  const float* row_weight = nullptr;
  const int* col_lo = nullptr;
  const int* col_hi = nullptr;
  const float* col_weight = nullptr;
  bool linear = false;
};
void launch_resize(const View& in, const View& out, const ResizeMaps& maps, cudaStream_t stream);

// Pad (constant, reflect, edge) of a 4-D view; pads as ONNX gives them (begin 0..3, end 0..3), may be negative.
enum class PadMode : int { constant = 0, reflect, edge };
void launch_pad(const View& in, const View& out, const int64_t pads[8], PadMode mode, float value,
                cudaStream_t stream);

struct ConvShape {
  int kernel[2] = {1, 1}, strides[2] = {1, 1}, dilations[2] = {1, 1}, pads[4] = {0, 0, 0, 0};
  int group = 1;
};
// Direct convolution, the fallback for what cuDNN refuses (asymmetric pads, odd groups): weights float in
// OIHW, the epilogue fused. Slow but exact; also a candidate the tactic timing may compare.
void launch_direct_conv(const View& in, const float* weight, const float* bias, const View* residual,
                        const View& out, const ConvShape& shape, Activation act, cudaStream_t stream);
// ConvTranspose, weight float Cin x Cout/group x kh x kw, output_padding only in the output's size.
void launch_conv_transpose(const View& in, const float* weight, const float* bias, const View& out,
                           const ConvShape& shape, cudaStream_t stream);

// Fast paths for NHWC tensors whose channels fill 16-byte vectors (16 int8, 8 halves, 4 floats; int8 only
// between tensors of one scale), where the general
// kernels' per-element index arithmetic would dominate. Each returns false, launching nothing, where the views
// do not qualify (other layouts, types or alignment); the caller then uses the general kernel.
bool launch_copy_pixels(const View& in, const View& out, cudaStream_t stream);  // same dims, e.g. into a slice
bool launch_resize_nearest_pixels(const View& in, const View& out, const ResizeMaps& maps, cudaStream_t stream);
// fp16 or int8 NHWC, channels in groups of 8 (launch_max_pool's fast path).
bool launch_max_pool_pixels(const View& in, const View& out, const Window& window, cudaStream_t stream);
// A Concat over channels in one kernel: each input copied, or read through nearest-resize maps (device arrays,
// output row / column → input row / column: the upsampling that would write into the Concat's slice), into its
// channels of `out`, converting between fp16 and int8 scales (fp16 or int8 NHWC views, channels in groups of 8).
constexpr int kMaxConcatInputs = 4;
struct ConcatInput {
  View x;
  const int* rows = nullptr;
  const int* cols = nullptr;
};
bool concat_pixels_possible(const ConcatInput* inputs, int count, const View& out);
bool launch_concat_pixels(const ConcatInput* inputs, int count, const View& out, cudaStream_t stream);
// NCHW float32 (packed) into NHWC 16-bit or float storage with `storage_channels` >= C per pixel, the extra
// channels zero; one thread per pixel.
bool launch_nchw_to_nhwc(const View& in, const View& out, int storage_channels, cudaStream_t stream);

// Every element of `out` set to `value` (e.g. the zero channels that pad a network input to 8).
void launch_fill(const View& out, float value, cudaStream_t stream);

// The sum of n floats in double precision, in a fixed order (partials: kSumBlocks doubles of scratch): equal inputs
// give equal sums, whatever else runs on the device.
inline constexpr int kSumBlocks = 256;
void launch_sum(const float* x, int64_t n, double* partials, double* out, cudaStream_t stream);

}  // namespace crowdrt::cuda
