// The narrow convolution of cuda_conv_narrow.h: thread = output pixel, all (<= 8) output channels in registers.
// Neighbouring threads read overlapping windows, so after the first reader the window comes from L1/L2: the
// kernel moves about the input's size from memory.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>

#include "backends/cuda/cuda_conv_geometry.h"
#include "backends/cuda/cuda_conv_narrow.h"

namespace crowdrt::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kMaxWeights = 8192;  // floats of shared memory for the weights (32 KB)

struct NarrowProblem : ConvGeometry {
  const void* x;
  const float* w;  // [out_c][kh][kw][channels]
  const float* bias;
  View y;
  bool relu;
};

// 16 bytes of x as floats: 4 float32 or 8 float16 / bfloat16 values.
template <typename T>
struct Vector;
template <>
struct Vector<float> {
  static constexpr int kWidth = 4;
  __device__ static void load(const void* p, float (&v)[8]) {
    const float4 q = *static_cast<const float4*>(p);
    v[0] = q.x, v[1] = q.y, v[2] = q.z, v[3] = q.w;
  }
};
template <>
struct Vector<__half> {
  static constexpr int kWidth = 8;
  __device__ static void load(const void* p, float (&v)[8]) {
    const uint4 q = *static_cast<const uint4*>(p);
    const __half2* h = reinterpret_cast<const __half2*>(&q);
    for (int i = 0; i < 4; ++i) {
      const float2 f = __half22float2(h[i]);
      v[2 * i] = f.x, v[2 * i + 1] = f.y;
    }
  }
};
template <>
struct Vector<__nv_bfloat16> {
  static constexpr int kWidth = 8;
  __device__ static void load(const void* p, float (&v)[8]) {
    const uint4 q = *static_cast<const uint4*>(p);
    const __nv_bfloat162* h = reinterpret_cast<const __nv_bfloat162*>(&q);
    for (int i = 0; i < 4; ++i) {
      const float2 f = __bfloat1622float2(h[i]);
      v[2 * i] = f.x, v[2 * i + 1] = f.y;
    }
  }
};

__device__ __forceinline__ void store_output(const View& y, int64_t at, float v) {
  switch (y.type) {
    case StorageType::f16: static_cast<__half*>(y.data)[at] = __float2half_rn(v); break;
    case StorageType::bf16: static_cast<__nv_bfloat16*>(y.data)[at] = __float2bfloat16_rn(v); break;
    default: static_cast<float*>(y.data)[at] = v;
  }
}

template <typename T, int OUTS>
__global__ void __launch_bounds__(kThreads) narrow_conv_kernel(NarrowProblem p) {
  __shared__ float w[kMaxWeights];
  const int k = p.kh * p.kw * p.channels;
  for (int i = threadIdx.x; i < OUTS * k; i += kThreads) w[i] = i / k < p.out_c ? p.w[i] : 0.f;
  __syncthreads();
  const int64_t m = int64_t{blockIdx.x} * kThreads + threadIdx.x;
  if (m >= p.m) return;
  const int plane = p.out_h * p.out_w;
  const int img = static_cast<int>(m / plane);
  const int rest = static_cast<int>(m - int64_t{img} * plane);
  const int oh = rest / p.out_w, ow = rest % p.out_w;
  float acc[OUTS];
#pragma unroll
  for (int o = 0; o < OUTS; ++o) acc[o] = p.bias && o < p.out_c ? p.bias[o] : 0.f;
  constexpr int kWidth = Vector<T>::kWidth;
  const T* x = static_cast<const T*>(p.x) + img * p.xs_n;
  for (int r = 0; r < p.kh; ++r) {
    const int ih = oh * p.stride_h - p.pad_t + r * p.dil_h;
    if (ih < 0 || ih >= p.in_h) continue;
    for (int s = 0; s < p.kw; ++s) {
      const int iw = ow * p.stride_w - p.pad_l + s * p.dil_w;
      if (iw < 0 || iw >= p.in_w) continue;
      const T* pixel = x + ih * p.xs_h + iw * p.xs_w;
      const float* wk = w + (r * p.kw + s) * p.channels;
      for (int c = 0; c < p.channels; c += kWidth) {
        float v[8];
        Vector<T>::load(pixel + c, v);
#pragma unroll
        for (int j = 0; j < kWidth; ++j)
#pragma unroll
          for (int o = 0; o < OUTS; ++o) acc[o] = fmaf(v[j], wk[o * k + c + j], acc[o]);
      }
    }
  }
  const int64_t base = img * p.y.strides[0] + oh * p.y.strides[2] + ow * p.y.strides[3];
#pragma unroll
  for (int o = 0; o < OUTS; ++o)
    if (o < p.out_c) store_output(p.y, base + o * p.y.strides[1], p.relu ? fmaxf(acc[o], 0.f) : acc[o]);
}

int vector_width(StorageType t) { return t == StorageType::f32 ? 4 : 8; }

template <typename T>
void launch_typed(const NarrowProblem& p, cudaStream_t stream) {
  const unsigned blocks = static_cast<unsigned>((p.m + kThreads - 1) / kThreads);
  if (p.out_c == 1)
    narrow_conv_kernel<T, 1><<<blocks, kThreads, 0, stream>>>(p);
  else if (p.out_c <= 4)
    narrow_conv_kernel<T, 4><<<blocks, kThreads, 0, stream>>>(p);
  else
    narrow_conv_kernel<T, 8><<<blocks, kThreads, 0, stream>>>(p);
}

}  // namespace

bool narrow_conv_possible(const View& x, int channels, const View& y, bool has_residual, const ConvShape& shape,
                          Activation act) {
  const bool float_type = x.type == StorageType::f32 || x.type == StorageType::f16 || x.type == StorageType::bf16;
  const bool out_type = y.type == StorageType::f32 || y.type == StorageType::f16 || y.type == StorageType::bf16;
  if (!float_type || !out_type || has_residual || shape.group != 1 || y.dims[1] > kNarrowMaxOutputs) return false;
  const int width = vector_width(x.type);
  const int outs = y.dims[1] == 1 ? 1 : y.dims[1] <= 4 ? 4 : 8;
  return x.strides[1] == 1 && channels > 0 && channels % width == 0 && x.strides[3] % width == 0 &&
         x.strides[2] % width == 0 && x.strides[0] % width == 0 &&
         (reinterpret_cast<uintptr_t>(x.data) & 15) == 0 &&
         int64_t{outs} * shape.kernel[0] * shape.kernel[1] * channels <= kMaxWeights &&
         (act.kind == ActivationKind::none || act.kind == ActivationKind::relu);
}

void launch_narrow_conv(const View& x, int channels, const float* weight, const float* bias, const View& y,
                        const ConvShape& shape, Activation act, cudaStream_t stream) {
  NarrowProblem p{};
  p.x = x.data;
  static_cast<ConvGeometry&>(p) = conv_geometry(x, channels, y, shape);
  p.w = weight;
  p.bias = bias;
  p.y = y;
  p.relu = act.kind == ActivationKind::relu;
  if (p.m == 0) return;
  switch (x.type) {
    case StorageType::f16: launch_typed<__half>(p, stream); break;
    case StorageType::bf16: launch_typed<__nv_bfloat16>(p, stream); break;
    default: launch_typed<float>(p, stream);
  }
}

}  // namespace crowdrt::cuda
