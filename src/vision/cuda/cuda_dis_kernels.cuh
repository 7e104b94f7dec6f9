// The kernels of CudaDisFlow, one per step of OpenCV 4.6's DIS (modules/video/src/dis_flow.cpp and
// variational_refinement.cpp), each evaluating its arithmetic in OpenCV's order. This file is compiled with
// --fmad=false: OpenCV's x86 build (SSE2 baseline) rounds every product and sum on its own.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

namespace crowdrt::vision::dis_kernels {

// OpenCV's cvRound / saturate_cast<uchar>(float): round half to even, then clamp.
__device__ inline uint8_t saturate_u8(float v) {
  int i = __float2int_rn(v);
  return static_cast<uint8_t>(i < 0 ? 0 : (i > 255 ? 255 : i));
}
__device__ inline int clampi(int v, int lo, int hi) { return v < lo ? lo : (v > hi ? hi : v); }

// ---- pyramid -----------------------------------------------------------------------------------------------
// cv::resize(INTER_AREA) of 8-bit images by an integer factor: the 2x2 path rounds (sum + 2) >> 2, larger
// factors round sum * (1 / area) half to even.
__global__ void area_integer_u8(const uint8_t* src, size_t src_pitch, uint8_t* dst, int dw, int dh, int factor) {
  int x = blockIdx.x * blockDim.x + threadIdx.x, y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x >= dw || y >= dh) return;
  int sum = 0;
  for (int r = 0; r < factor; ++r) {
    const uint8_t* row = src + static_cast<size_t>(y * factor + r) * src_pitch + x * factor;
    for (int c = 0; c < factor; ++c) sum += row[c];
  }
  uint8_t v;
  if (factor == 2) v = static_cast<uint8_t>((sum + 2) >> 2);
  else v = saturate_u8(static_cast<float>(sum) * (1.0f / static_cast<float>(factor * factor)));
  dst[static_cast<size_t>(y) * dw + x] = v;
}

// One destination coordinate's source cells in cv::resize(INTER_AREA) with a non-integer factor
// (computeResizeAreaTab): `count` entries from `first` of (source index, weight).
struct AreaSpan {
  int first, count;
};
__global__ void area_general_u8(const uint8_t* src, size_t src_pitch, uint8_t* dst, int dw, int dh,
                                const AreaSpan* xspan, const AreaSpan* yspan, const int* index, const float* weight) {
  int x = blockIdx.x * blockDim.x + threadIdx.x, y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x >= dw || y >= dh) return;
  AreaSpan xs = xspan[x], ys = yspan[y];
  float sum = 0.0f;
  for (int r = 0; r < ys.count; ++r) {
    const uint8_t* row = src + static_cast<size_t>(index[ys.first + r]) * src_pitch;
    float buf = 0.0f;
    for (int c = 0; c < xs.count; ++c) buf += row[index[xs.first + c]] * weight[xs.first + c];
    float beta = weight[ys.first + r];
    sum = r == 0 ? beta * buf : sum + beta * buf;
  }
  dst[static_cast<size_t>(y) * dw + x] = saturate_u8(sum);
}

// cv::spatialGradient: 3x3 Sobel, BORDER_REFLECT_101, int16.
__global__ void sobel_gradient(const uint8_t* img, int w, int h, int16_t* gx, int16_t* gy) {
  int x = blockIdx.x * blockDim.x + threadIdx.x, y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x >= w || y >= h) return;
  auto reflect = [](int i, int n) { return i < 0 ? -i : (i >= n ? 2 * n - 2 - i : i); };
  int xm = reflect(x - 1, w), xp = reflect(x + 1, w), ym = reflect(y - 1, h), yp = reflect(y + 1, h);
  auto p = [&](int yy, int xx) { return static_cast<int>(img[yy * w + xx]); };
  int dx = (p(ym, xp) - p(ym, xm)) + 2 * (p(y, xp) - p(y, xm)) + (p(yp, xp) - p(yp, xm));
  int dy = (p(yp, xm) - p(ym, xm)) + 2 * (p(yp, x) - p(ym, x)) + (p(yp, xp) - p(ym, xp));
  gx[y * w + x] = static_cast<int16_t>(dx);
  gy[y * w + x] = static_cast<int16_t>(dy);
}

// ---- structure tensor (precomputeStructureTensor): sliding sums, as OpenCV accumulates them -------------------
// Planes of `aux` and `out`: xx, yy, xy, x, y. One thread per row; a block's rows are first copied into shared memory
// (coalesced), since each thread then walks its row sequentially, as OpenCV's loop does. kTensorRows rows per block.
constexpr int kTensorRows = 16;
__global__ void tensor_rows(const int16_t* __restrict__ gx, const int16_t* __restrict__ gy, int w, int h, int ws,
                            int psz, int stride, float* __restrict__ aux) {
  extern __shared__ int16_t rows[];  // kTensorRows rows of gx, then of gy
  const int first = blockIdx.x * kTensorRows, count = min(kTensorRows, h - first);
  for (int e = threadIdx.x; e < count * w; e += blockDim.x) {
    rows[e] = gx[static_cast<size_t>(first) * w + e];
    rows[kTensorRows * w + e] = gy[static_cast<size_t>(first) * w + e];
  }
  __syncthreads();
  if (static_cast<int>(threadIdx.x) >= count) return;
  const int i = first + threadIdx.x;
  const size_t plane = static_cast<size_t>(h) * ws;
  const int16_t* xr = rows + threadIdx.x * w;
  const int16_t* yr = rows + (kTensorRows + threadIdx.x) * w;
  float sxx = 0, syy = 0, sxy = 0, sx = 0, sy = 0;
  for (int j = 0; j < psz; ++j) {
    int a = xr[j], b = yr[j];
    sxx += a * a; syy += b * b; sxy += a * b; sx += a; sy += b;
  }
  float* o = aux + static_cast<size_t>(i) * ws;
  o[0] = sxx; o[plane] = syy; o[2 * plane] = sxy; o[3 * plane] = sx; o[4 * plane] = sy;
  int js = 1;
#pragma unroll 4
  for (int j = psz; j < w; ++j) {
    int a = xr[j], b = yr[j], a0 = xr[j - psz], b0 = yr[j - psz];
    sxx += (a * a - a0 * a0); syy += (b * b - b0 * b0); sxy += (a * b - a0 * b0); sx += (a - a0); sy += (b - b0);
    if ((j - psz + 1) % stride == 0) {
      o[js] = sxx; o[plane + js] = syy; o[2 * plane + js] = sxy; o[3 * plane + js] = sx; o[4 * plane + js] = sy;
      ++js;
    }
  }
}
// One thread per sparse column and quantity (the five sums are independent), rows in OpenCV's order.
__global__ void tensor_cols(const float* __restrict__ aux, int h, int ws, int hs, int psz, int stride,
                            float* __restrict__ out) {
  const int t = blockIdx.x * blockDim.x + threadIdx.x;
  if (t >= 5 * ws) return;
  const int j = t % ws, k = t / ws;
  const float* __restrict__ column = aux + static_cast<size_t>(k) * h * ws + j;
  float* o = out + static_cast<size_t>(k) * hs * ws + j;
  float s = 0;
  for (int i = 0; i < psz; ++i) s += column[static_cast<size_t>(i) * ws];
  o[0] = s;
  int is = 1;
#pragma unroll 8
  for (int i = psz; i < h; ++i) {
    s += (column[static_cast<size_t>(i) * ws] - column[static_cast<size_t>(i - psz) * ws]);
    if ((i - psz + 1) % stride == 0) {
      if (is < hs) o[static_cast<size_t>(is) * ws] = s;
      ++is;
    }
  }
}

// ---- patch inverse search (PatchInverseSearch_ParBody, one pass: no spatial propagation) --------------------------
struct SearchArgs {
  const uint8_t* I0;
  const uint8_t* I1;
  const int16_t* gx;
  const int16_t* gy;
  int w, h, ws, hs, stride, iterations;
  const float* Ux;  // the dense flow this level starts from
  const float* Uy;
  const float* init_x;  // the warm start at this level, or null
  const float* init_y;
  const float* tensor;  // xx, yy, xy, x, y planes of hs x ws
  float* Sx;
  float* Sy;
};

// Four threads per 8x8 patch, thread k holding columns k and k + 4: the lanes of OpenCV's v_float32x4 sums,
// reduced as v_reduce_sum does on SSE, (l0 + l2) + (l1 + l3).
struct PatchLane {
  float i0[16], gx[16], gy[16];  // rows 0..7 at column k, then rows 0..7 at column k + 4
};

__device__ inline float lane_sum(float v, unsigned mask) {
  float a = v + __shfl_xor_sync(mask, v, 2);  // l0 + l2, l1 + l3
  return a + __shfl_xor_sync(mask, a, 1);
}

// INIT_BILINEAR_WEIGHTS: the I1 window (top-left row and column in the unbordered image) and its weights.
struct Bilinear {
  int row, col;
  float w00, w01, w10, w11;
};
__device__ inline Bilinear bilinear_at(int i, int j, float ux, float uy, int w, int h) {
  const int bsz = 16, psz = 8;
  const float lower = bsz - psz + 1.0f;
  float i1 = fminf(fmaxf(i + uy + bsz, lower), bsz + h - 1.0f);
  float j1 = fminf(fmaxf(j + ux + bsz, lower), bsz + w - 1.0f);
  Bilinear b;
  float fi = floorf(i1), fj = floorf(j1);
  b.w11 = (i1 - fi) * (j1 - fj);
  b.w10 = (i1 - fi) * (fj + 1 - j1);
  b.w01 = (fi + 1 - i1) * (j1 - fj);
  b.w00 = (fi + 1 - i1) * (fj + 1 - j1);
  b.row = static_cast<int>(i1) - bsz;
  b.col = static_cast<int>(j1) - bsz;
  return b;
}

// I_diff of one pixel: the bilinear I1 (border replicated, as I1s_ext) minus I0.
__device__ inline float patch_diff(const uint8_t* I1, int w, int h, const Bilinear& b, int r, int c, float i0) {
  int y0 = clampi(b.row + r, 0, h - 1), y1 = clampi(b.row + r + 1, 0, h - 1);
  int x0 = clampi(b.col + c, 0, w - 1), x1 = clampi(b.col + c + 1, 0, w - 1);
  float a = I1[y0 * w + x0], bb = I1[y0 * w + x1], cc = I1[y1 * w + x0], d = I1[y1 * w + x1];
  return b.w00 * a + b.w01 * bb + b.w10 * cc + b.w11 * d - i0;
}

__global__ void patch_search(SearchArgs a) {
  const int lane = threadIdx.x & 3;
  const int patch = (blockIdx.x * blockDim.x + threadIdx.x) >> 2;
  if (patch >= a.ws * a.hs) return;  // whole groups of four leave together
  const unsigned mask = 0xFu << (threadIdx.x & 28);
  const int is = patch / a.ws, js = patch % a.ws;
  const int i = is * a.stride, j = js * a.stride;
  const float n = 64.0f;

  PatchLane p;
  for (int half = 0; half < 2; ++half)
    for (int r = 0; r < 8; ++r) {
      int idx = (i + r) * a.w + j + lane + 4 * half;
      p.i0[half * 8 + r] = a.I0[idx];
      p.gx[half * 8 + r] = a.gx[idx];
      p.gy[half * 8 + r] = a.gy[idx];
    }

  // computeSSDMeanNorm
  auto ssd = [&](float ux, float uy) {
    Bilinear b = bilinear_at(i, j, ux, uy, a.w, a.h);
    float sd = 0, sq = 0;
    for (int r = 0; r < 8; ++r) {
      float dl = patch_diff(a.I1, a.w, a.h, b, r, lane, p.i0[r]);
      float dr = patch_diff(a.I1, a.w, a.h, b, r, lane + 4, p.i0[8 + r]);
      sq += dl * dl + dr * dr;
      sd += dl + dr;
    }
    float sum_diff = lane_sum(sd, mask), sum_sq = lane_sum(sq, mask);
    return sum_sq - sum_diff * sum_diff / n;
  };

  const size_t center = static_cast<size_t>(i + 4) * a.w + j + 4;
  float sx = a.Ux[center], sy = a.Uy[center];
  if (a.init_x) {
    float min_ssd = ssd(sx, sy);
    float cx = a.init_x[center], cy = a.init_y[center];
    if (ssd(cx, cy) < min_ssd) sx = cx, sy = cy;
  }
  const size_t t = static_cast<size_t>(is) * a.ws + js, plane = static_cast<size_t>(a.ws) * a.hs;
  const float xx = a.tensor[t], yy = a.tensor[plane + t], xy = a.tensor[2 * plane + t];
  const float x_grad_sum = a.tensor[3 * plane + t], y_grad_sum = a.tensor[4 * plane + t];
  float det = xx * yy - xy * xy;
  if (fabsf(det) < 0.001f) det = 0.001f;
  const float inv11 = yy / det, inv12 = -xy / det, inv22 = xx / det;

  float cur_x = sx, cur_y = sy, prev = 1e10f;
  for (int it = 0; it < a.iterations; ++it) {
    Bilinear b = bilinear_at(i, j, cur_x, cur_y, a.w, a.h);
    float sgx = 0, sgy = 0, sq = 0, sd = 0;
    for (int r = 0; r < 8; ++r) {
      float dl = patch_diff(a.I1, a.w, a.h, b, r, lane, p.i0[r]);
      float dr = patch_diff(a.I1, a.w, a.h, b, r, lane + 4, p.i0[8 + r]);
      sgx += dl * p.gx[r] + dr * p.gx[8 + r];
      sgy += dl * p.gy[r] + dr * p.gy[8 + r];
      sq += dl * dl + dr * dr;
      sd += dl + dr;
    }
    float sum_gx = lane_sum(sgx, mask), sum_gy = lane_sum(sgy, mask);
    float sum_diff = lane_sum(sd, mask), sum_sq = lane_sum(sq, mask);
    float dux = sum_gx - sum_diff * x_grad_sum / n;
    float duy = sum_gy - sum_diff * y_grad_sum / n;
    float s = sum_sq - sum_diff * sum_diff / n;
    cur_x -= inv11 * dux + inv12 * duy;
    cur_y -= inv12 * dux + inv22 * duy;
    if (s >= prev) break;
    prev = s;
  }
  if (lane == 0) {
    double ex = static_cast<double>(cur_x - sx), ey = static_cast<double>(cur_y - sy);
    bool keep = sqrt(ex * ex + ey * ey) <= 8.0;
    a.Sx[t] = keep ? cur_x : sx;
    a.Sy[t] = keep ? cur_y : sy;
  }
}

// ---- densification (Densification_ParBody) ------------------------------------------------------------------------
// The patches whose window covers `i` (rows or columns), or the last patch where none does.
__device__ inline void covering(int i, int stride, int count, int* first, int* last) {
  int hi = min(i / stride, count - 1);
  int lo = i < 8 ? 0 : (i - 8) / stride + 1;
  if (lo > hi) lo = hi;
  *first = lo;
  *last = hi;
}
__global__ void densify(const float* Sx, const float* Sy, const uint8_t* I0, const uint8_t* I1, int w, int h, int ws,
                        int hs, int stride, float* Ux, float* Uy) {
  int j = blockIdx.x * blockDim.x + threadIdx.x, i = blockIdx.y * blockDim.y + threadIdx.y;
  if (j >= w || i >= h) return;
  int is0, is1, js0, js1;
  covering(i, stride, hs, &is0, &is1);
  covering(j, stride, ws, &js0, &js1);
  float sum_coef = 0, sum_x = 0, sum_y = 0;
  const float i0 = I0[i * w + j];
  for (int is = is0; is <= is1; ++is)
    for (int js = js0; js <= js1; ++js) {
      float fx = Sx[is * ws + js], fy = Sy[is * ws + js];
      float j_m = fminf(fmaxf(j + fx, 0.0f), w - 1.0f - 0.001f);
      float i_m = fminf(fmaxf(i + fy, 0.0f), h - 1.0f - 0.001f);
      int j_l = static_cast<int>(j_m), j_u = j_l + 1, i_l = static_cast<int>(i_m), i_u = i_l + 1;
      float diff = (j_m - j_l) * (i_m - i_l) * I1[i_u * w + j_u] + (j_u - j_m) * (i_m - i_l) * I1[i_u * w + j_l] +
                   (j_m - j_l) * (i_u - i_m) * I1[i_l * w + j_u] + (j_u - j_m) * (i_u - i_m) * I1[i_l * w + j_l] - i0;
      float coef = 1 / fmaxf(1.0f, fabsf(diff));
      sum_x += coef * fx;
      sum_y += coef * fy;
      sum_coef += coef;
    }
  Ux[i * w + j] = sum_x / sum_coef;
  Uy[i * w + j] = sum_y / sum_coef;
}

// ---- bilinear sampling as cv::remap(INTER_LINEAR) with float maps: 1/32-pixel coordinates --------------------------
struct RemapPoint {
  int x, y;       // top-left source pixel
  float w[4];     // (1-fy)(1-fx), (1-fy)fx, fy(1-fx), fy fx
};
__device__ inline RemapPoint remap_point(float mx, float my) {
  int X = __float2int_rn(mx * 32.0f), Y = __float2int_rn(my * 32.0f);
  RemapPoint p;
  p.x = clampi(X >> 5, -32768, 32767);
  p.y = clampi(Y >> 5, -32768, 32767);
  float fx = (X & 31) * (1.0f / 32), fy = (Y & 31) * (1.0f / 32);
  p.w[0] = (1.0f - fy) * (1.0f - fx);
  p.w[1] = (1.0f - fy) * fx;
  p.w[2] = fy * (1.0f - fx);
  p.w[3] = fy * fx;
  return p;
}

// The previous flow warped by itself (crowdrt's warp_flow_by_itself: map = (x - fx, y - fy), BORDER_CONSTANT 0).
__global__ void warp_flow_by_itself(const float2* flow, int w, int h, float2* out) {
  int x = blockIdx.x * blockDim.x + threadIdx.x, y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x >= w || y >= h) return;
  float2 f = flow[y * w + x];
  RemapPoint p = remap_point(static_cast<float>(x) - f.x, static_cast<float>(y) - f.y);
  float2 r;
  if (p.x >= w || p.x + 1 < 0 || p.y >= h || p.y + 1 < 0) {
    r = make_float2(0, 0);
  } else {
    auto at = [&](int yy, int xx) {
      return (xx >= 0 && xx < w && yy >= 0 && yy < h) ? flow[yy * w + xx] : make_float2(0, 0);
    };
    float2 v0 = at(p.y, p.x), v1 = at(p.y, p.x + 1), v2 = at(p.y + 1, p.x), v3 = at(p.y + 1, p.x + 1);
    r.x = v0.x * p.w[0] + v1.x * p.w[1] + v2.x * p.w[2] + v3.x * p.w[3];
    r.y = v0.y * p.w[0] + v1.y * p.w[1] + v2.y * p.w[2] + v3.y * p.w[3];
  }
  out[y * w + x] = r;
}

// ---- resizes of float planes ---------------------------------------------------------------------------------------
// cv::resize(INTER_LINEAR) of one float channel (element stride src_cn / dst_cn), then times `scale` (an exact power
// of two, as OpenCV's separate multiplication).
__global__ void resize_linear(const float* src, int sw, int sh, int src_cn, float* dst, int dw, int dh, int dst_cn,
                              double scale_x, double scale_y, float scale) {
  int dx = blockIdx.x * blockDim.x + threadIdx.x, dy = blockIdx.y * blockDim.y + threadIdx.y;
  if (dx >= dw || dy >= dh) return;
  float fx = static_cast<float>((dx + 0.5) * scale_x - 0.5);
  int sx = static_cast<int>(floorf(fx));
  fx -= sx;
  bool right = false;
  if (sx < 0) fx = 0, sx = 0;
  if (sx + 1 >= sw) {
    right = true;
    if (sx >= sw - 1) fx = 0, sx = sw - 1;
  }
  float fy = static_cast<float>((dy + 0.5) * scale_y - 0.5);
  int sy = static_cast<int>(floorf(fy));
  fy -= sy;
  int r0 = clampi(sy, 0, sh - 1), r1 = clampi(sy + 1, 0, sh - 1);
  float a0 = 1.0f - fx, a1 = fx, b0 = 1.0f - fy, b1 = fy;
  auto row = [&](int r) {
    const float* s = src + static_cast<size_t>(r) * sw * src_cn;
    return right ? s[sx * src_cn] * 1.0f : s[sx * src_cn] * a0 + s[(sx + 1) * src_cn] * a1;
  };
  float v = row(r0) * b0 + row(r1) * b1;
  dst[(static_cast<size_t>(dy) * dw + dx) * dst_cn] = v * scale;
}

// cv::resize of a float plane to exactly half (INTER_LINEAR becomes the fast INTER_AREA): OpenCV's SSE loop sums
// (a + b) + (c + d) for the first width - width % 4 columns, its scalar tail ((a + b) + c) + d.
__global__ void area2_f32(const float* src, int sw, int src_cn, float* dst, int dw, int dh, float scale) {
  int x = blockIdx.x * blockDim.x + threadIdx.x, y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x >= dw || y >= dh) return;
  const float* s0 = src + static_cast<size_t>(2 * y) * sw * src_cn + 2 * x * src_cn;
  const float* s1 = s0 + static_cast<size_t>(sw) * src_cn;
  float a = s0[0], b = s0[src_cn], c = s1[0], d = s1[src_cn];
  float sum = x < (dw & ~3) ? (a + b) + (c + d) : ((a + b) + c) + d;
  dst[static_cast<size_t>(y) * dw + x] = (sum * 0.25f) * scale;
}

// ---- variational refinement (VariationalRefinementImpl::calcUV) ----------------------------------------------------
// Planes of the refinement's scratch, each w x h: the derivatives, then the state the fixed-point iterations update.
// The increments have two copies: the tiled SOR reads one and writes the other, so that no tile reads a neighbour's
// cells after that neighbour has written them (tiles of one launch run in any order).
enum VrPlane {
  kIx,
  kIy,
  kIz,
  kIxx,
  kIxy,
  kIyy,
  kIxz,
  kIyz,
  kAvg,
  kA11,
  kA12,
  kA22,
  kB1,
  kB2,
  kWeight,
  kDU,
  kDV,
  kDU2,
  kDV2,
  kVrPlanes
};

struct VrArgs {
  const uint8_t* I0;
  const uint8_t* I1;
  float* Wu;  // the flow being refined (read throughout, W + dW written at the end)
  float* Wv;
  float* scratch;  // kVrPlanes planes
  int w, h;
  size_t plane;
  float alpha, gamma, delta;
  int du_plane = kDU, dv_plane = kDV;  // the current increments (kDU / kDV or kDU2 / kDV2)
  __device__ float* at(int p) const { return scratch + p * plane; }
};

// The linear system, the smoothness weights and the current increments.
struct VrState {
  float *a11, *a12, *a22, *b1, *b2, *weight, *du, *dv;
};

// warpImage (remap of float(I1), BORDER_REPLICATE), the average with I0 and the temporal derivative Iz;
// the increments start at zero.
__global__ void vr_prepare(VrArgs a) {
  int x = blockIdx.x * blockDim.x + threadIdx.x, y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x >= a.w || y >= a.h) return;
  const int idx = y * a.w + x;
  RemapPoint p = remap_point(static_cast<float>(x) + a.Wu[idx], static_cast<float>(y) + a.Wv[idx]);
  int x0 = clampi(p.x, 0, a.w - 1), x1 = clampi(p.x + 1, 0, a.w - 1);
  int y0 = clampi(p.y, 0, a.h - 1), y1 = clampi(p.y + 1, 0, a.h - 1);
  float v0 = a.I1[y0 * a.w + x0], v1 = a.I1[y0 * a.w + x1], v2 = a.I1[y1 * a.w + x0], v3 = a.I1[y1 * a.w + x1];
  float warped = v0 * p.w[0] + v1 * p.w[1] + v2 * p.w[2] + v3 * p.w[3];
  float i0 = a.I0[idx];
  a.at(kAvg)[idx] = i0 * 0.5f + warped * 0.5f;
  a.at(kIz)[idx] = warped - i0;
  a.at(kDU)[idx] = 0.0f;
  a.at(kDV)[idx] = 0.0f;
}

// Sobel(ksize 1, BORDER_REPLICATE): I(x + 1) - I(x - 1), or the same along y.
__device__ inline float diff_x(const float* p, int w, int x, int y) {
  return p[y * w + min(x + 1, w - 1)] - p[y * w + max(x - 1, 0)];
}
__device__ inline float diff_y(const float* p, int w, int h, int x, int y) {
  return p[min(y + 1, h - 1) * w + x] - p[max(y - 1, 0) * w + x];
}
__global__ void vr_first_derivatives(VrArgs a) {
  int x = blockIdx.x * blockDim.x + threadIdx.x, y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x >= a.w || y >= a.h) return;
  const int idx = y * a.w + x;
  a.at(kIx)[idx] = diff_x(a.at(kAvg), a.w, x, y);
  a.at(kIy)[idx] = diff_y(a.at(kAvg), a.w, a.h, x, y);
  a.at(kIxz)[idx] = diff_x(a.at(kIz), a.w, x, y);
  a.at(kIyz)[idx] = diff_y(a.at(kIz), a.w, a.h, x, y);
}
__global__ void vr_second_derivatives(VrArgs a) {
  int x = blockIdx.x * blockDim.x + threadIdx.x, y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x >= a.w || y >= a.h) return;
  const int idx = y * a.w + x;
  a.at(kIxx)[idx] = diff_x(a.at(kIx), a.w, x, y);
  a.at(kIxy)[idx] = diff_y(a.at(kIx), a.w, a.h, x, y);
  a.at(kIyy)[idx] = diff_y(a.at(kIy), a.w, a.h, x, y);
}

// The smoothness weight of pixel (x, y) from the current flow W + dW (OpenCV's tempW) and its forward differences,
// borders replicated (ComputeSmoothnessTermHorPass).
__device__ inline float smoothness_weight(const VrArgs& a, const VrState& s, int x, int y) {
  const int idx = y * a.w + x, r = y * a.w + min(x + 1, a.w - 1), d = min(y + 1, a.h - 1) * a.w + x;
  const float u = a.Wu[idx] + s.du[idx], v = a.Wv[idx] + s.dv[idx];
  float ux = (a.Wu[r] + s.du[r]) - u, vx = (a.Wv[r] + s.dv[r]) - v;
  float uy = (a.Wu[d] + s.du[d]) - u, vy = (a.Wv[d] + s.dv[d]) - v;
  const float eps2 = 0.001f * 0.001f;
  return (a.alpha / 2) / sqrtf(ux * ux + vx * vx + uy * uy + vy * vy + eps2);
}

// The linear system of one pixel: the data term (ComputeDataTerm_ParBody), then the smoothness edges added in the
// order OpenCV's four passes (horizontal red, black, vertical red, black) reach this pixel. Writes the pixel's own
// smoothness weight for the SOR; its left and upper neighbours' weights are computed again here.
__device__ inline void system_at(const VrArgs& a, const VrState& s, int x, int y) {
  const int idx = y * a.w + x;
  const float zeta2 = 0.1f * 0.1f, eps2 = 0.001f * 0.001f, gamma2 = a.gamma / 2, delta2 = a.delta / 2;
  const float Ix = a.at(kIx)[idx], Iy = a.at(kIy)[idx], Iz = a.at(kIz)[idx];
  const float Ixx = a.at(kIxx)[idx], Ixy = a.at(kIxy)[idx], Iyy = a.at(kIyy)[idx];
  const float Ixz = a.at(kIxz)[idx], Iyz = a.at(kIyz)[idx];
  const float dU = s.du[idx], dV = s.dv[idx];

  float norm = Ix * Ix + Iy * Iy + zeta2;
  float ik1z = Iz + Ix * dU + Iy * dV;
  float weight = (delta2 / sqrtf(ik1z * ik1z / norm + eps2)) / norm;
  float a11 = weight * (Ix * Ix) + zeta2;
  float a12 = weight * (Ix * Iy);
  float a22 = weight * (Iy * Iy) + zeta2;
  float b1 = -weight * (Iz * Ix);
  float b2 = -weight * (Iz * Iy);

  norm = Ixx * Ixx + Ixy * Ixy + zeta2;
  float norm2 = Iyy * Iyy + Ixy * Ixy + zeta2;
  float ik1zx = Ixz + Ixx * dU + Ixy * dV;
  float ik1zy = Iyz + Ixy * dU + Iyy * dV;
  weight = gamma2 / sqrtf(ik1zx * ik1zx / norm + ik1zy * ik1zy / norm2 + eps2);
  a11 += weight * (Ixx * Ixx / norm + Ixy * Ixy / norm2);
  a12 += weight * (Ixx * Ixy / norm + Ixy * Iyy / norm2);
  a22 += weight * (Ixy * Ixy / norm + Iyy * Iyy / norm2);
  b1 += -weight * (Ixx * Ixz / norm + Ixy * Iyz / norm2);
  b2 += -weight * (Ixy * Ixz / norm + Iyy * Iyz / norm2);

  const float* Wu = a.Wu;
  const float* Wv = a.Wv;
  const float wp = smoothness_weight(a, s, x, y);
  // Each edge adds its weight to both ends and w * (W[q] - W[p]) to p, the opposite to q, where p is the edge's
  // left or upper pixel, whose weight the edge carries.
  auto right = [&]() {
    if (x + 1 < a.w) {
      a11 += wp; a22 += wp;
      b1 += wp * (Wu[idx + 1] - Wu[idx]);
      b2 += wp * (Wv[idx + 1] - Wv[idx]);
    }
  };
  auto left = [&]() {
    if (x > 0) {
      float wl = smoothness_weight(a, s, x - 1, y);
      a11 += wl; a22 += wl;
      b1 -= wl * (Wu[idx] - Wu[idx - 1]);
      b2 -= wl * (Wv[idx] - Wv[idx - 1]);
    }
  };
  auto down = [&]() {
    if (y + 1 < a.h) {
      a11 += wp; a22 += wp;
      b1 += wp * (Wu[idx + a.w] - Wu[idx]);
      b2 += wp * (Wv[idx + a.w] - Wv[idx]);
    }
  };
  auto up = [&]() {
    if (y > 0) {
      float wu = smoothness_weight(a, s, x, y - 1);
      a11 += wu; a22 += wu;
      b1 -= wu * (Wu[idx] - Wu[idx - a.w]);
      b2 -= wu * (Wv[idx] - Wv[idx - a.w]);
    }
  };
  if (((x + y) & 1) == 0) {  // red: its own passes come first
    right(); left(); down(); up();
  } else {
    left(); right(); up(); down();
  }
  s.a11[idx] = a11;
  s.a12[idx] = a12;
  s.a22[idx] = a22;
  s.b1[idx] = b1;
  s.b2[idx] = b2;
  s.weight[idx] = wp;
}

// One pixel's update in a red-black SOR pass (RedBlackSOR_ParBody, omega 1.6): the neighbours' weights and
// increments are zero where the neighbour lies outside the frame.
__device__ inline void sor_update(float wp, float wl, float dul, float dvl, float dur, float dvr, float wu, float duu,
                                  float dvu, float dud, float dvd, float a11, float a12, float a22, float b1, float b2,
                                  float* du, float* dv) {
  float sigma_u = wl * dul + wp * dur + wu * duu + wp * dud;
  float sigma_v = wl * dvl + wp * dvr + wu * dvu + wp * dvd;
  const float omega = 1.6f;
  float u = *du, v = *dv;
  u += omega * ((sigma_u + b1 - v * a12) / a11 - u);
  v += omega * ((sigma_v + b2 - u * a12) / a22 - v);
  *du = u;
  *dv = v;
}

__device__ inline VrState global_state(const VrArgs& a) {
  return {a.at(kA11), a.at(kA12), a.at(kA22), a.at(kB1), a.at(kB2), a.at(kWeight), a.at(a.du_plane), a.at(a.dv_plane)};
}

__global__ void vr_system(VrArgs a) {
  int x = blockIdx.x * blockDim.x + threadIdx.x, y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x >= a.w || y >= a.h) return;
  system_at(a, global_state(a), x, y);
}
// Every SOR pass of one fixed-point iteration (2 x sor_iterations colour passes, at most 2 x kSorHalo / 2) on one
// tile: the tile and a halo of one cell per pass are loaded into shared memory, and every pass updates the whole
// region. A halo cell's inputs from beyond the region are missing, so wrong values creep in by one cell per pass;
// after all passes they have not reached the tile, whose cells hold exactly what pass-by-pass launches give.
constexpr int kSorTileW = 32, kSorTileH = 16, kSorHalo = 10;
constexpr int kSorRegionW = kSorTileW + 2 * kSorHalo, kSorRegionH = kSorTileH + 2 * kSorHalo;
static_assert(kSorRegionW % 2 == 0, "vr_sor_tiled walks one colour as every other cell of a row");
constexpr size_t kSorSharedBytes = sizeof(float) * 8 * kSorRegionW * kSorRegionH;

// Reads the increments of a.du_plane / a.dv_plane and writes the tile's results into out_du / out_dv.
__global__ void vr_sor_tiled(VrArgs a, int passes, float* __restrict__ out_du, float* __restrict__ out_dv) {
  extern __shared__ float shared[];
  constexpr int n = kSorRegionW * kSorRegionH;
  float* a11 = shared;
  float* a12 = a11 + n;
  float* a22 = a12 + n;
  float* b1 = a22 + n;
  float* b2 = b1 + n;
  float* wt = b2 + n;
  float* du = wt + n;
  float* dv = du + n;
  const VrState g = global_state(a);
  const int x0 = blockIdx.x * kSorTileW - kSorHalo, y0 = blockIdx.y * kSorTileH - kSorHalo;
  const int threads = blockDim.x * blockDim.y, tid = threadIdx.y * blockDim.x + threadIdx.x;
  for (int i = tid; i < n; i += threads) {
    const int gx = x0 + i % kSorRegionW, gy = y0 + i / kSorRegionW;
    if (gx >= 0 && gx < a.w && gy >= 0 && gy < a.h) {
      const int idx = gy * a.w + gx;
      a11[i] = g.a11[idx], a12[i] = g.a12[idx], a22[i] = g.a22[idx], b1[i] = g.b1[idx], b2[i] = g.b2[idx];
      wt[i] = g.weight[idx], du[i] = g.du[idx], dv[i] = g.dv[idx];
    } else {
      wt[i] = 0.0f, du[i] = 0.0f, dv[i] = 0.0f;
    }
  }
  __syncthreads();
  constexpr int half_w = kSorRegionW / 2;  // cells of one colour per region row (the width is even)
  for (int pass = 0; pass < passes; ++pass) {
    const int colour = pass & 1;
    for (int c = tid; c < half_w * kSorRegionH; c += threads) {
      const int ry = c / half_w, rx = 2 * (c % half_w) + ((x0 + y0 + ry + colour) & 1);
      const int gx = x0 + rx, gy = y0 + ry, i = ry * kSorRegionW + rx;
      if (gx < 0 || gx >= a.w || gy < 0 || gy >= a.h) continue;
      const bool left = gx > 0 && rx > 0, right = gx + 1 < a.w && rx + 1 < kSorRegionW;
      const bool up = gy > 0 && ry > 0, down = gy + 1 < a.h && ry + 1 < kSorRegionH;
      sor_update(wt[i], left ? wt[i - 1] : 0.0f, left ? du[i - 1] : 0.0f, left ? dv[i - 1] : 0.0f,
                 right ? du[i + 1] : 0.0f, right ? dv[i + 1] : 0.0f, up ? wt[i - kSorRegionW] : 0.0f,
                 up ? du[i - kSorRegionW] : 0.0f, up ? dv[i - kSorRegionW] : 0.0f, down ? du[i + kSorRegionW] : 0.0f,
                 down ? dv[i + kSorRegionW] : 0.0f, a11[i], a12[i], a22[i], b1[i], b2[i], &du[i], &dv[i]);
    }
    __syncthreads();
  }
  for (int i = tid; i < kSorTileW * kSorTileH; i += threads) {
    const int gx = x0 + kSorHalo + i % kSorTileW, gy = y0 + kSorHalo + i / kSorTileW;
    if (gx >= a.w || gy >= a.h) continue;
    const int r = (gy - y0) * kSorRegionW + (gx - x0);
    out_du[gy * a.w + gx] = du[r];
    out_dv[gy * a.w + gx] = dv[r];
  }
}

// W = W + dW (OpenCV's last tempW).
__global__ void vr_finish(VrArgs a) {
  int x = blockIdx.x * blockDim.x + threadIdx.x, y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x >= a.w || y >= a.h) return;
  const int idx = y * a.w + x;
  a.Wu[idx] = a.Wu[idx] + a.at(a.du_plane)[idx];
  a.Wv[idx] = a.Wv[idx] + a.at(a.dv_plane)[idx];
}

__global__ void fill_zero(float* p, size_t n) {
  size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x;
  if (i < n) p[i] = 0.0f;
}

}  // namespace crowdrt::vision::dis_kernels
