// The convolution chain of cuda_conv_chain.h. Block = a 16x32 tile of the last stage's output, 8 warps.
// Shared memory holds the input window (at the source resolution where it is upsampled), the intermediate
// stages' outputs (each stage's region is the next one's plus a one-pixel halo; pixels outside the image are
// stored as zeros, which is the next convolution's zero padding), all weights and biases. Pixels are rows of
// fp16 channels whose length is an odd number of 16-byte chunks, so the 8 row addresses of an ldmatrix
// (consecutive pixels) fall in different banks. A warp takes two 16-pixel M tiles at a time; its B fragments
// (the stage's weights, at most 16 output channels x 288 k) stay in registers for the whole stage.
#include "backends/cuda/cuda_conv_chain.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <algorithm>
#include <cstring>

#include "backends/cuda/cuda_resources.h"

namespace crowdrt::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;
constexpr int kTileH = 16, kTileW = 32;

__host__ __device__ constexpr int odd_chunks(int chunks) { return chunks % 2 ? chunks : chunks + 1; }
// Halves per pixel of a shared activation buffer with c channels, and per row of a stage's weights.
__host__ __device__ constexpr int pixel_stride(int c) { return 8 * odd_chunks(c / 8); }
__host__ __device__ constexpr int weight_stride(int in_c) { return 8 * odd_chunks(9 * in_c / 8); }
__host__ __device__ constexpr int round8(int c) { return (c + 7) / 8 * 8; }

// Layout of a chain of S stages with channels C0 → C1 → C2 → C3 (unused ones 0; the last one rounded up to 8),
// its input upsampled F times.
template <int F, int S, int C0, int C1, int C2, int C3>
struct Chain {
  __host__ __device__ static constexpr int channels(int s) { return s == 0 ? C0 : s == 1 ? C1 : s == 2 ? C2 : C3; }
  // Stage s (1..S) computes an rh(s) x rw(s) region; rh(0) x rw(0) is the input window at full resolution.
  __host__ __device__ static constexpr int rh(int s) { return kTileH + 2 * (S - s); }
  __host__ __device__ static constexpr int rw(int s) { return kTileW + 2 * (S - s); }
  static constexpr int src_h = F == 1 ? rh(0) : (rh(0) - 1) / F + 2;  // rows of x the window covers, at most
  static constexpr int src_w = F == 1 ? rw(0) : (rw(0) - 1) / F + 2;
  __host__ __device__ static constexpr int buffer(int s) {  // halves; buffer s < S is stage s's output (0: the input)
    return s == 0 ? src_h * src_w * pixel_stride(C0) : s < S ? rh(s) * rw(s) * pixel_stride(channels(s)) : 0;
  }
  // Even buffers in region A, odd ones in region B (a stage reads one region and writes the other).
  static constexpr int region_a = buffer(0) > buffer(2) ? buffer(0) : buffer(2);
  static constexpr int region_b = buffer(1);
  __host__ __device__ static constexpr int weights(int s) { return s >= 1 && s <= S ? channels(s) * weight_stride(channels(s - 1)) : 0; }
  __host__ __device__ static constexpr int weight_offset(int s) { return s <= 1 ? 0 : weight_offset(s - 1) + weights(s - 1); }
  static constexpr int all_weights = weight_offset(S + 1);
  __host__ __device__ static constexpr int bias_offset(int s) { return s <= 1 ? 0 : bias_offset(s - 1) + channels(s - 1); }
  static constexpr int all_biases = bias_offset(S + 1);
  static constexpr size_t shared_bytes =
      size_t(region_a + region_b + all_weights) * sizeof(__half) + size_t(all_biases) * sizeof(float);
};

struct Params {
  View x, y;
  const __half* weights;
  const float* biases;
  bool relu[kChainMaxStages];
  int out_channels;  // of the last stage, before rounding
  int height, width;  // of the output (and of every stage)
};

__device__ __forceinline__ uint32_t shared_address(const void* p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}
__device__ __forceinline__ void ldmatrix_x4(uint32_t (&r)[4], const __half* p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(shared_address(p)));
}
__device__ __forceinline__ void ldmatrix_x2(uint32_t (&r)[2], const __half* p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x2.shared.b16 {%0,%1}, [%2];\n"
               : "=r"(r[0]), "=r"(r[1])
               : "r"(shared_address(p)));
}
__device__ __forceinline__ void mma(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

__device__ __forceinline__ int floor_div(int a, int f) { return f == 1 ? a : (a >= 0 ? a / f : -((f - 1 - a) / f)); }

__device__ __forceinline__ void store(const View& v, int64_t at, float x) {
  switch (v.type) {
    case StorageType::f16: static_cast<__half*>(v.data)[at] = __float2half_rn(x); break;
    case StorageType::bf16: static_cast<__nv_bfloat16*>(v.data)[at] = __float2bfloat16_rn(x); break;
    case StorageType::i8:
      static_cast<int8_t*>(v.data)[at] = static_cast<int8_t>(min(max(__float2int_rn(x / v.scale), -128), 127));
      break;
    default: static_cast<float*>(v.data)[at] = x;
  }
}

// Where a stage reads: its output region's origin in the image, and for the first stage of an upsampled chain the
// window's source origin (x's row and column of its first pixel).
struct StageGeometry {
  int row0, col0;        // image coordinates of the stage's output pixel (0, 0)
  int src_row0, src_col0;  // F > 1: x coordinates of the input buffer's pixel (0, 0)
};

// One stage: out = act(conv3x3(in) * scale + bias) over an RH x RW region. LAST: to y (inside the image only),
// else to the shared buffer `out` (zeros outside the image).
template <int F, int CIN, int COUT, int RH, int RW, int SRC_W, bool LAST>
__device__ __forceinline__ void stage(const __half* in, const __half* w, const float* bias, float scale, bool relu,
                                      const StageGeometry& g, const Params& p, int img, __half* out) {
  constexpr int KS = 9 * CIN / 16;  // k-steps of 16
  constexpr int NT = COUT / 8;      // n tiles of 8
  constexpr int PIN = pixel_stride(CIN), POUT = pixel_stride(COUT), WS = weight_stride(CIN);
  constexpr int M = RH * RW, TILES = (M + 15) / 16;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;

  uint32_t b[KS][NT][2];
#pragma unroll
  for (int ks = 0; ks < KS; ++ks) {
#pragma unroll
    for (int nt = 0; nt + 1 < NT; nt += 2) {
      uint32_t r[4];
      ldmatrix_x4(r, w + (nt * 8 + (lane & 7) + ((lane >> 4) << 3)) * WS + ks * 16 + ((lane >> 3) & 1) * 8);
      b[ks][nt][0] = r[0], b[ks][nt][1] = r[1], b[ks][nt + 1][0] = r[2], b[ks][nt + 1][1] = r[3];
    }
    if constexpr (NT % 2) {
      uint32_t r[2];
      ldmatrix_x2(r, w + ((NT - 1) * 8 + (lane & 7)) * WS + ks * 16 + ((lane >> 3) & 1) * 8);
      b[ks][NT - 1][0] = r[0], b[ks][NT - 1][1] = r[1];
    }
  }

  for (int t0 = warp * 2; t0 < TILES; t0 += 2 * kWarps) {
    // The pixel whose row of A this lane addresses in ldmatrix, per M tile; its offsets in `in` per tap row/column.
    int row_at[2][3], col_at[2][3];
#pragma unroll
    for (int m = 0; m < 2; ++m) {
      const int pix = min((t0 + m) * 16 + (lane & 7) + ((lane >> 3) & 1) * 8, M - 1);
      const int pr = pix / RW, pc = pix - pr * RW;
#pragma unroll
      for (int d = 0; d < 3; ++d) {
        if constexpr (F == 1) {
          row_at[m][d] = (pr + d) * (RW + 2) * PIN;
          col_at[m][d] = (pc + d) * PIN;
        } else {
          row_at[m][d] = (floor_div(g.row0 - 1 + pr + d, F) - g.src_row0) * SRC_W * PIN;
          col_at[m][d] = (floor_div(g.col0 - 1 + pc + d, F) - g.src_col0) * PIN;
        }
      }
    }
    float acc[2][NT][4];
#pragma unroll
    for (int m = 0; m < 2; ++m)
#pragma unroll
      for (int nt = 0; nt < NT; ++nt) acc[m][nt][0] = acc[m][nt][1] = acc[m][nt][2] = acc[m][nt][3] = 0.f;
    const __half* lane_in = in + (lane >> 4) * 8;
#pragma unroll
    for (int ks = 0; ks < KS; ++ks) {
      const int tap = ks * 16 / CIN, c0 = ks * 16 % CIN;
#pragma unroll
      for (int m = 0; m < 2; ++m) {
        uint32_t a[4];
        ldmatrix_x4(a, lane_in + row_at[m][tap / 3] + col_at[m][tap % 3] + c0);
#pragma unroll
        for (int nt = 0; nt < NT; ++nt) mma(acc[m][nt], a, b[ks][nt]);
      }
    }
    // Epilogue: this lane holds rows g, g + 8 of each M tile, channels 2t, 2t + 1 of each N tile.
    const int g8 = lane >> 2, t2 = (lane & 3) * 2;
#pragma unroll
    for (int m = 0; m < 2; ++m)
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const int pix = (t0 + m) * 16 + g8 + 8 * h;
        if (pix >= M) continue;
        const int pr = pix / RW, pc = pix - pr * RW;
        const int oh = g.row0 + pr, ow = g.col0 + pc;
        const bool inside = oh >= 0 && oh < p.height && ow >= 0 && ow < p.width;
#pragma unroll
        for (int nt = 0; nt < NT; ++nt) {
          const int n = nt * 8 + t2;
          float v0 = acc[m][nt][2 * h] * scale + bias[n], v1 = acc[m][nt][2 * h + 1] * scale + bias[n + 1];
          if (relu) v0 = fmaxf(v0, 0.f), v1 = fmaxf(v1, 0.f);
          if constexpr (LAST) {
            if (!inside) continue;
            const int64_t at = img * p.y.strides[0] + oh * p.y.strides[2] + ow * p.y.strides[3];
            if (n < p.out_channels) store(p.y, at + n * p.y.strides[1], v0);
            if (n + 1 < p.out_channels) store(p.y, at + (n + 1) * p.y.strides[1], v1);
          } else {
            *reinterpret_cast<__half2*>(out + pix * POUT + n) =
                inside ? __floats2half2_rn(v0, v1) : __floats2half2_rn(0.f, 0.f);
          }
        }
      }
  }
}

template <int F, int S, int C0, int C1, int C2, int C3>
__global__ void __launch_bounds__(kThreads, 2) conv_chain_kernel(Params p) {
  using L = Chain<F, S, C0, C1, C2, C3>;
  extern __shared__ __align__(16) unsigned char shared[];
  __half* region_a = reinterpret_cast<__half*>(shared);
  __half* region_b = region_a + L::region_a;
  __half* w = region_b + L::region_b;
  float* bias = reinterpret_cast<float*>(w + L::all_weights);
  const int img = blockIdx.z, tile_row = blockIdx.y * kTileH, tile_col = blockIdx.x * kTileW;

  // Weights and biases (already in their shared layout), and the input window, zeros outside x.
  for (int i = threadIdx.x; i < L::all_weights / 8; i += kThreads)
    reinterpret_cast<uint4*>(w)[i] = reinterpret_cast<const uint4*>(p.weights)[i];
  for (int i = threadIdx.x; i < L::all_biases; i += kThreads) bias[i] = p.biases[i];
  const int src_row0 = floor_div(tile_row - S, F), src_col0 = floor_div(tile_col - S, F);
  const bool int8 = p.x.type == StorageType::i8;
  const int chunk = int8 ? 16 : 8;  // channels per 16-byte load
  const int chunks = C0 / chunk;
  constexpr int PIN = pixel_stride(C0);
  for (int i = threadIdx.x; i < L::src_h * L::src_w * chunks; i += kThreads) {
    const int pix = i / chunks, c = (i - pix * chunks) * chunk;
    const int sr = pix / L::src_w, sc = pix - sr * L::src_w;
    const int xr = src_row0 + sr, xc = src_col0 + sc;
    __half* dst = region_a + pix * PIN + c;
    uint4 v = make_uint4(0, 0, 0, 0);
    if (xr >= 0 && xr < p.x.dims[2] && xc >= 0 && xc < p.x.dims[3]) {
      const int64_t at = img * p.x.strides[0] + xr * p.x.strides[2] + xc * p.x.strides[3] + c;
      v = *reinterpret_cast<const uint4*>(static_cast<const char*>(p.x.data) + at * (int8 ? 1 : 2));
    }
    if (int8) {
      const int8_t* q = reinterpret_cast<const int8_t*>(&v);
      __half2 h[8];
#pragma unroll
      for (int k = 0; k < 8; ++k) h[k] = __halves2half2(__int2half_rn(q[2 * k]), __int2half_rn(q[2 * k + 1]));
      reinterpret_cast<uint4*>(dst)[0] = *reinterpret_cast<const uint4*>(&h[0]);
      reinterpret_cast<uint4*>(dst)[1] = *reinterpret_cast<const uint4*>(&h[4]);
    } else {
      *reinterpret_cast<uint4*>(dst) = v;
    }
  }
  __syncthreads();

  // int8 x: the first stage sums steps of x.scale.
  const float scale0 = int8 ? p.x.scale : 1.f;
  StageGeometry g{tile_row - (S - 1), tile_col - (S - 1), src_row0, src_col0};
  if constexpr (S == 1) {
    stage<F, C0, C1, L::rh(1), L::rw(1), L::src_w, true>(region_a, w, bias, scale0, p.relu[0], g, p, img, nullptr);
  } else {
    stage<F, C0, C1, L::rh(1), L::rw(1), L::src_w, false>(region_a, w, bias, scale0, p.relu[0], g, p, img, region_b);
    __syncthreads();
    g.row0 += 1, g.col0 += 1;
    if constexpr (S == 2) {
      stage<1, C1, C2, L::rh(2), L::rw(2), 0, true>(region_b, w + L::weight_offset(2), bias + L::bias_offset(2), 1.f,
                                                     p.relu[1], g, p, img, nullptr);
    } else {
      stage<1, C1, C2, L::rh(2), L::rw(2), 0, false>(region_b, w + L::weight_offset(2), bias + L::bias_offset(2),
                                                      1.f, p.relu[1], g, p, img, region_a);
      __syncthreads();
      g.row0 += 1, g.col0 += 1;
      stage<1, C2, C3, L::rh(3), L::rw(3), 0, true>(region_a, w + L::weight_offset(3), bias + L::bias_offset(3), 1.f,
                                                     p.relu[2], g, p, img, nullptr);
    }
  }
}

// The compiled variants: (upsample, stages, channels...), the last stage's channels rounded up to 8.
struct Variant {
  int upsample, stages, c[4];
  void (*kernel)(Params);
  size_t shared_bytes;
};

template <int F, int S, int C0, int C1, int C2, int C3>
constexpr Variant variant() {
  return {F, S, {C0, C1, C2, C3}, conv_chain_kernel<F, S, C0, C1, C2, C3>, Chain<F, S, C0, C1, C2, C3>::shared_bytes};
}

// The smp U-Net tail (decoder channels ... 32, 16; a head of up to 8 classes), with and without its upsampling.
const Variant kVariants[] = {
    variant<2, 3, 32, 16, 16, 8>(),
    variant<1, 3, 32, 16, 16, 8>(),
    variant<2, 2, 32, 16, 16, 0>(),
    variant<1, 2, 32, 16, 16, 0>(),
};

int padded_channels(const ChainShape& shape, int s) {  // s = 0..stages
  const int c = s == 0 ? shape.stage[0].in_channels : shape.stage[s - 1].out_channels;
  return s == shape.stages ? round8(c) : c;
}

const Variant* find_variant(const ChainShape& shape) {
  for (const Variant& v : kVariants) {
    if (v.upsample != shape.upsample || v.stages != shape.stages) continue;
    bool same = true;
    for (int s = 0; s <= shape.stages; ++s) same = same && v.c[s] == padded_channels(shape, s);
    for (int s = 1; s < shape.stages; ++s) same = same && shape.stage[s].in_channels == shape.stage[s - 1].out_channels;
    if (same) return &v;
  }
  return nullptr;
}

}  // namespace

bool conv_chain_possible(const ChainShape& shape, const View& x, const View& y) {
  if (shape.stages < 1 || shape.stages > kChainMaxStages || !find_variant(shape)) return false;
  const int chunk = x.type == StorageType::i8 ? 16 : 8;
  const int c = shape.stage[0].in_channels;
  return (x.type == StorageType::f16 || x.type == StorageType::i8) && x.strides[1] == 1 && x.dims[1] == c &&
         c % chunk == 0 && x.strides[3] == c && x.strides[2] % chunk == 0 && x.strides[0] % chunk == 0 &&
         (reinterpret_cast<uintptr_t>(x.data) & 15) == 0 && y.dims[0] == x.dims[0] &&
         y.dims[1] == shape.stage[shape.stages - 1].out_channels && y.dims[2] == x.dims[2] * shape.upsample &&
         y.dims[3] == x.dims[3] * shape.upsample;
}

namespace {
uint16_t half_bits(float v) { return __half_as_ushort(__float2half_rn(v)); }
}  // namespace

std::vector<uint16_t> conv_chain_weights(const ChainShape& shape, const float* const weights[kChainMaxStages]) {
  std::vector<uint16_t> all;
  for (int s = 0; s < shape.stages; ++s) {
    const int in_c = shape.stage[s].in_channels, out_c = shape.stage[s].out_channels;
    const int rows = s + 1 == shape.stages ? round8(out_c) : out_c;
    const int stride = weight_stride(in_c);
    std::vector<uint16_t> w(size_t(rows) * stride, half_bits(0.f));
    for (int o = 0; o < out_c; ++o)
      for (int i = 0; i < in_c; ++i)
        for (int t = 0; t < 9; ++t) w[size_t(o) * stride + t * in_c + i] = half_bits(weights[s][(size_t(o) * in_c + i) * 9 + t]);
    all.insert(all.end(), w.begin(), w.end());
  }
  return all;
}

std::vector<float> conv_chain_biases(const ChainShape& shape, const float* const biases[kChainMaxStages]) {
  std::vector<float> all;
  for (int s = 0; s < shape.stages; ++s) {
    const int out_c = shape.stage[s].out_channels;
    const int rows = s + 1 == shape.stages ? round8(out_c) : out_c;
    for (int o = 0; o < rows; ++o) all.push_back(biases[s] && o < out_c ? biases[s][o] : 0.f);
  }
  return all;
}

void prepare_conv_chain(const ChainShape& shape) {
  if (const Variant* v = find_variant(shape))
    check(cudaFuncSetAttribute(v->kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                               static_cast<int>(v->shared_bytes)),
          "cudaFuncSetAttribute (convolution chain)");
}

void launch_conv_chain(const ChainShape& shape, const View& x, const void* weights, const float* biases,
                       const View& y, cudaStream_t stream) {
  const Variant* v = find_variant(shape);
  if (!v) return;  // conv_chain_possible() said no: the caller runs the members' own kernels
  Params p{};
  p.x = x;
  p.y = y;
  p.weights = static_cast<const __half*>(weights);
  p.biases = biases;
  for (int s = 0; s < shape.stages; ++s) p.relu[s] = shape.stage[s].relu;
  p.out_channels = shape.stage[shape.stages - 1].out_channels;
  p.height = y.dims[2];
  p.width = y.dims[3];
  if (y.count() == 0) return;
  const dim3 grid((p.width + kTileW - 1) / kTileW, (p.height + kTileH - 1) / kTileH, y.dims[0]);
  v->kernel<<<grid, kThreads, v->shared_bytes, stream>>>(p);
}

}  // namespace crowdrt::cuda
