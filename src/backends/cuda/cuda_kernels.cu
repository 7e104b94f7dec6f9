// The kernels declared in cuda_kernels.h. One thread per output element, the channel index fastest, so that
// reads and writes are coalesced in NHWC (the layout the backend uses) and correct in any other.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <algorithm>
#include <cstdint>

#include "backends/cuda/cuda_kernels.h"
#include "backends/cuda/cuda_device.cuh"

namespace crowdrt::cuda {
namespace {

constexpr int kThreads = 256;

__device__ __forceinline__ float load(const View& v, int64_t at) {
  switch (v.type) {
    case StorageType::f16: return __half2float(static_cast<const __half*>(v.data)[at]);
    case StorageType::bf16: return __bfloat162float(static_cast<const __nv_bfloat16*>(v.data)[at]);
    case StorageType::i8: return static_cast<float>(static_cast<const int8_t*>(v.data)[at]) * v.scale;
    default: return static_cast<const float*>(v.data)[at];
  }
}

using device::store;

__device__ __forceinline__ int64_t offset(const View& v, int n, int c, int h, int w) {
  return n * v.strides[0] + c * v.strides[1] + h * v.strides[2] + w * v.strides[3];
}

// The logical (n, c, h, w) of flat index i over `dims`, channel fastest.
struct Index {
  int n, c, h, w;
};
__device__ __forceinline__ Index unflatten(int64_t i, const int dims[4]) {
  Index x;
  x.c = static_cast<int>(i % dims[1]);
  i /= dims[1];
  x.w = static_cast<int>(i % dims[3]);
  i /= dims[3];
  x.h = static_cast<int>(i % dims[2]);
  x.n = static_cast<int>(i / dims[2]);
  return x;
}

__device__ __forceinline__ float activate(const Activation& a, float x) {
  switch (a.kind) {
    case ActivationKind::relu: return fmaxf(x, 0.f);
    case ActivationKind::leaky_relu: return x >= 0.f ? x : a.alpha * x;
    case ActivationKind::clip: return fminf(fmaxf(x, a.alpha), a.beta);
    case ActivationKind::sigmoid: return 1.f / (1.f + expf(-x));
    case ActivationKind::hard_sigmoid: return fminf(fmaxf(a.alpha * x + a.beta, 0.f), 1.f);
    case ActivationKind::hard_swish: return x * fminf(fmaxf(x / 6.f + 0.5f, 0.f), 1.f);
    default: return x;
  }
}

unsigned blocks_for(int64_t count) { return static_cast<unsigned>((count + kThreads - 1) / kThreads); }

__global__ void activation_kernel(View in, View out, Activation act, int64_t count) {
  const int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x;
  if (i >= count) return;
  const Index x = unflatten(i, out.dims);
  store(out, offset(out, x.n, x.c, x.h, x.w), activate(act, load(in, offset(in, x.n, x.c, x.h, x.w))));
}

__global__ void epilogue_kernel(View out, const float* bias, View residual, bool has_residual, Activation act,
                                int64_t count) {
  const int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x;
  if (i >= count) return;
  const Index x = unflatten(i, out.dims);
  const int64_t at = offset(out, x.n, x.c, x.h, x.w);
  float sum = load(out, at);
  if (bias) sum += bias[x.c];
  if (has_residual) sum += load(residual, offset(residual, x.n, x.c, x.h, x.w));
  store(out, at, activate(act, sum));
}

__global__ void binary_kernel(BinaryOp op, View a, View b, View out, int64_t count) {
  const int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x;
  if (i >= count) return;
  const Index x = unflatten(i, out.dims);
  const float u = load(a, offset(a, x.n, x.c, x.h, x.w)), v = load(b, offset(b, x.n, x.c, x.h, x.w));
  float r;
  switch (op) {
    case BinaryOp::add: r = u + v; break;
    case BinaryOp::sub: r = u - v; break;
    case BinaryOp::mul: r = u * v; break;
    default: r = u / v;
  }
  store(out, offset(out, x.n, x.c, x.h, x.w), r);
}

__global__ void channel_affine_kernel(View in, View out, const float* scale, const float* shift, int64_t count) {
  const int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x;
  if (i >= count) return;
  const Index x = unflatten(i, out.dims);
  store(out, offset(out, x.n, x.c, x.h, x.w), load(in, offset(in, x.n, x.c, x.h, x.w)) * scale[x.c] + shift[x.c]);
}

__global__ void max_pool_kernel(View in, View out, Window w, int64_t count) {
  const int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x;
  if (i >= count) return;
  const Index x = unflatten(i, out.dims);
  float best = -INFINITY;
  for (int ky = 0; ky < w.kernel[0]; ++ky) {
    const int iy = x.h * w.strides[0] - w.pads[0] + ky * w.dilations[0];
    if (iy < 0 || iy >= in.dims[2]) continue;
    for (int kx = 0; kx < w.kernel[1]; ++kx) {
      const int ix = x.w * w.strides[1] - w.pads[1] + kx * w.dilations[1];
      if (ix < 0 || ix >= in.dims[3]) continue;
      best = fmaxf(best, load(in, offset(in, x.n, x.c, iy, ix)));
    }
  }
  store(out, offset(out, x.n, x.c, x.h, x.w), best);
}

__global__ void average_pool_kernel(View in, View out, Window w, bool count_include_pad, int64_t count) {
  const int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x;
  if (i >= count) return;
  const Index x = unflatten(i, out.dims);
  // As the reference: the window clipped to the padded input, then to the input.
  int y0 = x.h * w.strides[0] - w.pads[0], x0 = x.w * w.strides[1] - w.pads[1];
  int y1 = min(y0 + w.kernel[0], in.dims[2] + w.pads[2]), x1 = min(x0 + w.kernel[1], in.dims[3] + w.pads[3]);
  const int padded_count = (y1 - y0) * (x1 - x0);
  y0 = max(y0, 0);
  x0 = max(x0, 0);
  y1 = min(y1, in.dims[2]);
  x1 = min(x1, in.dims[3]);
  float sum = 0.f;
  for (int iy = y0; iy < y1; ++iy)
    for (int ix = x0; ix < x1; ++ix) sum += load(in, offset(in, x.n, x.c, iy, ix));
  const int n = count_include_pad ? padded_count : (y1 - y0) * (x1 - x0);
  store(out, offset(out, x.n, x.c, x.h, x.w), n > 0 ? sum / static_cast<float>(n) : 0.f);
}

__global__ void reduce_mean_kernel(View in, View out, bool r0, bool r1, bool r2, bool r3, int64_t count) {
  const int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x;
  if (i >= count) return;
  const Index x = unflatten(i, out.dims);
  const int e0 = r0 ? in.dims[0] : 1, e1 = r1 ? in.dims[1] : 1, e2 = r2 ? in.dims[2] : 1, e3 = r3 ? in.dims[3] : 1;
  double sum = 0.0;
  for (int a = 0; a < e0; ++a)
    for (int h = 0; h < e2; ++h)
      for (int w = 0; w < e3; ++w)
        for (int c = 0; c < e1; ++c)
          sum += load(in, offset(in, r0 ? a : x.n, r1 ? c : x.c, r2 ? h : x.h, r3 ? w : x.w));
  store(out, offset(out, x.n, x.c, x.h, x.w), static_cast<float>(sum / (double(e0) * e1 * e2 * e3)));
}

__global__ void resize_kernel(View in, View out, ResizeMaps m, int64_t count) {
  const int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x;
  if (i >= count) return;
  const Index x = unflatten(i, out.dims);
  const int r0 = m.row_lo[x.h], c0 = m.col_lo[x.w];
  if (!m.linear) {  // copied, not weighted, so that inf and NaN pass through unchanged
    store(out, offset(out, x.n, x.c, x.h, x.w), load(in, offset(in, x.n, x.c, r0, c0)));
    return;
  }
  const int r1 = m.row_hi[x.h], c1 = m.col_hi[x.w];
  const float wy = m.row_weight[x.h], wx = m.col_weight[x.w];
  const float top = load(in, offset(in, x.n, x.c, r0, c0)) * (1.f - wx) + load(in, offset(in, x.n, x.c, r0, c1)) * wx;
  const float bottom =
      load(in, offset(in, x.n, x.c, r1, c0)) * (1.f - wx) + load(in, offset(in, x.n, x.c, r1, c1)) * wx;
  store(out, offset(out, x.n, x.c, x.h, x.w), top * (1.f - wy) + bottom * wy);
}

struct PadParams {
  int first[4], kept[4], begin[4];
};

// The source index along one axis of output index `o` (after the begin pad), or -1 for the constant value.
__device__ __forceinline__ int pad_source(PadMode mode, int o, int kept) {
  if (o >= 0 && o < kept) return o;
  if (mode == PadMode::constant) return -1;
  if (mode == PadMode::edge) return o < 0 ? 0 : kept - 1;
  if (kept == 1) return 0;
  const int period = 2 * (kept - 1);  // reflect without repeating the edge
  int r = o % period;
  if (r < 0) r += period;
  return r < kept ? r : period - r;
}

__global__ void pad_kernel(View in, View out, PadParams p, PadMode mode, float value, int64_t count) {
  const int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x;
  if (i >= count) return;
  const Index x = unflatten(i, out.dims);
  const int idx[4] = {x.n, x.c, x.h, x.w};
  int src[4];
  bool inside = true;
  for (int d = 0; d < 4; ++d) {
    const int s = pad_source(mode, idx[d] - p.begin[d], p.kept[d]);
    inside = inside && s >= 0;
    src[d] = p.first[d] + (s < 0 ? 0 : s);
  }
  store(out, offset(out, x.n, x.c, x.h, x.w), inside ? load(in, offset(in, src[0], src[1], src[2], src[3])) : value);
}

__global__ void direct_conv_kernel(View in, const float* weight, const float* bias, View residual, bool has_residual,
                                   View out, ConvShape s, Activation act, int64_t count) {
  const int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x;
  if (i >= count) return;
  const Index x = unflatten(i, out.dims);
  const int in_per_group = in.dims[1] / s.group, out_per_group = out.dims[1] / s.group;
  const int first_ic = (x.c / out_per_group) * in_per_group;
  const int kh = s.kernel[0], kw = s.kernel[1];
  float sum = 0.f;
  for (int ic = 0; ic < in_per_group; ++ic) {
    const float* taps = weight + (int64_t{x.c} * in_per_group + ic) * kh * kw;
    for (int ky = 0; ky < kh; ++ky) {
      const int iy = x.h * s.strides[0] - s.pads[0] + ky * s.dilations[0];
      if (iy < 0 || iy >= in.dims[2]) continue;
      for (int kx = 0; kx < kw; ++kx) {
        const int ix = x.w * s.strides[1] - s.pads[1] + kx * s.dilations[1];
        if (ix < 0 || ix >= in.dims[3]) continue;
        sum += load(in, offset(in, x.n, first_ic + ic, iy, ix)) * taps[ky * kw + kx];
      }
    }
  }
  if (bias) sum += bias[x.c];
  if (has_residual) sum += load(residual, offset(residual, x.n, x.c, x.h, x.w));
  store(out, offset(out, x.n, x.c, x.h, x.w), activate(act, sum));
}

// Gathered rather than scattered: each output element sums the input pixels whose kernel covers it.
__global__ void conv_transpose_kernel(View in, const float* weight, const float* bias, View out, ConvShape s,
                                      int64_t count) {
  const int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x;
  if (i >= count) return;
  const Index x = unflatten(i, out.dims);
  const int out_per_group = out.dims[1] / s.group, in_per_group = in.dims[1] / s.group;
  const int g = x.c / out_per_group, oc_in_group = x.c % out_per_group;
  const int kh = s.kernel[0], kw = s.kernel[1];
  float sum = bias ? bias[x.c] : 0.f;
  for (int ky = 0; ky < kh; ++ky) {
    const int ty = x.h + s.pads[0] - ky * s.dilations[0];
    if (ty < 0 || ty % s.strides[0] != 0) continue;
    const int iy = ty / s.strides[0];
    if (iy >= in.dims[2]) continue;
    for (int kx = 0; kx < kw; ++kx) {
      const int tx = x.w + s.pads[1] - kx * s.dilations[1];
      if (tx < 0 || tx % s.strides[1] != 0) continue;
      const int ix = tx / s.strides[1];
      if (ix >= in.dims[3]) continue;
      for (int ic = g * in_per_group; ic < (g + 1) * in_per_group; ++ic)
        sum += load(in, offset(in, x.n, ic, iy, ix)) *
               weight[((int64_t{ic} * out_per_group + oc_in_group) * kh + ky) * kw + kx];
    }
  }
  store(out, offset(out, x.n, x.c, x.h, x.w), sum);
}

__global__ void fill_kernel(View out, float value, int64_t count) {
  const int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x;
  if (i >= count) return;
  const Index x = unflatten(i, out.dims);
  store(out, offset(out, x.n, x.c, x.h, x.w), value);
}

}  // namespace

size_t storage_bytes(StorageType type) {
  switch (type) {
    case StorageType::f32: return 4;
    case StorageType::i8: return 1;
    default: return 2;
  }
}

void launch_activation(const View& in, const View& out, Activation act, cudaStream_t stream) {
  const int64_t n = out.count();
  if (n > 0) activation_kernel<<<blocks_for(n), kThreads, 0, stream>>>(in, out, act, n);
}

void launch_epilogue(const View& out, const float* bias, const View* residual, Activation act, cudaStream_t stream) {
  const int64_t n = out.count();
  if (n > 0)
    epilogue_kernel<<<blocks_for(n), kThreads, 0, stream>>>(out, bias, residual ? *residual : View{},
                                                             residual != nullptr, act, n);
}

void launch_binary(BinaryOp op, const View& a, const View& b, const View& out, cudaStream_t stream) {
  const int64_t n = out.count();
  if (n > 0) binary_kernel<<<blocks_for(n), kThreads, 0, stream>>>(op, a, b, out, n);
}

void launch_channel_affine(const View& in, const View& out, const float* scale, const float* shift,
                           cudaStream_t stream) {
  const int64_t n = out.count();
  if (n > 0) channel_affine_kernel<<<blocks_for(n), kThreads, 0, stream>>>(in, out, scale, shift, n);
}

void launch_max_pool(const View& in, const View& out, const Window& window, cudaStream_t stream) {
  if (launch_max_pool_pixels(in, out, window, stream)) return;
  const int64_t n = out.count();
  if (n > 0) max_pool_kernel<<<blocks_for(n), kThreads, 0, stream>>>(in, out, window, n);
}

void launch_average_pool(const View& in, const View& out, const Window& window, bool count_include_pad,
                         cudaStream_t stream) {
  const int64_t n = out.count();
  if (n > 0) average_pool_kernel<<<blocks_for(n), kThreads, 0, stream>>>(in, out, window, count_include_pad, n);
}

void launch_reduce_mean(const View& in, const View& out, const bool reduce[4], cudaStream_t stream) {
  const int64_t n = out.count();
  if (n > 0)
    reduce_mean_kernel<<<blocks_for(n), kThreads, 0, stream>>>(in, out, reduce[0], reduce[1], reduce[2], reduce[3], n);
}

void launch_resize(const View& in, const View& out, const ResizeMaps& maps, cudaStream_t stream) {
  const int64_t n = out.count();
  if (n > 0) resize_kernel<<<blocks_for(n), kThreads, 0, stream>>>(in, out, maps, n);
}

void launch_pad(const View& in, const View& out, const int64_t pads[8], PadMode mode, float value,
                cudaStream_t stream) {
  PadParams p;
  for (int d = 0; d < 4; ++d) {
    const int64_t crop_begin = pads[d] < 0 ? -pads[d] : 0, crop_end = pads[4 + d] < 0 ? -pads[4 + d] : 0;
    p.first[d] = static_cast<int>(crop_begin);
    p.kept[d] = static_cast<int>(in.dims[d] - crop_begin - crop_end);
    p.begin[d] = static_cast<int>(pads[d] > 0 ? pads[d] : 0);
  }
  const int64_t n = out.count();
  if (n > 0) pad_kernel<<<blocks_for(n), kThreads, 0, stream>>>(in, out, p, mode, value, n);
}

void launch_direct_conv(const View& in, const float* weight, const float* bias, const View* residual,
                        const View& out, const ConvShape& shape, Activation act, cudaStream_t stream) {
  const int64_t n = out.count();
  if (n > 0)
    direct_conv_kernel<<<blocks_for(n), kThreads, 0, stream>>>(in, weight, bias, residual ? *residual : View{},
                                                                residual != nullptr, out, shape, act, n);
}

void launch_conv_transpose(const View& in, const float* weight, const float* bias, const View& out,
                           const ConvShape& shape, cudaStream_t stream) {
  const int64_t n = out.count();
  if (n > 0) conv_transpose_kernel<<<blocks_for(n), kThreads, 0, stream>>>(in, weight, bias, out, shape, n);
}

void launch_fill(const View& out, float value, cudaStream_t stream) {
  const int64_t n = out.count();
  if (n > 0) fill_kernel<<<blocks_for(n), kThreads, 0, stream>>>(out, value, n);
}

namespace {
// Block-wide sum of one double per thread (256 threads), tree order fixed.
__device__ double block_sum(double v, double* shared) {
  shared[threadIdx.x] = v;
  __syncthreads();
  for (int half = blockDim.x / 2; half > 0; half /= 2) {
    if (threadIdx.x < half) shared[threadIdx.x] += shared[threadIdx.x + half];
    __syncthreads();
  }
  return shared[0];
}
__global__ void sum_partials(const float* x, int64_t n, double* partials) {
  __shared__ double shared[256];
  double v = 0;
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x)
    v += x[i];
  const double total = block_sum(v, shared);
  if (threadIdx.x == 0) partials[blockIdx.x] = total;
}
__global__ void sum_final(const double* partials, int count, double* out) {
  __shared__ double shared[256];
  double v = 0;
  for (int i = threadIdx.x; i < count; i += blockDim.x) v += partials[i];
  const double total = block_sum(v, shared);
  if (threadIdx.x == 0) *out = total;
}
}  // namespace

void launch_sum(const float* x, int64_t n, double* partials, double* out, cudaStream_t stream) {
  sum_partials<<<kSumBlocks, 256, 0, stream>>>(x, n, partials);
  sum_final<<<1, 256, 0, stream>>>(partials, kSumBlocks, out);
}

}  // namespace crowdrt::cuda
