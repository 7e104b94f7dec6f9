#include "vision/cuda/cuda_network_input.h"

#include <cuda_runtime.h>

#include <cmath>
#include <cstring>
#include <utility>
#include <vector>

#include "core/error.h"
#include "vision/cuda/cuda_dis_flow.h"

namespace crowdrt::vision {
namespace {

void check(cudaError_t status, const char* what) {
  if (status == cudaSuccess) return;
  cudaGetLastError();
  if (status == cudaErrorMemoryAllocation)
    throw Error(cat("GPU frame input: out of GPU memory (", what, "); free GPU memory or use --flow-device cpu"));
  throw Error(cat("GPU frame input: ", what, ": ", cudaGetErrorString(status)));
}

// One destination column or row of cv::resize(INTER_LINEAR) on 8-bit images (OpenCV 4.6, resize.cpp): the first
// source index, its fixed-point weights (INTER_RESIZE_COEF_SCALE 2048), and for columns whether only the first
// source pixel is read (past the last source column, HResizeLinear's S[sx] * ONE).
struct Tap {
  int source;
  short w0, w1;
  int single;
};

short fixed_weight(float w) { return static_cast<short>(std::lrint(w * 2048.0f)); }

std::vector<Tap> resize_taps(int ssize, int dsize, bool columns) {
  const double scale = 1.0 / (static_cast<double>(dsize) / ssize);
  std::vector<Tap> taps(dsize);
  for (int d = 0; d < dsize; ++d) {
    float f = static_cast<float>((d + 0.5) * scale - 0.5);
    int s = static_cast<int>(std::floor(f));
    f -= s;
    int single = 0;
    if (columns) {
      if (s < 0) f = 0, s = 0;
      if (s + 1 >= ssize) {
        single = 1;
        if (s >= ssize - 1) f = 0, s = ssize - 1;
      }
    }
    taps[d] = {s, fixed_weight(1.0f - f), fixed_weight(f), single};
  }
  return taps;
}

__device__ inline int clampi(int v, int lo, int hi) { return v < lo ? lo : (v > hi ? hi : v); }

// The resized frame (cv::resize's two passes in fixed point; the vertical pass as OpenCV's SSE loop computes it for
// the first width*3 - (width*3) % 16 values of a row and as its scalar tail after), the seed's RGB / 255 planes and
// its gray: COLOR_BGR2GRAY on the RGB image with OpenCV 4.x's 15-bit weights (R 9798, G 19235, B 3735, rounded),
// so R gets the blue weight and B the red one.
__global__ void frame_to_input(const uint8_t* src, size_t pitch, int sw, int sh, const Tap* xtaps, const Tap* ytaps,
                               int dw, int dh, float* out, uint8_t* gray) {
  int x = blockIdx.x * blockDim.x + threadIdx.x, y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x >= dw || y >= dh) return;
  const Tap tx = xtaps[x], ty = ytaps[y];
  const uint8_t* r0 = src + static_cast<size_t>(clampi(ty.source, 0, sh - 1)) * pitch;
  const uint8_t* r1 = src + static_cast<size_t>(clampi(ty.source + 1, 0, sh - 1)) * pitch;
  const int simd_end = 3 * dw - (3 * dw) % 16;
  int bgr[3];
  for (int c = 0; c < 3; ++c) {
    const int sx = 3 * tx.source + c;
    int h0, h1;
    if (tx.single) {
      h0 = r0[sx] * 2048;
      h1 = r1[sx] * 2048;
    } else {
      h0 = r0[sx] * tx.w0 + r0[sx + 3] * tx.w1;
      h1 = r1[sx] * tx.w0 + r1[sx + 3] * tx.w1;
    }
    int v;
    if (3 * x + c < simd_end) {
      const int a = static_cast<short>(max(-32768, min(32767, h0 >> 4))),
                b = static_cast<short>(max(-32768, min(32767, h1 >> 4)));
      v = (((a * ty.w0) >> 16) + ((b * ty.w1) >> 16) + 2) >> 2;
    } else {
      v = (h0 * ty.w0 + h1 * ty.w1 + (1 << 21)) >> 22;
    }
    bgr[c] = clampi(v, 0, 255);
  }
  const size_t plane = static_cast<size_t>(dw) * dh, idx = static_cast<size_t>(y) * dw + x;
  out[idx] = __fdiv_rn(static_cast<float>(bgr[2]), 255.0f);
  out[plane + idx] = __fdiv_rn(static_cast<float>(bgr[1]), 255.0f);
  out[2 * plane + idx] = __fdiv_rn(static_cast<float>(bgr[0]), 255.0f);
  if (gray) gray[idx] = static_cast<uint8_t>((bgr[2] * 3735 + bgr[1] * 19235 + bgr[0] * 9798 + (1 << 14)) >> 15);
}

// Flow (interleaved x, y) into the planes 3 and 4 of the network input.
__global__ void pack_flow(const float2* flow, int n, float* planes) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  float2 f = flow[i];
  planes[i] = f.x;
  planes[n + i] = f.y;
}

template <class T>
struct Device {
  T* p = nullptr;
  size_t count = 0;
  void ensure(size_t n, const char* what) {
    if (n <= count) return;
    if (p) cudaFree(p);
    p = nullptr;
    count = 0;
    check(cudaMalloc(reinterpret_cast<void**>(&p), n * sizeof(T)), what);
    count = n;
  }
  ~Device() {
    if (p) cudaFree(p);
  }
};

}  // namespace

struct CudaNetworkInput::Impl {
  int width, height, channels;
  cudaStream_t stream;
  std::unique_ptr<CudaDisFlow> flow;
  Device<uint8_t> gray, frame;
  Device<Tap> taps;
  // Two pinned buffers: the frame after the next is copied into one while the other may still be in flight.
  struct Pinned {
    uint8_t* p = nullptr;
    size_t bytes = 0;
    cudaEvent_t uploaded = nullptr;
  } pinned[2];
  int next_pinned = 0;
  int source_width = 0, source_height = 0;

  bool own_stream = false;
  Device<float> host_path_buffer;  // next_to_host's device copy of the network input

  Impl(int w, int h, int c, FlowPreset preset, cudaStream_t s) : width(w), height(h), channels(c), stream(s) {
    require_cuda_device();
    if (!stream) {
      check(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "creating a stream");
      own_stream = true;
    }
    if (c != 3 && c != 5) throw Error(cat(c, " input channels: crowdrt feeds 3 (RGB) or 5 (RGB + optical flow)"));
    if (w <= 0 || h <= 0) throw Error(cat("network size ", w, "x", h, ": must be positive"));
    if (c == 5) {
      if (preset == FlowPreset::none)
        throw Error("5-channel input needs optical flow: choose --flow ultrafast, fast or medium");
      flow = std::make_unique<CudaDisFlow>(preset, w, h, s);
      gray.ensure(static_cast<size_t>(w) * h, "allocating the gray frame");
    }
    for (Pinned& b : pinned) check(cudaEventCreateWithFlags(&b.uploaded, cudaEventDisableTiming), "creating an event");
  }
  ~Impl() {
    for (Pinned& b : pinned) {
      if (b.uploaded) cudaEventSynchronize(b.uploaded), cudaEventDestroy(b.uploaded);
      if (b.p) cudaFreeHost(b.p);
    }
    flow.reset();
    if (own_stream) cudaStreamDestroy(stream);
  }

  void next(const uint8_t* bgr, int sw, int sh, size_t row_bytes, float* destination) {
    if (!bgr || sw <= 0 || sh <= 0) throw Error(cat("frame: empty (", sw, "x", sh, "); pass an 8-bit BGR image"));
    if (row_bytes == 0) row_bytes = static_cast<size_t>(sw) * 3;
    if (row_bytes < static_cast<size_t>(sw) * 3)
      throw Error(cat("frame: row_bytes ", row_bytes, " is less than width x 3 = ", static_cast<size_t>(sw) * 3));
    if (!destination) throw Error("GPU frame input: no destination buffer");
    const size_t row = static_cast<size_t>(sw) * 3, bytes = row * sh;
    Pinned& b = pinned[next_pinned];
    next_pinned = 1 - next_pinned;
    check(cudaEventSynchronize(b.uploaded), "waiting for an earlier upload");
    if (b.bytes < bytes) {
      if (b.p) cudaFreeHost(b.p);
      b.p = nullptr;
      b.bytes = 0;
      check(cudaMallocHost(reinterpret_cast<void**>(&b.p), bytes), "allocating pinned memory for the frame");
      b.bytes = bytes;
    }
    for (int y = 0; y < sh; ++y) std::memcpy(b.p + y * row, bgr + y * row_bytes, row);
    frame.ensure(bytes, "allocating the frame");
    if (sw != source_width || sh != source_height) {
      std::vector<Tap> x = resize_taps(sw, width, true), y = resize_taps(sh, height, false);
      x.insert(x.end(), y.begin(), y.end());
      check(cudaStreamSynchronize(stream), "waiting for the previous frame");  // its kernels read the old taps
      taps.ensure(x.size(), "allocating resize tables");
      // On the stream, waited for (x is freed at the end of this block): a cudaMemcpy from pageable memory may return
      // before its DMA ends, and the legacy stream it runs on does not order it before this non-blocking stream's
      // kernels.
      check(cudaMemcpyAsync(taps.p, x.data(), x.size() * sizeof(Tap), cudaMemcpyHostToDevice, stream),
            "uploading resize tables");
      check(cudaStreamSynchronize(stream), "uploading resize tables");
      source_width = sw, source_height = sh;
    }
    check(cudaMemcpyAsync(frame.p, b.p, bytes, cudaMemcpyHostToDevice, stream), "uploading the frame");
    check(cudaEventRecord(b.uploaded, stream), "recording the upload");
    const dim3 block(32, 8), grid((width + 31) / 32, (height + 7) / 8);
    frame_to_input<<<grid, block, 0, stream>>>(frame.p, row, sw, sh, taps.p, taps.p + width, width, height, destination,
                                               channels == 5 ? gray.p : nullptr);
    check(cudaGetLastError(), "launching the resize kernel");
    if (channels == 5) {
      flow->next(gray.p, width);
      const int n = width * height;
      pack_flow<<<(n + 255) / 256, 256, 0, stream>>>(reinterpret_cast<const float2*>(flow->flow()), n,
                                                      destination + 3 * static_cast<size_t>(n));
      check(cudaGetLastError(), "launching the packing kernel");
    }
  }
};

CudaNetworkInput::CudaNetworkInput(int width, int height, int channels, FlowPreset flow, CUstream_st* stream)
    : impl_(std::make_unique<Impl>(width, height, channels, flow, stream)) {}
CudaNetworkInput::~CudaNetworkInput() = default;
void CudaNetworkInput::start_sequence() {
  if (impl_->flow) impl_->flow->start_sequence();
}
void CudaNetworkInput::next(const uint8_t* bgr, int width, int height, size_t row_bytes, float* destination) {
  impl_->next(bgr, width, height, row_bytes, destination);
}
void CudaNetworkInput::next_to_host(const uint8_t* bgr, int width, int height, size_t row_bytes, float* host) {
  Impl& d = *impl_;
  const size_t n = static_cast<size_t>(d.channels) * d.width * d.height;
  d.host_path_buffer.ensure(n, "allocating the network input");
  d.next(bgr, width, height, row_bytes, d.host_path_buffer.p);
  check(cudaMemcpyAsync(host, d.host_path_buffer.p, n * sizeof(float), cudaMemcpyDeviceToHost, d.stream),
        "copying the network input to the host");
  check(cudaStreamSynchronize(d.stream), "preparing the frame");
}
int CudaNetworkInput::width() const { return impl_->width; }
int CudaNetworkInput::height() const { return impl_->height; }
int CudaNetworkInput::channels() const { return impl_->channels; }

}  // namespace crowdrt::vision
