// The 3xTF32 implicit-GEMM convolution of cuda_conv_tf32x3.h. A block computes a tile of BM output pixels x 64
// output channels; its warps each own 32 x 32 of it as 2 x 4 mma.m16n8k8 tiles. The K loop walks kh·kw·channels
// 16 at a time: cp.async copies the input patch (zero-filled outside the image) and the weights into shared memory
// (two stages, the next tile loading while this one is multiplied). Rows of the shared tiles are padded to 20
// floats so that the fragment reads of a warp hit 32 different banks.
#include "backends/cuda/cuda_conv_tf32x3.h"

#include <cstdint>
#include <cstdio>

#include "backends/cuda/cuda_conv_geometry.h"
#include "backends/cuda/cuda_device.cuh"

namespace crowdrt::cuda {
namespace {

constexpr int kTileN = 64;
constexpr int kTileK = 16;
constexpr int kRow = kTileK + 4;  // padded shared-memory row (floats)

struct Problem : ConvGeometry {  // channels: a multiple of 4
  const float* x;
  int k;                     // kh · kw · channels
  int k_tiles_per_split;
  const float* w;            // [out_c][k]
};

struct Epilogue {
  const float* bias;
  View residual;
  bool has_residual;
  View y;
  bool relu;
};

using device::commit;
using device::copy16;
using device::shared_address;
template <int N>
__device__ __forceinline__ void wait_pending() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
}

// x = big + small, both TF32 (the 10-bit-mantissa values the tensor cores read).
__device__ __forceinline__ void split(float x, uint32_t& big, uint32_t& small) {
  asm("cvt.rna.tf32.f32 %0, %1;\n" : "=r"(big) : "f"(x));
  const float rest = x - __uint_as_float(big);
  asm("cvt.rna.tf32.f32 %0, %1;\n" : "=r"(small) : "f"(rest));
}

__device__ __forceinline__ void mma(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) {
  asm volatile(
      "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
      "{%0,%1,%2,%3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

__device__ __forceinline__ int64_t view_offset(const View& v, int n, int c, int h, int w) {
  return n * v.strides[0] + c * v.strides[1] + h * v.strides[2] + w * v.strides[3];
}

__device__ __forceinline__ void finish(const Epilogue& e, int img, int oh, int ow, int c, float v) {
  if (e.bias) v += e.bias[c];
  if (e.has_residual) v += static_cast<const float*>(e.residual.data)[view_offset(e.residual, img, c, oh, ow)];
  if (e.relu) v = fmaxf(v, 0.f);
  static_cast<float*>(e.y.data)[view_offset(e.y, img, c, oh, ow)] = v;
}

template <int BM>
__global__ void __launch_bounds__(BM * 2) tf32x3_conv_kernel(Problem p, Epilogue e, float* partial) {
  constexpr int kThreads = BM * 2;  // (BM / 32) x 2 warps of 32 x 32
  constexpr int kALoads = BM * (kTileK / 4) / kThreads;
  constexpr int kBLoads = kTileN * (kTileK / 4) / kThreads;
  __shared__ __align__(16) float a_tile[2][BM][kRow];
  __shared__ __align__(16) float b_tile[2][kTileN][kRow];

  const int tid = threadIdx.x;
  const int64_t m0 = int64_t{blockIdx.x} * BM;
  const int n0 = blockIdx.y * kTileN;
  const int k_tiles = (p.k + kTileK - 1) / kTileK;
  const int kt_begin = blockIdx.z * p.k_tiles_per_split;
  const int kt_end = min(k_tiles, kt_begin + p.k_tiles_per_split);

  // The output pixels this thread loads input for: fixed over the K loop.
  int a_row[kALoads], a_img[kALoads], a_ih[kALoads], a_iw[kALoads];
  bool a_pixel[kALoads];
  const int a_kv = tid % (kTileK / 4);
#pragma unroll
  for (int i = 0; i < kALoads; ++i) {
    a_row[i] = tid / (kTileK / 4) + i * (kThreads / (kTileK / 4));
    const int64_t m = m0 + a_row[i];
    a_pixel[i] = m < p.m;
    const int64_t mm = a_pixel[i] ? m : 0;
    const int plane = p.out_h * p.out_w;
    a_img[i] = static_cast<int>(mm / plane);
    const int rest = static_cast<int>(mm - int64_t{a_img[i]} * plane);
    a_ih[i] = (rest / p.out_w) * p.stride_h - p.pad_t;
    a_iw[i] = (rest % p.out_w) * p.stride_w - p.pad_l;
  }

  auto load_tile = [&](int stage, int kt) {
    const int k = kt * kTileK + a_kv * 4;  // 4 consecutive channels of one (r, s): channels % 4 == 0
    const bool k_ok = k < p.k;
    const int c = k % p.channels;
    const int rs = k / p.channels;
    const int r = rs / p.kw, s = rs - (rs / p.kw) * p.kw;
#pragma unroll
    for (int i = 0; i < kALoads; ++i) {
      const int ih = a_ih[i] + r * p.dil_h, iw = a_iw[i] + s * p.dil_w;
      const bool ok = k_ok && a_pixel[i] && ih >= 0 && ih < p.in_h && iw >= 0 && iw < p.in_w;
      const float* src = ok ? p.x + a_img[i] * p.xs_n + ih * p.xs_h + iw * p.xs_w + c : p.x;
      copy16(&a_tile[stage][a_row[i]][a_kv * 4], src, ok);
    }
#pragma unroll
    for (int i = 0; i < kBLoads; ++i) {
      const int v = tid + i * kThreads;
      const int row = v / (kTileK / 4), kv = v % (kTileK / 4);
      const int kk = kt * kTileK + kv * 4;
      const bool ok = n0 + row < p.out_c && kk < p.k;
      const float* src = ok ? p.w + int64_t{n0 + row} * p.k + kk : p.w;
      copy16(&b_tile[stage][row][kv * 4], src, ok);
    }
  };

  const int warp = tid / 32, lane = tid % 32;
  const int wm = (warp / 2) * 32, wn = (warp % 2) * 32;
  const int g = lane / 4, t = lane % 4;
  float acc[2][4][4] = {};

  if (kt_begin < kt_end) load_tile(0, kt_begin);
  commit();
  for (int kt = kt_begin; kt < kt_end; ++kt) {
    const int stage = (kt - kt_begin) & 1;
    if (kt + 1 < kt_end) load_tile(stage ^ 1, kt + 1);
    commit();
    wait_pending<1>();  // this tile's copies are done (the next tile's may still run)
    __syncthreads();
#pragma unroll
    for (int kk = 0; kk < kTileK; kk += 8) {
      uint32_t a_big[2][4], a_small[2][4], b_big[4][2], b_small[4][2];
#pragma unroll
      for (int mt = 0; mt < 2; ++mt) {
        const int row = wm + mt * 16 + g;
        split(a_tile[stage][row][kk + t], a_big[mt][0], a_small[mt][0]);
        split(a_tile[stage][row + 8][kk + t], a_big[mt][1], a_small[mt][1]);
        split(a_tile[stage][row][kk + t + 4], a_big[mt][2], a_small[mt][2]);
        split(a_tile[stage][row + 8][kk + t + 4], a_big[mt][3], a_small[mt][3]);
      }
#pragma unroll
      for (int nt = 0; nt < 4; ++nt) {
        const int col = wn + nt * 8 + g;
        split(b_tile[stage][col][kk + t], b_big[nt][0], b_small[nt][0]);
        split(b_tile[stage][col][kk + t + 4], b_big[nt][1], b_small[nt][1]);
      }
#pragma unroll
      for (int mt = 0; mt < 2; ++mt)
#pragma unroll
        for (int nt = 0; nt < 4; ++nt) {
          mma(acc[mt][nt], a_small[mt], b_big[nt]);
          mma(acc[mt][nt], a_big[mt], b_small[nt]);
          mma(acc[mt][nt], a_big[mt], b_big[nt]);
        }
    }
    __syncthreads();  // everyone is done with this stage before it is loaded again
  }

  const int plane = p.out_h * p.out_w;
#pragma unroll
  for (int mt = 0; mt < 2; ++mt)
#pragma unroll
    for (int half = 0; half < 2; ++half) {
      const int64_t m = m0 + wm + mt * 16 + g + half * 8;
      if (m >= p.m) continue;
      const int img = static_cast<int>(m / plane);
      const int rest = static_cast<int>(m - int64_t{img} * plane);
      const int oh = rest / p.out_w, ow = rest % p.out_w;
#pragma unroll
      for (int nt = 0; nt < 4; ++nt)
#pragma unroll
        for (int j = 0; j < 2; ++j) {
          const int c = n0 + wn + nt * 8 + 2 * t + j;
          if (c >= p.out_c) continue;
          const float v = acc[mt][nt][half * 2 + j];
          if (partial)
            partial[(int64_t{blockIdx.z} * p.m + m) * p.out_c + c] = v;
          else
            finish(e, img, oh, ow, c, v);
        }
    }
}

// The split-K sums: one thread per output element, channel fastest.
__global__ void tf32x3_reduce_kernel(const float* partial, int splits, int64_t m_count, int out_c, int out_h,
                                     int out_w, Epilogue e) {
  const int64_t i = int64_t{blockIdx.x} * blockDim.x + threadIdx.x;
  if (i >= m_count * out_c) return;
  float v = 0.f;
  for (int s = 0; s < splits; ++s) v += partial[s * m_count * out_c + i];
  const int c = static_cast<int>(i % out_c);
  const int64_t m = i / out_c;
  const int plane = out_h * out_w;
  const int img = static_cast<int>(m / plane);
  const int rest = static_cast<int>(m - int64_t{img} * plane);
  finish(e, img, rest / out_w, rest % out_w, c, v);
}

bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15) == 0; }

int k_tiles_per_split(int k, int splits) {
  const int tiles = (k + kTileK - 1) / kTileK;
  return (tiles + splits - 1) / splits;
}

}  // namespace

std::string Tf32x3Config::name() const {
  char buf[32];
  if (splits > 1)
    std::snprintf(buf, sizeof(buf), "%dx64s%d", tile_m, splits);
  else
    std::snprintf(buf, sizeof(buf), "%dx64", tile_m);
  return buf;
}

bool parse_tf32x3_config(const std::string& name, Tf32x3Config* config) {
  for (int tile_m : {64, 128})
    for (int splits : {1, 2, 4, 8, 16}) {
      const Tf32x3Config c{tile_m, splits};
      if (c.name() == name) {
        *config = c;
        return true;
      }
    }
  return false;
}

bool tf32x3_possible(const View& x, int channels, const View& y, const View* residual, const ConvShape& shape,
                     Activation act) {
  const bool residual_ok = !residual || (residual->type == StorageType::f32 && residual->strides[1] == 1);
  return x.type == StorageType::f32 && y.type == StorageType::f32 && residual_ok && shape.group == 1 &&
         x.strides[1] == 1 && y.strides[1] == 1 && channels % 4 == 0 && channels > 0 && x.strides[3] % 4 == 0 &&
         x.strides[2] % 4 == 0 && x.strides[0] % 4 == 0 && aligned16(x.data) &&
         (act.kind == ActivationKind::none || act.kind == ActivationKind::relu);
}

size_t tf32x3_workspace_bytes(const View& y, const Tf32x3Config& config) {
  if (config.splits <= 1) return 0;
  return size_t(config.splits) * size_t(y.dims[0]) * y.dims[2] * y.dims[3] * y.dims[1] * sizeof(float);
}

void launch_tf32x3_conv(const View& x, int channels, const float* weight, const float* bias, const View* residual,
                        const View& y, const ConvShape& shape, Activation act, const Tf32x3Config& config,
                        void* workspace, cudaStream_t stream) {
  Problem p{};
  p.x = static_cast<const float*>(x.data);
  static_cast<ConvGeometry&>(p) = conv_geometry(x, channels, y, shape);
  p.k = p.kh * p.kw * channels;
  const int splits = config.splits > 1 ? config.splits : 1;
  p.k_tiles_per_split = k_tiles_per_split(p.k, splits);
  p.w = weight;
  Epilogue e{};
  e.bias = bias;
  e.has_residual = residual != nullptr;
  if (residual) e.residual = *residual;
  e.y = y;
  e.relu = act.kind == ActivationKind::relu;
  if (p.m == 0 || p.out_c == 0) return;
  float* partial = splits > 1 ? static_cast<float*>(workspace) : nullptr;
  const dim3 grid(static_cast<unsigned>((p.m + config.tile_m - 1) / config.tile_m),
                  static_cast<unsigned>((p.out_c + kTileN - 1) / kTileN), static_cast<unsigned>(splits));
  if (config.tile_m == 64)
    tf32x3_conv_kernel<64><<<grid, 128, 0, stream>>>(p, e, partial);
  else
    tf32x3_conv_kernel<128><<<grid, 256, 0, stream>>>(p, e, partial);
  if (partial) {
    const int64_t n = p.m * p.out_c;
    tf32x3_reduce_kernel<<<static_cast<unsigned>((n + 255) / 256), 256, 0, stream>>>(partial, splits, p.m, p.out_c,
                                                                                       p.out_h, p.out_w, e);
  }
}

}  // namespace crowdrt::cuda
