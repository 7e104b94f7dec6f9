// The stem convolution of cuda_conv_stem.h. A persistent block keeps the weights of 64 output channels in shared
// memory and walks output tiles of ROWS x 16 pixels; for each it copies the tile's input window (zeros outside
// the image) into shared memory once, then every warp computes 64 pixels (4 output rows of 16) x 32 channels
// with mma.m16n8k16 (fp16 in, fp32 sums). K runs over 16-byte chunks, a tap's 8 channels each, two chunks per K
// step (taps padded to an even count with zero weights). The window's columns are stored split by their residue
// modulo the stride (for stride 2: even columns, then odd), so that 8 neighbouring output pixels read 8
// consecutive chunks at any tap: ldmatrix rows without bank conflicts. The epilogue (bias, ReLU, fp16 or int8
// rounding) goes through shared memory, for 16-byte stores of whole pixels. Every block copies all the weights
// at its start; with `progressive` its first tile starts on the first taps while the later ones still arrive.
#include "backends/cuda/cuda_conv_stem.h"

#include <cuda_fp16.h>

#include <algorithm>
#include <cstdio>

#include "backends/cuda/cuda_conv_geometry.h"
#include "backends/cuda/cuda_device.cuh"
#include "backends/cuda/cuda_resources.h"
#include "core/error.h"

namespace crowdrt::cuda {
namespace {

constexpr int kTileCols = 16;     // output pixels per tile row: one m16 fragment
constexpr int kGroup = 64;        // output channels per block
constexpr int kChunk = 16;        // bytes of one K chunk: 8 fp16 channels of a pixel (or weight row)
constexpr int kStagePitchF16 = 144;  // bytes per staged pixel: 64 halves + 8 (rows shift by 4 banks)
constexpr int kStagePitchI8 = 80;    // 64 int8 + 16 (rows shift by 20 banks)

struct StemProblem : ConvGeometry {
  const __half* x;
  const float* x_nchw;            // or x as float32 NCHW planes (a network input's staging buffer), 8 channels
  int64_t plane;                  // x_nchw: elements per channel plane
  int x_channels;                 // x_nchw: channels stored (the others up to 8 are zero)
  const uint4* w;  // [groups][q_pad][64] chunks
  const float* bias;
  View y;
  float y_scale;
  bool relu, int8_out, vector_store;
  int halves;                     // chunks per pixel: channels / 8
  int q_count, q_pad;             // K chunks (taps x halves), padded to even
  int tiles_h, tiles_w, tiles;    // output tiles per column, per row, in all
  int win_rows, win_cols;         // input window of a tile: rows, columns (also the stored row length)
  int win_sub;                    // columns of one residue class modulo the stride
  int segments;                   // commit groups of the weights: 1, or kSegments (progressive)
};

constexpr int kSegments = 5;

using device::commit;
using device::copy16;
using device::shared_address;
// Until at most `n` (< kSegments) of the last committed groups are still in flight.
__device__ __forceinline__ void wait_pending(int n) {
  switch (n) {
    case 0: asm volatile("cp.async.wait_group 0;\n" ::); break;
    case 1: asm volatile("cp.async.wait_group 1;\n" ::); break;
    case 2: asm volatile("cp.async.wait_group 2;\n" ::); break;
    case 3: asm volatile("cp.async.wait_group 3;\n" ::); break;
    default: asm volatile("cp.async.wait_group 4;\n" ::); break;
  }
}

__device__ __forceinline__ void load_matrices(uint32_t (&r)[4], uint32_t address) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(address));
}

__device__ __forceinline__ void mma(float (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
      "{%0,%1,%2,%3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

__device__ __forceinline__ int saturated_step(float v, float scale) {
  return min(max(__float2int_rn(v / scale), -128), 127);  // as cuda_kernels.cu's int8 stores
}

// The input window of output tile `tile` (`rows` x 16 pixels) into `window`, in reading order (row, column,
// half), each chunk to its residue-split place (halves and strides are 1 or 2: shifts and masks).
__device__ void load_window(const StemProblem& p, int tile, int rows, uint4* window, int tid, int threads) {
  const int per_image = p.tiles_h * p.tiles_w;
  const int img = tile / per_image, rest = tile - img * per_image;
  const int ih0 = (rest / p.tiles_w) * rows * p.stride_h - p.pad_t;
  const int iw0 = (rest % p.tiles_w) * kTileCols * p.stride_w - p.pad_l;
  const int row_chunks = p.win_cols * p.halves;
  const int half_shift = p.halves - 1, stride_shift = p.stride_w - 1;
  if (p.x_nchw) {  // float32 planes: converted here to one chunk of 8 fp16 channels per pixel
    // Every load of a round of kRound pixels per thread is issued before the first is converted, so that the
    // window costs about one memory latency per round (cp.async cannot convert).
    constexpr int kRound = 4;
    const float* x = p.x_nchw + img * p.xs_n;
    const int count = p.win_rows * row_chunks;
    for (int first = tid; first < count; first += kRound * threads) {
      float v[kRound][8];
      int at[kRound];
#pragma unroll
      for (int r = 0; r < kRound; ++r) {
        const int i = first + r * threads;
        const int row = i / row_chunks, col = i - row * row_chunks;
        const int ih = ih0 + row, iw = iw0 + col;
        const bool ok = i < count && ih >= 0 && ih < p.in_h && iw >= 0 && iw < p.in_w;
        at[r] = i < count ? row * p.win_cols + (col & stride_shift) * p.win_sub + (col >> stride_shift) : -1;
#pragma unroll
        for (int c = 0; c < 8; ++c) v[r][c] = ok && c < p.x_channels ? x[c * p.plane + ih * p.xs_h + iw] : 0.f;
      }
#pragma unroll
      for (int r = 0; r < kRound; ++r) {
        if (at[r] < 0) continue;
        __align__(16) __half h[8];
#pragma unroll
        for (int c = 0; c < 8; ++c) h[c] = __float2half_rn(v[r][c]);
        window[at[r]] = *reinterpret_cast<const uint4*>(h);
      }
    }
    return;
  }
  const __half* x = p.x + img * p.xs_n;
  for (int i = tid; i < p.win_rows * row_chunks; i += threads) {
    const int row = i / row_chunks, rem = i - row * row_chunks;
    const int col = rem >> half_shift, half = rem & half_shift;
    const int ih = ih0 + row, iw = iw0 + col;
    const bool ok = ih >= 0 && ih < p.in_h && iw >= 0 && iw < p.in_w;
    const __half* src = ok ? x + ih * p.xs_h + iw * p.xs_w + half * 8 : p.x;
    const int at = (half * p.win_rows + row) * p.win_cols + (col & stride_shift) * p.win_sub + (col >> stride_shift);
    copy16(&window[at], src, ok);
  }
}

template <int ROWS>
struct Shape {
  static constexpr int kWarpsN = 2;
  static constexpr int kWarpsM = ROWS / 4;  // 4 output rows (64 pixels) per warp
  static constexpr int kThreads = 32 * kWarpsM * kWarpsN;
  static constexpr int kWarpChannels = kGroup / kWarpsN;
  static constexpr int kNTiles = kWarpChannels / 8;
  // Blocks per SM the registers must allow (shared memory allows about as many for the 7x7 stem).
  static constexpr int kMinBlocks = 256 / kThreads + 1;
};

template <int ROWS>
__global__ void __launch_bounds__(Shape<ROWS>::kThreads, Shape<ROWS>::kMinBlocks) stem_conv_kernel(StemProblem p) {
  using S = Shape<ROWS>;
  constexpr int kThreads = S::kThreads, kNT = S::kNTiles;
  extern __shared__ uint4 smem[];
  uint4* w_s = smem;                                            // [q_pad][64]
  int* off_s = reinterpret_cast<int*>(smem + p.q_pad * kGroup);  // byte offset of each K chunk in the window
  uint4* region = smem + p.q_pad * kGroup + (p.q_pad + 3) / 4;  // the window, then the staged outputs

  const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32;
  const int n0 = blockIdx.y * kGroup;
  const int n_count = min(kGroup, p.out_c - n0);
  // The first tile's window, then the weights in `segments` groups of K steps, each committed on its own.
  int tile = blockIdx.x;  // the grid has at most one block per tile
  load_window(p, tile, ROWS, region, tid, kThreads);
  commit();
  const int k_steps = p.q_pad / 2;
  const uint4* w = p.w + size_t(blockIdx.y) * p.q_pad * kGroup;
  for (int segment = 0; segment < p.segments; ++segment) {
    const int begin = segment * k_steps / p.segments * 2 * kGroup;
    const int end = (segment + 1) * k_steps / p.segments * 2 * kGroup;
    for (int i = begin + tid; i < end; i += kThreads) copy16(&w_s[i], &w[i], true);
    commit();
  }
  for (int q = tid; q < p.q_pad; q += kThreads) {
    const int qq = q < p.q_count ? q : 0;  // the padding chunk reads tap 0's pixels against zero weights
    const int tap = qq / p.halves, half = qq - tap * p.halves;
    const int r = tap / p.kw, s = tap - r * p.kw;
    off_s[q] = ((half * p.win_rows + r) * p.win_cols + (s % p.stride_w) * p.win_sub + s / p.stride_w) * kChunk;
  }

  const int warp_m = warp / S::kWarpsN, warp_n = warp % S::kWarpsN;
  const int nb = warp_n * S::kWarpChannels;  // the warp's first channel within the group
  const bool warp_busy = nb < n_count;
  // ldmatrix rows: A, lane -> pixel (lane % 8) + 8 * bit 3, chunk 2j + bit 4; B, lane -> channel nb + lane % 8
  // + 8 * bit 4 (+16 per pair of n tiles), chunk 2j + bit 3.
  const int a_pixel = (lane & 7) + ((lane >> 3) & 1) * 8;
  const int a_chunk = lane >> 4;
  const uint32_t a_base = shared_address(region) + ((warp_m * 4 * p.stride_h) * p.win_cols + a_pixel) * kChunk;
  const uint32_t a_row_step = p.stride_h * p.win_cols * kChunk;
  const uint32_t b_base =
      shared_address(w_s) + (((lane >> 3) & 1) * kGroup + nb + (lane & 7) + (lane >> 4) * 8) * kChunk;
  const int g = lane / 4, t = lane % 4;
  float bias[kNT][2];
#pragma unroll
  for (int nt = 0; nt < kNT; ++nt)
#pragma unroll
    for (int j = 0; j < 2; ++j) {
      const int c = nb + nt * 8 + 2 * t + j;
      bias[nt][j] = p.bias && c < n_count ? p.bias[n0 + c] : 0.f;
    }
  const int stage_pitch = p.int8_out ? kStagePitchI8 : kStagePitchF16;
  char* stage = reinterpret_cast<char*>(region);

  for (bool first = true; tile < p.tiles; tile += gridDim.x, first = false) {
    const int per_image = p.tiles_h * p.tiles_w;
    const int img = tile / per_image, rest = tile - img * per_image;
    const int oh0 = (rest / p.tiles_w) * ROWS, ow0 = (rest % p.tiles_w) * kTileCols;
    if (!first) {
      load_window(p, tile, ROWS, region, tid, kThreads);
      commit();
      wait_pending(0);
      __syncthreads();
    }

    float acc[4][kNT][4] = {};
    // The first tile waits for the window and each segment of the weights as it comes to it.
    for (int segment = 0; segment < p.segments; ++segment) {
      if (first) {
        wait_pending(p.segments - 1 - segment);
        __syncthreads();
      }
      if (!warp_busy) continue;
      const int end = (segment + 1) * k_steps / p.segments;
      for (int j = segment * k_steps / p.segments; j < end; ++j) {
        uint32_t a[4][4], b[kNT / 2][4];
        const uint32_t off = off_s[2 * j + a_chunk];
#pragma unroll
        for (int mt = 0; mt < 4; ++mt) load_matrices(a[mt], a_base + mt * a_row_step + off);
#pragma unroll
        for (int pr = 0; pr < kNT / 2; ++pr) load_matrices(b[pr], b_base + (j * 2 * kGroup + pr * 16) * kChunk);
#pragma unroll
        for (int mt = 0; mt < 4; ++mt)
#pragma unroll
          for (int nt = 0; nt < kNT; ++nt)
            mma(acc[mt][nt], a[mt], b[nt / 2][(nt % 2) * 2], b[nt / 2][(nt % 2) * 2 + 1]);
      }
    }
    __syncthreads();  // the window is read: its space takes the staged outputs

    if (warp_busy) {
#pragma unroll
      for (int mt = 0; mt < 4; ++mt)
#pragma unroll
        for (int nt = 0; nt < kNT; ++nt)
#pragma unroll
          for (int h = 0; h < 2; ++h) {
            const int pixel = (warp_m * 4 + mt) * kTileCols + g + 8 * h;
            const int c = nb + nt * 8 + 2 * t;
            float v0 = acc[mt][nt][2 * h] + bias[nt][0], v1 = acc[mt][nt][2 * h + 1] + bias[nt][1];
            if (p.relu) v0 = fmaxf(v0, 0.f), v1 = fmaxf(v1, 0.f);
            char* at = stage + pixel * stage_pitch;
            if (p.int8_out) {
              char2 q;
              q.x = static_cast<char>(saturated_step(v0, p.y_scale));
              q.y = static_cast<char>(saturated_step(v1, p.y_scale));
              *reinterpret_cast<char2*>(at + c) = q;
            } else {
              *reinterpret_cast<__half2*>(at + 2 * c) = __floats2half2_rn(v0, v1);
            }
          }
    }
    __syncthreads();

    const int element = p.int8_out ? 1 : 2;
    char* y = static_cast<char*>(p.y.data);
    const int64_t y_image = img * p.y.strides[0] + n0;
    if (p.vector_store) {
      const int chunks = n_count * element / kChunk;  // per pixel
      for (int i = tid; i < ROWS * kTileCols * chunks; i += kThreads) {
        const int pixel = i / chunks, chunk = i - pixel * chunks;
        const int oh = oh0 + pixel / kTileCols, ow = ow0 + pixel % kTileCols;
        if (oh >= p.out_h || ow >= p.out_w) continue;
        const int64_t at = (y_image + oh * p.y.strides[2] + ow * p.y.strides[3]) * element + chunk * kChunk;
        *reinterpret_cast<uint4*>(y + at) =
            *reinterpret_cast<const uint4*>(stage + pixel * stage_pitch + chunk * kChunk);
      }
    } else {
      for (int i = tid; i < ROWS * kTileCols * n_count; i += kThreads) {
        const int pixel = i / n_count, c = i - pixel * n_count;
        const int oh = oh0 + pixel / kTileCols, ow = ow0 + pixel % kTileCols;
        if (oh >= p.out_h || ow >= p.out_w) continue;
        const int64_t at = (y_image + oh * p.y.strides[2] + ow * p.y.strides[3] + c) * element;
        const char* from = stage + pixel * stage_pitch + c * element;
        if (p.int8_out)
          y[at] = *from;
        else
          *reinterpret_cast<__half*>(y + at) = *reinterpret_cast<const __half*>(from);
      }
    }
    __syncthreads();  // the staged outputs are stored: the space takes the next window
  }
}

using Kernel = void (*)(StemProblem);

Kernel kernel_for(const StemConfig& c) { return c.tile_rows == 16 ? stem_conv_kernel<16> : stem_conv_kernel<8>; }

int threads_for(const StemConfig& c) { return c.tile_rows == 16 ? Shape<16>::kThreads : Shape<8>::kThreads; }

bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15) == 0; }

// Everything but the pointers, and the shared memory it needs.
StemProblem stem_problem(const View& x, int channels, const View& y, const ConvShape& shape, const StemConfig& c,
                         size_t* shared_bytes) {
  StemProblem p{};
  static_cast<ConvGeometry&>(p) = conv_geometry(x, channels, y, shape);
  p.y = y;
  p.int8_out = y.type == StorageType::i8;
  p.y_scale = y.scale;
  p.halves = channels / 8;
  p.q_count = p.kh * p.kw * p.halves;
  p.q_pad = (p.q_count + 1) / 2 * 2;
  p.tiles_h = (p.out_h + c.tile_rows - 1) / c.tile_rows;
  p.tiles_w = (p.out_w + kTileCols - 1) / kTileCols;
  p.tiles = y.dims[0] * p.tiles_h * p.tiles_w;
  p.win_rows = (c.tile_rows - 1) * p.stride_h + p.kh;
  p.win_cols = (kTileCols - 1) * p.stride_w + p.kw;
  p.win_sub = (p.win_cols + p.stride_w - 1) / p.stride_w;
  p.segments = c.progressive ? kSegments : 1;
  const int element = p.int8_out ? 1 : 2;
  p.vector_store = aligned16(y.data) && (y.strides[0] * element) % kChunk == 0 &&
                   (y.strides[2] * element) % kChunk == 0 && (y.strides[3] * element) % kChunk == 0;
  const size_t window = size_t(p.halves) * p.win_rows * p.win_cols * kChunk;
  const size_t staged = size_t(c.tile_rows) * kTileCols * (p.int8_out ? kStagePitchI8 : kStagePitchF16);
  *shared_bytes = (size_t(p.q_pad) * kGroup + (p.q_pad + 3) / 4) * kChunk + std::max(window, staged);
  return p;
}

int shared_memory_limit() {
  int device = 0, bytes = 0;
  check(cudaGetDevice(&device), "cudaGetDevice");
  check(cudaDeviceGetAttribute(&bytes, cudaDevAttrMaxSharedMemoryPerBlockOptin, device), "cudaDeviceGetAttribute");
  return bytes;
}

}  // namespace

std::string StemConfig::name() const {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%dx%d%s", tile_rows, kTileCols, progressive ? "p" : "");
  return buf;
}

std::vector<StemConfig> stem_configs() {
  return {StemConfig{8, false}, StemConfig{8, true}, StemConfig{16, false}, StemConfig{16, true}};
}

bool parse_stem_config(const std::string& name, StemConfig* config) {
  for (const StemConfig& c : stem_configs())
    if (c.name() == name) {
      *config = c;
      return true;
    }
  return false;
}

bool stem_conv_possible(const View& x, int channels, const View& y, bool has_residual, const ConvShape& shape,
                        Activation act, const StemConfig& config) {
  // x float32 NCHW (packed planes, at most 8 channels read as 8): a network input read from its staging buffer.
  const bool nchw = x.type == StorageType::f32 && channels == 8 && x.dims[1] <= 8 && x.strides[3] == 1 &&
                    x.strides[2] == x.dims[3] && x.strides[1] == int64_t{x.dims[2]} * x.dims[3] &&
                    x.strides[0] == x.strides[1] * x.dims[1];
  if ((x.type != StorageType::f16 && !nchw) || (y.type != StorageType::f16 && y.type != StorageType::i8) ||
      has_residual || shape.group != 1 || (act.kind != ActivationKind::none && act.kind != ActivationKind::relu))
    return false;
  if (!nchw && ((channels != 8 && channels != 16) || x.strides[1] != 1 || x.strides[3] % 8 != 0 ||
                x.strides[2] % 8 != 0 || x.strides[0] % 8 != 0 || !aligned16(x.data)))
    return false;
  if (y.strides[1] != 1 || y.dims[1] % 16 != 0 || y.dims[1] == 0) return false;
  for (int axis : {0, 1})
    if (shape.kernel[axis] < 1 || shape.kernel[axis] > 7 || shape.strides[axis] < 1 || shape.strides[axis] > 2 ||
        shape.dilations[axis] != 1)
      return false;
  if (y.type == StorageType::i8 && !(y.scale > 0.f)) return false;
  size_t bytes = 0;
  stem_problem(x, channels, y, shape, config, &bytes);
  return bytes <= size_t(shared_memory_limit());
}

std::vector<float> stem_conv_weights(const float* weight, int out_c, int in_c, int kh, int kw, int channels) {
  const int halves = channels / 8, q_count = kh * kw * halves, q_pad = (q_count + 1) / 2 * 2;
  const int groups = (out_c + kGroup - 1) / kGroup;
  std::vector<float> packed(size_t(groups) * q_pad * kGroup * 8, 0.f);
  for (int o = 0; o < out_c; ++o)
    for (int i = 0; i < in_c; ++i)
      for (int r = 0; r < kh; ++r)
        for (int s = 0; s < kw; ++s) {
          const int q = (r * kw + s) * halves + i / 8;
          const size_t to = ((size_t(o / kGroup) * q_pad + q) * kGroup + o % kGroup) * 8 + i % 8;
          packed[to] = weight[((size_t(o) * in_c + i) * kh + r) * kw + s];
        }
  return packed;
}

void prepare_stem_conv(const View& x, int channels, const View& y, const ConvShape& shape, StemConfig* config) {
  size_t bytes = 0;
  const StemProblem p = stem_problem(x, channels, y, shape, *config, &bytes);
  const Kernel kernel = kernel_for(*config);
  // The largest any stem convolution may ask for, so that steps prepared one after another all keep running.
  check(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, shared_memory_limit()),
        "cudaFuncSetAttribute (stem convolution)");
  int device = 0, sms = 0, per_sm = 0;
  check(cudaGetDevice(&device), "cudaGetDevice");
  check(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device), "cudaDeviceGetAttribute");
  check(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, kernel, threads_for(*config), bytes),
        "cudaOccupancyMaxActiveBlocksPerMultiprocessor (stem convolution)");
  if (per_sm < 1)
    throw Error(cat("stem convolution ", config->name(), ": ", bytes, " bytes of shared memory do not fit"));
  const int groups = (p.out_c + kGroup - 1) / kGroup;
  config->blocks = std::max(1, std::min(p.tiles, per_sm * sms / groups));
}

void launch_stem_conv(const View& x, int channels, const void* weight, const float* bias, const View& y,
                      const ConvShape& shape, Activation act, const StemConfig& config, cudaStream_t stream) {
  size_t bytes = 0;
  StemProblem p = stem_problem(x, channels, y, shape, config, &bytes);
  if (x.type == StorageType::f32) {
    p.x_nchw = static_cast<const float*>(x.data);
    p.plane = x.strides[1];
    p.x_channels = x.dims[1];
  } else {
    p.x = static_cast<const __half*>(x.data);
  }
  p.w = static_cast<const uint4*>(weight);
  p.bias = bias;
  p.relu = act.kind == ActivationKind::relu;
  if (p.m == 0) return;
  const dim3 grid(static_cast<unsigned>(std::max(1, config.blocks)),
                  static_cast<unsigned>((p.out_c + kGroup - 1) / kGroup));
  kernel_for(config)<<<grid, threads_for(config), bytes, stream>>>(p);
}

}  // namespace crowdrt::cuda
