// The pixel kernels declared in cuda_kernels.h: NHWC fp16 or int8 tensors moved eight channels (16 or 8 bytes) per
// thread — copies, nearest resizes, max pooling, the one-kernel Concat over channels — and the float32 NCHW to
// NHWC conversion of graph inputs. Each launcher returns false where its view does not qualify, and the caller
// then runs the per-element kernel of cuda_kernels.cu.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <algorithm>
#include <cstdint>

#include "backends/cuda/cuda_device.cuh"
#include "backends/cuda/cuda_kernels.h"

namespace crowdrt::cuda {
namespace {

constexpr int kPixelThreads = 256;

unsigned pixel_blocks_for(int64_t count) {
  return static_cast<unsigned>((count + kPixelThreads - 1) / kPixelThreads);
}

using device::store;

// A view whose pixels are rows of channels: channel stride 1, and N, H, W strides multiples of one pixel stride.
// Returns the pixel stride in 16-byte vectors, or 0 when the view does not qualify.
int64_t pixel_stride_vectors(const View& v) {
  const int64_t bytes = static_cast<int64_t>(storage_bytes(v.type));
  const int64_t pixel = v.strides[3];
  const bool packed = v.strides[1] == 1 && (v.dims[3] == 1 || pixel > 0) && v.strides[2] == pixel * v.dims[3] &&
                      (v.dims[0] == 1 || v.strides[0] == v.strides[2] * v.dims[2]);
  const bool aligned = (v.dims[1] * bytes) % 16 == 0 && (pixel * bytes) % 16 == 0 &&
                       reinterpret_cast<uintptr_t>(v.data) % 16 == 0;
  return packed && aligned && pixel > 0 ? pixel * bytes / 16 : 0;
}

// Bytes copied unchanged mean the same values: same type and, for int8, the same scale.
bool same_storage(const View& a, const View& b) {
  return a.type == b.type && (a.type != StorageType::i8 || a.scale == b.scale);
}

__global__ void copy_pixels_kernel(const uint4* in, int in_stride, uint4* out, int out_stride, int vectors, int count) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= count) return;
  const int p = i / vectors, v = i - p * vectors;
  out[static_cast<int64_t>(p) * out_stride + v] = in[static_cast<int64_t>(p) * in_stride + v];
}

__global__ void resize_nearest_pixels_kernel(const uint4* in, int in_stride, int in_h, int in_w, uint4* out,
                                             int out_stride, int out_h, int out_w, const int* rows, const int* cols,
                                             int vectors, int count) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= count) return;
  int p = i / vectors;
  const int v = i - p * vectors;
  const int ow = p % out_w;
  p /= out_w;
  const int oh = p % out_h, n = p / out_h;
  const int64_t src = (static_cast<int64_t>(n) * in_h + rows[oh]) * in_w + cols[ow];
  const int64_t dst = (static_cast<int64_t>(n) * out_h + oh) * out_w + ow;
  out[dst * out_stride + v] = in[src * in_stride + v];
}

// Eight channels of one pixel, fp16 or int8 (16 or 8 bytes, aligned), as floats; and back.
__device__ __forceinline__ void load8(const void* base, StorageType type, float scale, int64_t at, float v[8]) {
  if (type == StorageType::i8) {
    const int2 raw = *reinterpret_cast<const int2*>(static_cast<const int8_t*>(base) + at);
    const int8_t* q = reinterpret_cast<const int8_t*>(&raw);
    for (int k = 0; k < 8; ++k) v[k] = static_cast<float>(q[k]) * scale;
  } else {
    const uint4 raw = *reinterpret_cast<const uint4*>(static_cast<const __half*>(base) + at);
    const __half* h = reinterpret_cast<const __half*>(&raw);
    for (int k = 0; k < 8; ++k) v[k] = __half2float(h[k]);
  }
}

// int8: `inverse` is 1 / scale (a multiply, not eight IEEE divisions, per thread).
__device__ __forceinline__ void store8(void* base, StorageType type, float inverse, int64_t at, const float v[8]) {
  if (type == StorageType::i8) {
    int2 raw;
    int8_t* q = reinterpret_cast<int8_t*>(&raw);
    for (int k = 0; k < 8; ++k) q[k] = static_cast<int8_t>(min(max(__float2int_rn(v[k] * inverse), -128), 127));
    *reinterpret_cast<int2*>(static_cast<int8_t*>(base) + at) = raw;
  } else {
    uint4 raw;
    __half* h = reinterpret_cast<__half*>(&raw);
    for (int k = 0; k < 8; ++k) h[k] = __float2half_rn(v[k]);
    *reinterpret_cast<uint4*>(static_cast<__half*>(base) + at) = raw;
  }
}

// NHWC pixels (as pixel_elements describes them) of fp16 or int8 storage, eight channels per thread.
struct Pixels {
  void* data;
  StorageType type;
  float scale, inverse;  // int8: real value of one step, and its reciprocal
  int64_t stride;  // elements per pixel
  int h, w;
};

// Thread i of a pixel kernel: its output pixel (image, row, column) and its group of 8 channels.
struct OutputGroup {
  int n, oh, ow, g;
};
__device__ __forceinline__ OutputGroup output_group(int i, int groups, const Pixels& out) {
  int p = i / groups;
  const int g = i - p * groups;
  const int ow = p % out.w;
  p /= out.w;
  return {p / out.h, p % out.h, ow, g};
}

// Copy (rows, cols null) or nearest resize, converting between fp16 and int8 scales on the way.
__global__ void convert_pixels_kernel(Pixels in, Pixels out, const int* rows, const int* cols, int groups, int count) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= count) return;
  const auto [n, oh, ow, g] = output_group(i, groups, out);
  const int ih = rows ? rows[oh] : oh, iw = cols ? cols[ow] : ow;
  float v[8];
  load8(in.data, in.type, in.scale, ((static_cast<int64_t>(n) * in.h + ih) * in.w + iw) * in.stride + g * 8, v);
  store8(out.data, out.type, out.inverse, ((static_cast<int64_t>(n) * out.h + oh) * out.w + ow) * out.stride + g * 8,
         v);
}

__global__ void max_pool_pixels_kernel(Pixels in, Pixels out, Window win, int groups, int count) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= count) return;
  const auto [n, oh, ow, g] = output_group(i, groups, out);
  float best[8], v[8];
  for (int k = 0; k < 8; ++k) best[k] = -INFINITY;
  for (int ky = 0; ky < win.kernel[0]; ++ky) {
    const int iy = oh * win.strides[0] - win.pads[0] + ky * win.dilations[0];
    if (iy < 0 || iy >= in.h) continue;
    for (int kx = 0; kx < win.kernel[1]; ++kx) {
      const int ix = ow * win.strides[1] - win.pads[1] + kx * win.dilations[1];
      if (ix < 0 || ix >= in.w) continue;
      load8(in.data, in.type, in.scale, ((static_cast<int64_t>(n) * in.h + iy) * in.w + ix) * in.stride + g * 8, v);
      for (int k = 0; k < 8; ++k) best[k] = fmaxf(best[k], v[k]);
    }
  }
  store8(out.data, out.type, out.inverse, ((static_cast<int64_t>(n) * out.h + oh) * out.w + ow) * out.stride + g * 8,
         best);
}

// A view of fp16 or int8 NHWC pixels whose channels come in aligned groups of 8: its Pixels, else false.
bool pixels_of(const View& v, Pixels* px) {
  if (v.type != StorageType::f16 && v.type != StorageType::i8) return false;
  const int64_t pixel = v.strides[3], bytes = static_cast<int64_t>(storage_bytes(v.type));
  const bool packed = v.strides[1] == 1 && pixel > 0 && v.strides[2] == pixel * v.dims[3] &&
                      (v.dims[0] == 1 || v.strides[0] == v.strides[2] * v.dims[2]);
  const bool aligned = v.dims[1] % 8 == 0 && pixel % 8 == 0 && reinterpret_cast<uintptr_t>(v.data) % (8 * bytes) == 0;
  if (!packed || !aligned) return false;
  *px = Pixels{v.data, v.type, v.scale, 1.f / v.scale, pixel, v.dims[2], v.dims[3]};
  return true;
}

bool launch_convert_pixels(const View& in, const View& out, const int* rows, const int* cols, cudaStream_t stream) {
  Pixels a, b;
  if (!pixels_of(in, &a) || !pixels_of(out, &b) || in.dims[0] != out.dims[0] || in.dims[1] != out.dims[1] ||
      (!rows && (in.dims[2] != out.dims[2] || in.dims[3] != out.dims[3])))
    return false;
  const int64_t groups = out.dims[1] / 8, count = int64_t{out.dims[0]} * out.dims[2] * out.dims[3] * groups;
  if (count >= (int64_t{1} << 31)) return false;
  if (count > 0)
    convert_pixels_kernel<<<pixel_blocks_for(count), kPixelThreads, 0, stream>>>(a, b, rows, cols,
                                                                                 static_cast<int>(groups),
                                                                       static_cast<int>(count));
  return true;
}

// One Concat over channels in one kernel. Threads are laid out source after source (a warp reads one source,
// so the loads of different types and maps do not diverge), each taking 8 channels of one pixel: copied, or read
// through the source's nearest-resize maps, converted between fp16 and int8 scales on the way.
struct ConcatSource {
  Pixels in;
  const int* rows;  // nearest maps (output row / column → source), or null for a copy
  const int* cols;
  int first_group, groups;  // the source's 8-channel groups in the output, and their count
  int first_thread;         // the source's first thread
};
struct ConcatSources {
  ConcatSource s[kMaxConcatInputs];
  int count;
};

__global__ void concat_pixels_kernel(ConcatSources src, Pixels out, int count) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= count) return;
  int k = 0;
  while (k + 1 < src.count && i >= src.s[k + 1].first_thread) ++k;
  const ConcatSource& c = src.s[k];
  const auto [n, oh, ow, g] = output_group(i - c.first_thread, c.groups, out);
  const int ih = c.rows ? c.rows[oh] : oh, iw = c.cols ? c.cols[ow] : ow;
  float v[8];
  load8(c.in.data, c.in.type, c.in.scale, ((static_cast<int64_t>(n) * c.in.h + ih) * c.in.w + iw) * c.in.stride + g * 8,
        v);
  store8(out.data, out.type, out.inverse,
         ((static_cast<int64_t>(n) * out.h + oh) * out.w + ow) * out.stride + (c.first_group + g) * 8, v);
}

__global__ void nchw_to_nhwc_kernel(const float* in, int channels, int plane, View out, int storage_channels,
                                    int count) {
  const int p = blockIdx.x * blockDim.x + threadIdx.x;  // pixel index over N x H x W
  if (p >= count) return;
  const int n = p / plane, at = p - n * plane;
  const float* src = in + static_cast<int64_t>(n) * channels * plane + at;
  const int64_t base = static_cast<int64_t>(p) * out.strides[3];
  if (out.type == StorageType::i8 && storage_channels % 16 == 0 && out.strides[3] % 16 == 0 &&
      reinterpret_cast<uintptr_t>(out.data) % 16 == 0) {
    const float inverse = 1.f / out.scale;
    for (int c0 = 0; c0 < storage_channels; c0 += 16) {
      uint4 raw;
      int8_t* q = reinterpret_cast<int8_t*>(&raw);
      for (int k = 0; k < 16; ++k) {
        const float v = c0 + k < channels ? src[static_cast<int64_t>(c0 + k) * plane] : 0.f;
        q[k] = static_cast<int8_t>(min(max(__float2int_rn(v * inverse), -128), 127));
      }
      *reinterpret_cast<uint4*>(static_cast<int8_t*>(out.data) + base + c0) = raw;
    }
    return;
  }
  if (out.type == StorageType::f16 && storage_channels % 8 == 0 && out.strides[3] % 8 == 0 &&
      reinterpret_cast<uintptr_t>(out.data) % 16 == 0) {
    for (int c0 = 0; c0 < storage_channels; c0 += 8) {
      float v[8];
      for (int k = 0; k < 8; ++k) v[k] = c0 + k < channels ? src[static_cast<int64_t>(c0 + k) * plane] : 0.f;
      store8(out.data, out.type, 1.f, base + c0, v);
    }
    return;
  }
  for (int c = 0; c < storage_channels; ++c)
    store(out, base + c, c < channels ? src[static_cast<int64_t>(c) * plane] : 0.f);
}

}  // namespace

bool launch_copy_pixels(const View& in, const View& out, cudaStream_t stream) {
  const int64_t in_stride = pixel_stride_vectors(in), out_stride = pixel_stride_vectors(out);
  for (int d = 0; d < 4; ++d)
    if (in.dims[d] != out.dims[d]) return false;
  if (!in_stride || !out_stride || !same_storage(in, out))
    return launch_convert_pixels(in, out, nullptr, nullptr, stream);
  const int64_t vectors = in.dims[1] * static_cast<int64_t>(storage_bytes(in.type)) / 16;
  const int64_t count = int64_t{in.dims[0]} * in.dims[2] * in.dims[3] * vectors;
  if (count >= (int64_t{1} << 31)) return false;
  if (count > 0)
    copy_pixels_kernel<<<pixel_blocks_for(count), kPixelThreads, 0, stream>>>(
        static_cast<const uint4*>(in.data), static_cast<int>(in_stride), static_cast<uint4*>(out.data),
        static_cast<int>(out_stride), static_cast<int>(vectors), static_cast<int>(count));
  return true;
}

bool launch_resize_nearest_pixels(const View& in, const View& out, const ResizeMaps& maps, cudaStream_t stream) {
  const int64_t in_stride = pixel_stride_vectors(in), out_stride = pixel_stride_vectors(out);
  if (maps.linear || in.dims[0] != out.dims[0] || in.dims[1] != out.dims[1]) return false;
  if (!in_stride || !out_stride || !same_storage(in, out))
    return launch_convert_pixels(in, out, maps.row_lo, maps.col_lo, stream);
  const int64_t vectors = in.dims[1] * static_cast<int64_t>(storage_bytes(in.type)) / 16;
  const int64_t count = int64_t{out.dims[0]} * out.dims[2] * out.dims[3] * vectors;
  if (count >= (int64_t{1} << 31)) return false;
  if (count > 0)
    resize_nearest_pixels_kernel<<<pixel_blocks_for(count), kPixelThreads, 0, stream>>>(
        static_cast<const uint4*>(in.data), static_cast<int>(in_stride), in.dims[2], in.dims[3],
        static_cast<uint4*>(out.data), static_cast<int>(out_stride), out.dims[2], out.dims[3], maps.row_lo,
        maps.col_lo, static_cast<int>(vectors), static_cast<int>(count));
  return true;
}

namespace {
// The kernel's operands for a Concat (and its thread count), or false where it cannot run it.
bool concat_sources(const ConcatInput* inputs, int count, const View& out, ConcatSources* src, Pixels* o,
                    int64_t* threads) {
  *src = ConcatSources{};
  if (count < 1 || count > kMaxConcatInputs || !pixels_of(out, o)) return false;
  int channels = 0;
  int64_t total = 0;
  const int64_t pixels = int64_t{out.dims[0]} * out.dims[2] * out.dims[3];
  for (int k = 0; k < count; ++k) {
    const View& x = inputs[k].x;
    const bool resized = inputs[k].rows && inputs[k].cols;
    if (!pixels_of(x, &src->s[k].in) || x.dims[0] != out.dims[0] ||
        (!resized && (x.dims[2] != out.dims[2] || x.dims[3] != out.dims[3])))
      return false;
    src->s[k].rows = resized ? inputs[k].rows : nullptr;
    src->s[k].cols = resized ? inputs[k].cols : nullptr;
    src->s[k].first_group = channels / 8;
    src->s[k].groups = x.dims[1] / 8;
    src->s[k].first_thread = static_cast<int>(std::min<int64_t>(total, INT32_MAX));
    channels += x.dims[1];
    total += pixels * (x.dims[1] / 8);
  }
  src->count = count;
  *threads = total;
  return channels == out.dims[1] && total < (int64_t{1} << 31);
}
}  // namespace

bool concat_pixels_possible(const ConcatInput* inputs, int count, const View& out) {
  ConcatSources src;
  Pixels o;
  int64_t threads = 0;
  return concat_sources(inputs, count, out, &src, &o, &threads);
}

bool launch_concat_pixels(const ConcatInput* inputs, int count, const View& out, cudaStream_t stream) {
  ConcatSources src;
  Pixels o;
  int64_t threads = 0;
  if (!concat_sources(inputs, count, out, &src, &o, &threads)) return false;
  if (threads > 0)
    concat_pixels_kernel<<<pixel_blocks_for(threads), kPixelThreads, 0, stream>>>(src, o,
                                                                                static_cast<int>(threads));
  return true;
}

bool launch_nchw_to_nhwc(const View& in, const View& out, int storage_channels, cudaStream_t stream) {
  const int64_t plane = int64_t{in.dims[2]} * in.dims[3];
  const bool in_packed = in.type == StorageType::f32 && in.strides[3] == 1 && in.strides[2] == in.dims[3] &&
                         in.strides[1] == plane && in.strides[0] == plane * in.dims[1];
  const bool out_nhwc = out.strides[1] == 1 && out.strides[3] >= storage_channels &&
                        out.strides[2] == out.strides[3] * out.dims[3] &&
                        (out.dims[0] == 1 || out.strides[0] == out.strides[2] * out.dims[2]);
  const int64_t count = int64_t{in.dims[0]} * plane;
  if (!in_packed || !out_nhwc || storage_channels < in.dims[1] || count >= (int64_t{1} << 31) ||
      in.dims[0] != out.dims[0] || in.dims[1] != out.dims[1] || in.dims[2] != out.dims[2] || in.dims[3] != out.dims[3])
    return false;
  if (count > 0)
    nchw_to_nhwc_kernel<<<pixel_blocks_for(count), kPixelThreads, 0, stream>>>(
        static_cast<const float*>(in.data), in.dims[1], static_cast<int>(plane), out, storage_channels,
        static_cast<int>(count));
  return true;
}

bool launch_max_pool_pixels(const View& in, const View& out, const Window& window, cudaStream_t stream) {
  Pixels a, b;
  if (pixels_of(in, &a) && pixels_of(out, &b) && in.dims[0] == out.dims[0] && in.dims[1] == out.dims[1]) {
    const int64_t groups = out.dims[1] / 8, count = int64_t{out.dims[0]} * out.dims[2] * out.dims[3] * groups;
    if (count < (int64_t{1} << 31)) {
      if (count > 0)
        max_pool_pixels_kernel<<<pixel_blocks_for(count), kPixelThreads, 0, stream>>>(a, b, window,
                                                                                      static_cast<int>(groups),
                                                                                      static_cast<int>(count));
      return true;
    }
  }
  return false;
}

}  // namespace crowdrt::cuda
