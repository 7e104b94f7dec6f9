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
#include <cmath>
#include <cstring>
#include <iterator>
#include <type_traits>

#include "backends/cuda/cuda_device.cuh"
#include "backends/cuda/cuda_resources.h"
#include "quant/scheme.h"

namespace crowdrt::cuda {
namespace {

using device::commit;
using device::copy16;
using device::shared_address;
using device::store;

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;
constexpr int kTileH = 16, kTileW = 32;

__host__ __device__ constexpr int odd_chunks(int chunks) { return chunks % 2 ? chunks : chunks + 1; }
// Bytes per pixel of a shared activation buffer of c channels of `bytes` bytes, and per row of a stage's weights:
// whole 16-byte chunks, an odd number of them, so that the 8 rows an ldmatrix reads (consecutive pixels, or
// consecutive output channels) fall in different banks.
__host__ __device__ constexpr int pixel_bytes(int c, int bytes) { return 16 * odd_chunks(c * bytes / 16); }
__host__ __device__ constexpr int weight_bytes(int in_c, int bytes) { return 16 * odd_chunks(9 * in_c * bytes / 16); }
__host__ __device__ constexpr int round8(int c) { return (c + 7) / 8 * 8; }

// Layout of a chain of S stages with channels C0 → C1 → C2 → C3 (unused ones 0; the last one rounded up to 8),
// its input upsampled F times; Q: the input is int8 and the first stage multiplies int8 x int8 weights (its
// weights quantised per output channel), the other stages fp16.
template <int F, int S, int C0, int C1, int C2, int C3, bool Q>
struct Chain {
  __host__ __device__ static constexpr int channels(int s) { return s == 0 ? C0 : s == 1 ? C1 : s == 2 ? C2 : C3; }
  __host__ __device__ static constexpr int element(int s) { return Q && s == 0 ? 1 : 2; }  // bytes, stage s's input
  // Stage s (1..S) computes an rh(s) x rw(s) region; rh(0) x rw(0) is the input window at full resolution.
  __host__ __device__ static constexpr int rh(int s) { return kTileH + 2 * (S - s); }
  __host__ __device__ static constexpr int rw(int s) { return kTileW + 2 * (S - s); }
  static constexpr int src_h = F == 1 ? rh(0) : (rh(0) - 1) / F + 2;  // rows of x the window covers, at most
  static constexpr int src_w = F == 1 ? rw(0) : (rw(0) - 1) / F + 2;
  // Shared memory (bytes): the window, stage 1's output (B), stage 2's output (A, three stages only), the
  // weights of every stage, then floats: stage 1's per-channel multipliers and every stage's biases.
  static constexpr int window = src_h * src_w * pixel_bytes(C0, element(0));
  static constexpr int region_b = S >= 2 ? rh(1) * rw(1) * pixel_bytes(C1, 2) : 0;
  static constexpr int region_a = S >= 3 ? rh(2) * rw(2) * pixel_bytes(C2, 2) : 0;
  __host__ __device__ static constexpr int weights(int s) {
    return s >= 1 && s <= S ? channels(s) * weight_bytes(channels(s - 1), element(s - 1)) : 0;
  }
  __host__ __device__ static constexpr int weight_offset(int s) {
    return s <= 1 ? 0 : weight_offset(s - 1) + weights(s - 1);
  }
  static constexpr int all_weights = weight_offset(S + 1);
  __host__ __device__ static constexpr int bias_offset(int s) {
    return s <= 1 ? C1 : bias_offset(s - 1) + channels(s - 1);
  }
  static constexpr int constants = bias_offset(S + 1);  // floats
  static constexpr size_t shared_bytes = size_t(window) + region_b + region_a + all_weights + constants * 4;
};

struct Params {
  View x, y;
  const unsigned char* weights;
  const float* constants;
  bool relu[kChainMaxStages];
  int out_channels;  // of the last stage, before rounding
  int height, width;  // of the output (and of every stage)
  int tiles_x, tiles_y;  // 16x32 tiles per image
};

__device__ __forceinline__ void ldmatrix_x4(uint32_t (&r)[4], const unsigned char* p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(shared_address(p)));
}
__device__ __forceinline__ void ldmatrix_x2(uint32_t (&r)[2], const unsigned char* p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x2.shared.b16 {%0,%1}, [%2];\n"
               : "=r"(r[0]), "=r"(r[1])
               : "r"(shared_address(p)));
}
// D += A B on 16 x 8 x (32 bytes of k): fp16 (k 16) with float accumulators, int8 (k 32) with int ones.
__device__ __forceinline__ void mma(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}
__device__ __forceinline__ void mma(int (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) {
  asm volatile(
      "mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
      : "+r"(d[0]), "+r"(d[1]), "+r"(d[2]), "+r"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

__device__ __forceinline__ int floor_div(int a, int f) { return f == 1 ? a : (a >= 0 ? a / f : -((f - 1 - a) / f)); }


// Where a stage reads: its output region's origin in the image, and for the first stage of an upsampled chain the
// window's source origin (x's row and column of its first pixel).
struct StageGeometry {
  int row0, col0;          // image coordinates of the stage's output pixel (0, 0)
  int src_row0, src_col0;  // F > 1: x coordinates of the input buffer's pixel (0, 0)
};

// One stage: out = act(conv3x3(in) * scale * mult[n] + bias[n]) over an RH x RW region; E: bytes per input element
// (1: int8 x int8 with int accumulation, mult the weights' per-channel scales; 2: fp16, mult null). LAST: to y
// (inside the image only), else to the fp16 shared buffer `out` (zeros outside the image).
template <int F, int E, int CIN, int COUT, int RH, int RW, int SRC_W, bool LAST>
__device__ __forceinline__ void stage(const unsigned char* in, const unsigned char* w, const float* mult,
                                      const float* bias, float scale, bool relu, const StageGeometry& g,
                                      const Params& p, int img, unsigned char* out) {
  using Acc = std::conditional_t<E == 1, int, float>;
  constexpr int KE = 32 / E;         // k per step: 32 bytes of a pixel's channels
  constexpr int KS = 9 * CIN / KE;   // k-steps
  constexpr int NT = COUT / 8;       // n tiles of 8
  constexpr int PIN = pixel_bytes(CIN, E), POUT = pixel_bytes(COUT, 2), WS = weight_bytes(CIN, E);
  constexpr int M = RH * RW, TILES = (M + 15) / 16;
  static_assert(CIN % KE == 0, "a k-step stays within one tap");
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;

  uint32_t b[KS][NT][2];
#pragma unroll
  for (int ks = 0; ks < KS; ++ks) {
#pragma unroll
    for (int nt = 0; nt + 1 < NT; nt += 2) {
      uint32_t r[4];
      ldmatrix_x4(r, w + (nt * 8 + (lane & 7) + ((lane >> 4) << 3)) * WS + ks * 32 + ((lane >> 3) & 1) * 16);
      b[ks][nt][0] = r[0], b[ks][nt][1] = r[1], b[ks][nt + 1][0] = r[2], b[ks][nt + 1][1] = r[3];
    }
    if constexpr (NT % 2) {
      uint32_t r[2];
      ldmatrix_x2(r, w + ((NT - 1) * 8 + (lane & 7)) * WS + ks * 32 + ((lane >> 3) & 1) * 16);
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
    Acc acc[2][NT][4];
#pragma unroll
    for (int m = 0; m < 2; ++m)
#pragma unroll
      for (int nt = 0; nt < NT; ++nt) acc[m][nt][0] = acc[m][nt][1] = acc[m][nt][2] = acc[m][nt][3] = 0;
    const unsigned char* lane_in = in + (lane >> 4) * 16;
#pragma unroll
    for (int ks = 0; ks < KS; ++ks) {
      const int tap = ks * KE / CIN, c0 = ks * KE % CIN;
#pragma unroll
      for (int m = 0; m < 2; ++m) {
        uint32_t a[4];
        ldmatrix_x4(a, lane_in + row_at[m][tap / 3] + col_at[m][tap % 3] + c0 * E);
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
          const float s0 = E == 1 ? scale * mult[n] : scale, s1 = E == 1 ? scale * mult[n + 1] : scale;
          float v0 = static_cast<float>(acc[m][nt][2 * h]) * s0 + bias[n];
          float v1 = static_cast<float>(acc[m][nt][2 * h + 1]) * s1 + bias[n + 1];
          if (relu) v0 = fmaxf(v0, 0.f), v1 = fmaxf(v1, 0.f);
          if constexpr (LAST) {
            if (!inside) continue;
            const int64_t at = img * p.y.strides[0] + oh * p.y.strides[2] + ow * p.y.strides[3];
            if (n < p.out_channels) store(p.y, at + n * p.y.strides[1], v0);
            if (n + 1 < p.out_channels) store(p.y, at + (n + 1) * p.y.strides[1], v1);
          } else {
            *reinterpret_cast<__half2*>(out + pix * POUT + n * 2) =
                inside ? __floats2half2_rn(v0, v1) : __floats2half2_rn(0.f, 0.f);
          }
        }
      }
  }
}

__device__ __forceinline__ void copy_wait() { asm volatile("cp.async.wait_group 0;\n" ::); }

// Tile t of the grid of tiles over the output: its image and top-left output pixel.
struct Tile {
  int img, row, col;
};
__device__ __forceinline__ Tile tile_at(const Params& p, int t) {
  const int per_img = p.tiles_x * p.tiles_y;
  const int img = t / per_img, rest = t - img * per_img;
  return {img, rest / p.tiles_x * kTileH, rest % p.tiles_x * kTileW};
}

// Starts copying tile t's input window into the window buffer, in x's type, pixels PIN bytes apart (zeros outside x).
template <int F, int S, int SRC_H, int SRC_W, int C0, int E>
__device__ __forceinline__ void fetch_window(const Params& p, int t, unsigned char* window) {
  constexpr int PIN = pixel_bytes(C0, E);
  constexpr int chunks = C0 * E / 16;  // 16-byte chunks per pixel
  const Tile tile = tile_at(p, t);
  const int src_row0 = floor_div(tile.row - S, F), src_col0 = floor_div(tile.col - S, F);
  const char* x = static_cast<const char*>(p.x.data);
  for (int i = threadIdx.x; i < SRC_H * SRC_W * chunks; i += kThreads) {
    const int pix = i / chunks, chunk = i - pix * chunks;
    const int sr = pix / SRC_W, sc = pix - sr * SRC_W;
    const int xr = src_row0 + sr, xc = src_col0 + sc;
    const bool inside = xr >= 0 && xr < p.x.dims[2] && xc >= 0 && xc < p.x.dims[3];
    const int64_t at = inside ? tile.img * p.x.strides[0] + xr * p.x.strides[2] + xc * p.x.strides[3] : 0;
    copy16(window + pix * PIN + chunk * 16, x + at * E + chunk * 16, inside);
  }
  commit();
}

// A persistent block: it loads the weights once, then takes tiles t = blockIdx.x, + gridDim.x, ...; the next tile's
// input window is copied (cp.async) while this one's later stages run.
template <int F, int S, int C0, int C1, int C2, int C3, bool Q>
__global__ void __launch_bounds__(kThreads, 2) conv_chain_kernel(Params p) {
  using L = Chain<F, S, C0, C1, C2, C3, Q>;
  constexpr int E0 = L::element(0);
  extern __shared__ __align__(16) unsigned char shared[];
  unsigned char* window = shared;
  unsigned char* region_b = window + L::window;
  unsigned char* region_a = region_b + L::region_b;
  unsigned char* w = region_a + L::region_a;
  const float* constants = reinterpret_cast<const float*>(w + L::all_weights);
  const int tiles = p.tiles_x * p.tiles_y * p.y.dims[0];
  if (static_cast<int>(blockIdx.x) >= tiles) return;

  fetch_window<F, S, L::src_h, L::src_w, C0, E0>(p, blockIdx.x, window);
  for (int i = threadIdx.x; i < L::all_weights / 16; i += kThreads)
    reinterpret_cast<uint4*>(w)[i] = reinterpret_cast<const uint4*>(p.weights)[i];
  for (int i = threadIdx.x; i < L::constants; i += kThreads)
    reinterpret_cast<float*>(w + L::all_weights)[i] = p.constants[i];
  const float scale0 = Q ? p.x.scale : 1.f;  // int8 x: the first stage sums steps of x.scale

  for (int t = blockIdx.x; t < tiles; t += gridDim.x) {
    copy_wait();
    __syncthreads();  // the window is here; the last tile's stages are done
    const Tile tile = tile_at(p, t);
    StageGeometry g{tile.row - (S - 1), tile.col - (S - 1), floor_div(tile.row - S, F), floor_div(tile.col - S, F)};
    const float* mult = constants;
    if constexpr (S == 1) {
      stage<F, E0, C0, C1, L::rh(1), L::rw(1), L::src_w, true>(window, w, mult, constants + L::bias_offset(1), scale0,
                                                               p.relu[0], g, p, tile.img, nullptr);
      __syncthreads();
      if (t + static_cast<int>(gridDim.x) < tiles)
        fetch_window<F, S, L::src_h, L::src_w, C0, E0>(p, t + gridDim.x, window);
    } else {
      stage<F, E0, C0, C1, L::rh(1), L::rw(1), L::src_w, false>(window, w, mult, constants + L::bias_offset(1), scale0,
                                                                p.relu[0], g, p, tile.img, region_b);
      __syncthreads();
      if (t + static_cast<int>(gridDim.x) < tiles)  // the window is free: the next one comes during the later stages
        fetch_window<F, S, L::src_h, L::src_w, C0, E0>(p, t + gridDim.x, window);
      g.row0 += 1, g.col0 += 1;
      if constexpr (S == 2) {
        stage<1, 2, C1, C2, L::rh(2), L::rw(2), 0, true>(region_b, w + L::weight_offset(2), nullptr,
                                                         constants + L::bias_offset(2), 1.f, p.relu[1], g, p,
                                                         tile.img, nullptr);
      } else {
        stage<1, 2, C1, C2, L::rh(2), L::rw(2), 0, false>(region_b, w + L::weight_offset(2), nullptr,
                                                          constants + L::bias_offset(2), 1.f, p.relu[1], g, p,
                                                          tile.img, region_a);
        __syncthreads();
        g.row0 += 1, g.col0 += 1;
        stage<1, 2, C2, C3, L::rh(3), L::rw(3), 0, true>(region_a, w + L::weight_offset(3), nullptr,
                                                         constants + L::bias_offset(3), 1.f, p.relu[2], g, p,
                                                         tile.img, nullptr);
      }
    }
  }
}

// The compiled variants: (upsample, stages, channels..., int8 input), the last stage's channels rounded up to 8.
struct Variant {
  int upsample, stages, c[4];
  bool int8;
  void (*kernel)(Params);
  size_t shared_bytes;
};

template <int F, int S, int C0, int C1, int C2, int C3, bool Q>
constexpr Variant variant() {
  return {F, S, {C0, C1, C2, C3}, Q, conv_chain_kernel<F, S, C0, C1, C2, C3, Q>,
          Chain<F, S, C0, C1, C2, C3, Q>::shared_bytes};
}

// The smp U-Net tail (decoder channels ... 32, 16; a head of up to 8 classes), with and without its upsampling,
// reading fp16 or int8. What depends on the device (the persistent grid) is in each ConvChainKernel.
constexpr Variant kChainVariants[] = {
    variant<2, 3, 32, 16, 16, 8, false>(), variant<2, 3, 32, 16, 16, 8, true>(),
    variant<1, 3, 32, 16, 16, 8, false>(), variant<1, 3, 32, 16, 16, 8, true>(),
    variant<2, 2, 32, 16, 16, 0, false>(), variant<2, 2, 32, 16, 16, 0, true>(),
    variant<1, 2, 32, 16, 16, 0, false>(), variant<1, 2, 32, 16, 16, 0, true>(),
};

int padded_channels(const ChainShape& shape, int s) {  // s = 0..stages
  const int c = s == 0 ? shape.stage[0].in_channels : shape.stage[s - 1].out_channels;
  return s == shape.stages ? round8(c) : c;
}

// The index of the compiled variant that runs `shape`, -1 where none does.
int find_variant(const ChainShape& shape, bool int8) {
  for (int i = 0; i < static_cast<int>(std::size(kChainVariants)); ++i) {
    const Variant& v = kChainVariants[i];
    if (v.upsample != shape.upsample || v.stages != shape.stages || v.int8 != int8) continue;
    bool same = true;
    for (int s = 0; s <= shape.stages; ++s) same = same && v.c[s] == padded_channels(shape, s);
    for (int s = 1; s < shape.stages; ++s) same = same && shape.stage[s].in_channels == shape.stage[s - 1].out_channels;
    if (same) return i;
  }
  return -1;
}

// Stage 1's int8 weights: per output channel, as an int8 convolution quantises them (quant/scheme.h).
std::vector<float> stage1_scales(const ChainShape& shape, const float* w) {
  return quant::weight_scales(w, shape.stage[0].out_channels, int64_t{shape.stage[0].in_channels} * 9);
}

uint16_t half_bits(float v) { return __half_as_ushort(__float2half_rn(v)); }

}  // namespace

bool conv_chain_possible(const ChainShape& shape, const View& x, const View& y) {
  const bool int8 = x.type == StorageType::i8;
  if (shape.stages < 1 || shape.stages > kChainMaxStages || find_variant(shape, int8) < 0) return false;
  const int chunk = int8 ? 16 : 8;
  const int c = shape.stage[0].in_channels;
  return (x.type == StorageType::f16 || int8) && x.strides[1] == 1 && x.dims[1] == c && c % chunk == 0 &&
         x.strides[3] == c && x.strides[2] % chunk == 0 && x.strides[0] % chunk == 0 &&
         (reinterpret_cast<uintptr_t>(x.data) & 15) == 0 && y.dims[0] == x.dims[0] &&
         y.dims[1] == shape.stage[shape.stages - 1].out_channels && y.dims[2] == x.dims[2] * shape.upsample &&
         y.dims[3] == x.dims[3] * shape.upsample;
}

std::vector<uint8_t> conv_chain_weights(const ChainShape& shape, const float* const weights[kChainMaxStages],
                                        bool int8) {
  std::vector<uint8_t> all;
  for (int s = 0; s < shape.stages; ++s) {
    const int in_c = shape.stage[s].in_channels, out_c = shape.stage[s].out_channels;
    const int rows = s + 1 == shape.stages ? round8(out_c) : out_c;
    const bool q = int8 && s == 0;
    const int stride = weight_bytes(in_c, q ? 1 : 2);
    const std::vector<float> scales = q ? stage1_scales(shape, weights[0]) : std::vector<float>();
    std::vector<uint8_t> w(size_t(rows) * stride, 0);
    for (int o = 0; o < out_c; ++o)
      for (int i = 0; i < in_c; ++i)
        for (int t = 0; t < 9; ++t) {
          const float v = weights[s][(size_t(o) * in_c + i) * 9 + t];
          const size_t at = size_t(o) * stride + (size_t(t) * in_c + i) * (q ? 1 : 2);
          if (q) {
            w[at] = static_cast<uint8_t>(quant::quantise_weight(v, scales[o]));
          } else {
            const uint16_t h = half_bits(v);
            std::memcpy(&w[at], &h, 2);
          }
        }
    all.insert(all.end(), w.begin(), w.end());
  }
  return all;
}

std::vector<float> conv_chain_constants(const ChainShape& shape, const float* const weights[kChainMaxStages],
                                        const float* const biases[kChainMaxStages], bool int8) {
  std::vector<float> all =
      int8 ? stage1_scales(shape, weights[0]) : std::vector<float>(shape.stage[0].out_channels, 1.f);
  for (int s = 0; s < shape.stages; ++s) {
    const int out_c = shape.stage[s].out_channels;
    const int rows = s + 1 == shape.stages ? round8(out_c) : out_c;
    for (int o = 0; o < rows; ++o) all.push_back(biases[s] && o < out_c ? biases[s][o] : 0.f);
  }
  return all;
}

ConvChainKernel prepare_conv_chain(const ChainShape& shape, bool int8) {
  ConvChainKernel prepared;
  prepared.shape = shape;
  prepared.variant = find_variant(shape, int8);
  if (prepared.variant < 0) return prepared;
  const Variant& v = kChainVariants[prepared.variant];
  check(cudaFuncSetAttribute(v.kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(v.shared_bytes)),
        "cudaFuncSetAttribute (convolution chain)");
  int device = 0, sms = 0, per_sm = 0;
  check(cudaGetDevice(&device), "cudaGetDevice");
  check(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device), "cudaDeviceGetAttribute");
  check(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, v.kernel, kThreads, v.shared_bytes),
        "cudaOccupancyMaxActiveBlocksPerMultiprocessor (convolution chain)");
  prepared.resident_blocks = std::max(1, per_sm) * sms;
  return prepared;
}

void launch_conv_chain(const ConvChainKernel& kernel, const View& x, const void* weights, const float* constants,
                       const View& y, cudaStream_t stream) {
  if (kernel.variant < 0) return;  // conv_chain_possible() said no: the caller runs the members' own kernels
  const Variant& v = kChainVariants[kernel.variant];
  const ChainShape& shape = kernel.shape;
  Params p{};
  p.x = x;
  p.y = y;
  p.weights = static_cast<const unsigned char*>(weights);
  p.constants = constants;
  for (int s = 0; s < shape.stages; ++s) p.relu[s] = shape.stage[s].relu;
  p.out_channels = shape.stage[shape.stages - 1].out_channels;
  p.height = y.dims[2];
  p.width = y.dims[3];
  if (y.count() == 0) return;
  p.tiles_x = (p.width + kTileW - 1) / kTileW;
  p.tiles_y = (p.height + kTileH - 1) / kTileH;
  const int tiles = p.tiles_x * p.tiles_y * y.dims[0];
  v.kernel<<<std::min(tiles, kernel.resident_blocks), kThreads, v.shared_bytes, stream>>>(p);
}

}  // namespace crowdrt::cuda
