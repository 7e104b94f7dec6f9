#include "vision/cuda/cuda_dis_flow.h"

#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "vision/cuda/cuda_dis_kernels.cuh"

namespace crowdrt::vision {
namespace {

namespace k = dis_kernels;

void check(cudaError_t status, const char* what) {
  if (status == cudaSuccess) return;
  cudaGetLastError();  // clear a sticky launch error so the next call reports its own
  if (status == cudaErrorMemoryAllocation)
    throw Error(cat("GPU optical flow: out of GPU memory (", what, "); free GPU memory or use --flow-device cpu"));
  throw Error(cat("GPU optical flow: ", what, ": ", cudaGetErrorString(status)));
}

template <class T>
class DeviceArray {
 public:
  DeviceArray() = default;
  explicit DeviceArray(size_t count, const char* what) : count_(count) {
    if (count) check(cudaMalloc(reinterpret_cast<void**>(&data_), count * sizeof(T)), what);
  }
  DeviceArray(DeviceArray&& o) noexcept : data_(std::exchange(o.data_, nullptr)), count_(o.count_) {}
  DeviceArray& operator=(DeviceArray&& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(count_, o.count_);
    return *this;
  }
  ~DeviceArray() {
    if (data_) cudaFree(data_);
  }
  T* get() const { return data_; }

 private:
  T* data_ = nullptr;
  size_t count_ = 0;
};

// OpenCV's DISOpticalFlowImpl::calc: the coarsest pyramid level for a frame (integer division inside, as there).
int coarsest_scale(int w, int h, int patch_size) {
  return std::min(static_cast<int>(std::log(std::max(w, h) / (4.0 * patch_size)) / std::log(2.0) + 0.5),
                  static_cast<int>(std::log(std::min(w, h) / patch_size) / std::log(2.0)));
}

struct Level {
  int w = 0, h = 0, ws = 0, hs = 0;
  size_t offset = 0;         // element offset of this level in the per-level arrays
  size_t sparse_offset = 0;  // element offset of this level's patch grid (ws x hs) in the per-level grid arrays
};

// The levels finest..coarsest of a frame, or an empty vector when the frame is too small.
std::vector<Level> pyramid_levels(int width, int height, const DisSettings& s) {
  if (std::min(width, height) < s.patch_size) return {};
  const int coarsest = coarsest_scale(width, height, s.patch_size);
  if (coarsest < s.finest_scale) return {};
  std::vector<Level> levels(coarsest + 1);
  size_t offset = 0;
  for (int i = s.finest_scale; i <= coarsest; ++i) {
    Level& l = levels[i];
    l.w = i == s.finest_scale ? width / (1 << i) : levels[i - 1].w / 2;
    l.h = i == s.finest_scale ? height / (1 << i) : levels[i - 1].h / 2;
    if (l.w < s.patch_size || l.h < s.patch_size) return {};
    l.ws = 1 + (l.w - s.patch_size) / s.patch_stride;
    l.hs = 1 + (l.h - s.patch_size) / s.patch_stride;
    l.offset = offset;
    offset += static_cast<size_t>(l.w) * l.h;
    l.sparse_offset = i == s.finest_scale
                          ? 0
                          : levels[i - 1].sparse_offset + static_cast<size_t>(levels[i - 1].ws) * levels[i - 1].hs;
  }
  return levels;
}

// computeResizeAreaTab of OpenCV's resize.cpp: source cells and weights of each destination index.
void area_table(int ssize, int dsize, double scale, std::vector<k::AreaSpan>* spans, std::vector<int>* index,
                std::vector<float>* weight) {
  for (int dx = 0; dx < dsize; ++dx) {
    k::AreaSpan span{static_cast<int>(index->size()), 0};
    double fsx1 = dx * scale, fsx2 = fsx1 + scale;
    double cell = std::min(scale, ssize - fsx1);
    int sx1 = static_cast<int>(std::ceil(fsx1)), sx2 = static_cast<int>(std::floor(fsx2));
    sx2 = std::min(sx2, ssize - 1);
    sx1 = std::min(sx1, sx2);
    auto add = [&](int sx, double alpha) {
      index->push_back(sx);
      weight->push_back(static_cast<float>(alpha));
    };
    if (sx1 - fsx1 > 1e-3) add(sx1 - 1, (sx1 - fsx1) / cell);
    for (int sx = sx1; sx < sx2; ++sx) add(sx, 1.0 / cell);
    if (fsx2 - sx2 > 1e-3) add(sx2, std::min(std::min(fsx2 - sx2, 1.0), cell) / cell);
    span.count = static_cast<int>(index->size()) - span.first;
    spans->push_back(span);
  }
}

dim3 grid_for(int w, int h, dim3 block) { return dim3((w + block.x - 1) / block.x, (h + block.y - 1) / block.y); }

}  // namespace

void require_cuda_device() {
  int devices = 0;
  const cudaError_t status = cudaGetDeviceCount(&devices);
  if (status != cudaSuccess) {
    cudaGetLastError();
    throw Error(cat("no usable CUDA GPU here (", cudaGetErrorString(status), "); use --flow-device cpu"));
  }
  if (devices == 0) throw Error("no CUDA GPU here; use --flow-device cpu");
}

int dis_minimum_size(FlowPreset preset) {
  const DisSettings s = dis_settings(preset);
  for (int size = s.patch_size;; ++size)
    if (!pyramid_levels(size, size, s).empty()) return size;
}

struct CudaDisFlow::Impl {
  DisSettings s;
  FlowPreset preset;
  int width, height;
  cudaStream_t stream = nullptr;
  bool own_stream = false;
  std::vector<Level> levels;
  int finest = 0, coarsest = 0;
  size_t level_pixels = 0;  // sum over the levels of w * h
  size_t level_patches = 0;  // sum over the levels of ws * hs
  // The structure tensors depend on the first frame alone: a second stream computes them for every level while the
  // main one builds the new frame's pyramid and the warm start (a parallel branch in the captured graph).
  cudaStream_t side = nullptr;
  cudaEvent_t fork = nullptr, join = nullptr;

  DeviceArray<uint8_t> pyramid[2];
  DeviceArray<int16_t> grad_x[2], grad_y[2];
  DeviceArray<float> ux, uy, init_x, init_y;
  DeviceArray<float> sparse_x, sparse_y, tensor, tensor_aux, vr;
  DeviceArray<float> flow, init_full;
  // Area-resize tables, one per resize whose factor is not an integer (key: destination level; -1 unused).
  struct AreaTable {
    k::AreaSpan* xspan;
    k::AreaSpan* yspan;
    int* index;
    float* weight;
  };
  std::map<int, AreaTable> area_tables;
  DeviceArray<k::AreaSpan> area_spans;
  DeviceArray<int> area_index;
  DeviceArray<float> area_weight;

  int slot = 0;           // the pyramid slot the next frame goes into
  bool have_previous = false;
  bool graphs = true;
  cudaGraphExec_t graph[2][2] = {{nullptr, nullptr}, {nullptr, nullptr}};  // [slot][first frame]

  Impl(FlowPreset p, int w, int h, cudaStream_t st) : s(dis_settings(p)), preset(p), width(w), height(h) {
    if (p == FlowPreset::none)
      throw Error("GPU optical flow: flow preset 'none' computes no flow; choose ultrafast, fast or medium");
    require_cuda_device();
    levels = pyramid_levels(w, h, s);
    if (levels.empty())
      throw Error(cat("GPU optical flow: a ", w, "x", h, " frame is too small for DIS preset '", preset_name(),
                      "' (at least ", dis_minimum_size(p), "x", dis_minimum_size(p),
                      "); use a larger network input or another preset"));
    finest = s.finest_scale;
    coarsest = static_cast<int>(levels.size()) - 1;
    for (int i = finest; i <= coarsest; ++i) {
      level_pixels += static_cast<size_t>(levels[i].w) * levels[i].h;
      level_patches += static_cast<size_t>(levels[i].ws) * levels[i].hs;
    }
    const char* env = std::getenv("CROWDRT_DIS_GRAPHS");
    graphs = !(env && std::string(env) == "0");
    if (st) {
      stream = st;
    } else {
      check(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "creating a stream");
      own_stream = true;
    }
    check(cudaStreamCreateWithFlags(&side, cudaStreamNonBlocking), "creating a stream");
    check(cudaEventCreateWithFlags(&fork, cudaEventDisableTiming), "creating an event");
    check(cudaEventCreateWithFlags(&join, cudaEventDisableTiming), "creating an event");
    allocate();
    if (2 * s.sor_iterations > k::kSorHalo)
      throw Error(cat("GPU optical flow: ", s.sor_iterations,
                      " SOR iterations need a halo the kernel does not have (at most ", k::kSorHalo / 2, ")"));
    int device = 0, optin = 0;
    check(cudaGetDevice(&device), "querying the device");
    check(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device), "querying shared memory");
    const size_t rows_shared = tensor_rows_shared(levels[finest]);
    if (rows_shared > static_cast<size_t>(optin))
      throw Error(cat("GPU optical flow: ", w, "x", h,
                      " frames are too wide for this GPU's shared memory; use --flow-device cpu"));
    check(cudaFuncSetAttribute(k::tensor_rows, cudaFuncAttributeMaxDynamicSharedMemorySize,
                               static_cast<int>(rows_shared)),
          "configuring the structure tensor kernel");
    check(cudaFuncSetAttribute(k::vr_sor_tiled, cudaFuncAttributeMaxDynamicSharedMemorySize,
                               static_cast<int>(k::kSorSharedBytes)),
          "configuring the refinement kernel");
  }

  ~Impl() {
    for (auto& per_slot : graph)
      for (auto& g : per_slot)
        if (g) cudaGraphExecDestroy(g);
    if (fork) cudaEventDestroy(fork);
    if (join) cudaEventDestroy(join);
    if (side) cudaStreamDestroy(side);
    if (own_stream) cudaStreamDestroy(stream);
  }

  const char* preset_name() const {
    switch (preset) {
      case FlowPreset::ultrafast: return "ultrafast";
      case FlowPreset::fast: return "fast";
      case FlowPreset::medium: return "medium";
      case FlowPreset::none: break;
    }
    return "none";
  }

  void allocate() {
    const Level& f = levels[finest];
    for (int i = 0; i < 2; ++i) {
      pyramid[i] = DeviceArray<uint8_t>(level_pixels, "allocating the image pyramid");
      grad_x[i] = DeviceArray<int16_t>(level_pixels, "allocating the gradients");
      grad_y[i] = DeviceArray<int16_t>(level_pixels, "allocating the gradients");
    }
    ux = DeviceArray<float>(level_pixels, "allocating the flow pyramid");
    uy = DeviceArray<float>(level_pixels, "allocating the flow pyramid");
    init_x = DeviceArray<float>(level_pixels, "allocating the warm start");
    init_y = DeviceArray<float>(level_pixels, "allocating the warm start");
    sparse_x = DeviceArray<float>(static_cast<size_t>(f.ws) * f.hs, "allocating the patch flow");
    sparse_y = DeviceArray<float>(static_cast<size_t>(f.ws) * f.hs, "allocating the patch flow");
    tensor = DeviceArray<float>(5 * level_patches, "allocating the structure tensor");
    size_t aux = 0;
    for (int i = finest; i <= coarsest; ++i) aux += 5 * static_cast<size_t>(levels[i].h) * levels[i].ws;
    tensor_aux = DeviceArray<float>(aux, "allocating the structure tensor");
    if (s.variational_iterations > 0)
      vr = DeviceArray<float>(static_cast<size_t>(k::kVrPlanes) * f.w * f.h, "allocating the variational refinement");
    flow = DeviceArray<float>(2 * static_cast<size_t>(width) * height, "allocating the flow");
    init_full = DeviceArray<float>(2 * static_cast<size_t>(width) * height, "allocating the warm start");
    check(cudaMemsetAsync(flow.get(), 0, 2 * sizeof(float) * width * height, stream), "clearing the flow");

    // Tables for the pyramid's resizes whose factor is not an integer.
    std::vector<k::AreaSpan> spans;
    std::vector<int> index;
    std::vector<float> weight;
    struct Offsets {
      size_t xspan, yspan;
    };
    std::map<int, Offsets> at;
    for (int i = finest; i <= coarsest; ++i) {
      int sw = i == finest ? width : levels[i - 1].w, sh = i == finest ? height : levels[i - 1].h;
      if (integer_factor(i)) continue;
      Offsets o{spans.size(), 0};
      double inv_x = static_cast<double>(levels[i].w) / sw, inv_y = static_cast<double>(levels[i].h) / sh;
      area_table(sw, levels[i].w, 1.0 / inv_x, &spans, &index, &weight);
      o.yspan = spans.size();
      area_table(sh, levels[i].h, 1.0 / inv_y, &spans, &index, &weight);
      at[i] = o;
    }
    if (!spans.empty()) {
      area_spans = DeviceArray<k::AreaSpan>(spans.size(), "allocating resize tables");
      area_index = DeviceArray<int>(index.size(), "allocating resize tables");
      area_weight = DeviceArray<float>(weight.size(), "allocating resize tables");
      // On this flow's stream, waited for: a cudaMemcpy from pageable memory may return before its DMA ends, and the
      // legacy stream it runs on does not order it before the kernels of a non-blocking stream.
      check(cudaMemcpyAsync(area_spans.get(), spans.data(), spans.size() * sizeof(k::AreaSpan), cudaMemcpyHostToDevice,
                            stream), "uploading resize tables");
      check(cudaMemcpyAsync(area_index.get(), index.data(), index.size() * sizeof(int), cudaMemcpyHostToDevice, stream),
            "uploading resize tables");
      check(cudaMemcpyAsync(area_weight.get(), weight.data(), weight.size() * sizeof(float), cudaMemcpyHostToDevice,
                            stream), "uploading resize tables");
      check(cudaStreamSynchronize(stream), "uploading resize tables");
      for (auto& [level, o] : at)
        area_tables[level] = {area_spans.get() + o.xspan, area_spans.get() + o.yspan, area_index.get(),
                              area_weight.get()};
    }
  }

  // The factor from the image level i is made from to level i, when it is the same integer along x and y.
  int integer_factor(int i) const {
    int sw = i == finest ? width : levels[i - 1].w, sh = i == finest ? height : levels[i - 1].h;
    if (sw % levels[i].w || sh % levels[i].h) return 0;
    int fx = sw / levels[i].w, fy = sh / levels[i].h;
    return fx == fy ? fx : 0;
  }

  uint8_t* image(int slot_index, int level) const { return pyramid[slot_index].get() + levels[level].offset; }

  // Level i of a slot's pyramid from `src` (the frame for the finest level, else level i - 1).
  void resize_level(int slot_index, int i, const uint8_t* src, size_t src_pitch) {
    const Level& l = levels[i];
    const dim3 block(32, 8);
    if (int factor = integer_factor(i)) {
      k::area_integer_u8<<<grid_for(l.w, l.h, block), block, 0, stream>>>(src, src_pitch, image(slot_index, i), l.w,
                                                                          l.h, factor);
    } else {
      const AreaTable& t = area_tables.at(i);
      k::area_general_u8<<<grid_for(l.w, l.h, block), block, 0, stream>>>(src, src_pitch, image(slot_index, i), l.w,
                                                                          l.h, t.xspan, t.yspan, t.index, t.weight);
    }
  }

  // A linear resize of one float channel, or the exact half that OpenCV computes as an area average.
  void resize_plane(const float* src, int sw, int sh, int src_cn, float* dst, int dw, int dh, int dst_cn, float scale) {
    const dim3 block(32, 8);
    if (sw == 2 * dw && sh == 2 * dh && dst_cn == 1) {
      k::area2_f32<<<grid_for(dw, dh, block), block, 0, stream>>>(src, sw, src_cn, dst, dw, dh, scale);
      return;
    }
    double scale_x = 1.0 / (static_cast<double>(dw) / sw), scale_y = 1.0 / (static_cast<double>(dh) / sh);
    k::resize_linear<<<grid_for(dw, dh, block), block, 0, stream>>>(src, sw, sh, src_cn, dst, dw, dh, dst_cn, scale_x,
                                                                      scale_y, scale);
  }

  // Everything after the finest pyramid level of the new frame: the rest of its pyramid, its gradients, the warm
  // start, and the coarse-to-fine search.
  // The structure tensor of every level of the first frame (I0), on the side stream.
  void enqueue_tensors(int i0_slot) {
    check(cudaEventRecord(fork, stream), "forking the tensor branch");
    check(cudaStreamWaitEvent(side, fork), "forking the tensor branch");
    size_t aux_offset = 0;
    for (int i = finest; i <= coarsest; ++i) {
      const Level& l = levels[i];
      float* aux = tensor_aux.get() + aux_offset;
      aux_offset += 5 * static_cast<size_t>(l.h) * l.ws;
      k::tensor_rows<<<(l.h + k::kTensorRows - 1) / k::kTensorRows, 32, tensor_rows_shared(l), side>>>(
          grad_x[i0_slot].get() + l.offset, grad_y[i0_slot].get() + l.offset, l.w, l.h, l.ws, s.patch_size,
          s.patch_stride, aux);
      k::tensor_cols<<<(5 * l.ws + 63) / 64, 64, 0, side>>>(aux, l.h, l.ws, l.hs, s.patch_size, s.patch_stride,
                                                            tensor.get() + 5 * l.sparse_offset);
    }
    check(cudaEventRecord(join, side), "joining the tensor branch");
  }
  size_t tensor_rows_shared(const Level& l) const { return sizeof(int16_t) * 2 * k::kTensorRows * l.w; }

  void enqueue_frame(int new_slot, bool first) {
    const dim3 block(32, 8);
    if (!first) enqueue_tensors(1 - new_slot);  // the previous frame's gradients are ready
    for (int i = finest + 1; i <= coarsest; ++i) resize_level(new_slot, i, image(new_slot, i - 1), levels[i - 1].w);
    for (int i = finest; i <= coarsest; ++i) {
      const Level& l = levels[i];
      k::sobel_gradient<<<grid_for(l.w, l.h, block), block, 0, stream>>>(image(new_slot, i), l.w, l.h,
                                                                          grad_x[new_slot].get() + l.offset,
                                                                          grad_y[new_slot].get() + l.offset);
    }
    const int i0_slot = first ? new_slot : 1 - new_slot;
    if (first) enqueue_tensors(i0_slot);  // the frame is its own first frame: after its gradients
    if (!first) {
      k::warp_flow_by_itself<<<grid_for(width, height, block), block, 0, stream>>>(
          reinterpret_cast<const float2*>(flow.get()), width, height, reinterpret_cast<float2*>(init_full.get()));
      for (int i = finest; i <= coarsest; ++i) {
        const Level& l = levels[i];
        const float scale = 1.0f / static_cast<float>(1 << i);
        resize_plane(init_full.get(), width, height, 2, init_x.get() + l.offset, l.w, l.h, 1, scale);
        resize_plane(init_full.get() + 1, width, height, 2, init_y.get() + l.offset, l.w, l.h, 1, scale);
      }
    }
    {
      const Level& c = levels[coarsest];
      const size_t n = static_cast<size_t>(c.w) * c.h;
      k::fill_zero<<<(n + 255) / 256, 256, 0, stream>>>(ux.get() + c.offset, n);
      k::fill_zero<<<(n + 255) / 256, 256, 0, stream>>>(uy.get() + c.offset, n);
    }
    check(cudaStreamWaitEvent(stream, join), "joining the tensor branch");
    for (int i = coarsest; i >= finest; --i) {
      const Level& l = levels[i];
      const uint8_t* I0 = image(i0_slot, i);
      const uint8_t* I1 = image(new_slot, i);
      const int16_t* gx = grad_x[i0_slot].get() + l.offset;
      const int16_t* gy = grad_y[i0_slot].get() + l.offset;
      float* Ux = ux.get() + l.offset;
      float* Uy = uy.get() + l.offset;

      k::SearchArgs args{I0, I1, gx, gy, l.w, l.h, l.ws, l.hs, s.patch_stride, s.gradient_descent_iterations, Ux, Uy,
                         first ? nullptr : init_x.get() + l.offset, first ? nullptr : init_y.get() + l.offset,
                         tensor.get() + 5 * l.sparse_offset, sparse_x.get(), sparse_y.get()};
      const int threads = 4 * l.ws * l.hs;
      k::patch_search<<<(threads + 127) / 128, 128, 0, stream>>>(args);
      k::densify<<<grid_for(l.w, l.h, block), block, 0, stream>>>(sparse_x.get(), sparse_y.get(), I0, I1, l.w, l.h,
                                                                  l.ws, l.hs, s.patch_stride, Ux, Uy);
      if (s.variational_iterations > 0) refine(I0, I1, Ux, Uy, l.w, l.h);
      if (i > finest) {
        const Level& n = levels[i - 1];
        resize_plane(Ux, l.w, l.h, 1, ux.get() + n.offset, n.w, n.h, 1, 2.0f);
        resize_plane(Uy, l.w, l.h, 1, uy.get() + n.offset, n.w, n.h, 1, 2.0f);
      }
    }
    const Level& f = levels[finest];
    const float scale = static_cast<float>(1 << finest);
    resize_plane(ux.get() + f.offset, f.w, f.h, 1, flow.get(), width, height, 2, scale);
    resize_plane(uy.get() + f.offset, f.w, f.h, 1, flow.get() + 1, width, height, 2, scale);
  }

  void refine(const uint8_t* I0, const uint8_t* I1, float* Ux, float* Uy, int w, int h) {
    const dim3 block(32, 8);
    const dim3 grid = grid_for(w, h, block);
    k::VrArgs a{I0, I1, Ux, Uy, vr.get(), w, h, static_cast<size_t>(w) * h, s.alpha, s.gamma, s.delta};
    k::vr_prepare<<<grid, block, 0, stream>>>(a);
    k::vr_first_derivatives<<<grid, block, 0, stream>>>(a);
    k::vr_second_derivatives<<<grid, block, 0, stream>>>(a);
    const dim3 tiles((w + k::kSorTileW - 1) / k::kSorTileW, (h + k::kSorTileH - 1) / k::kSorTileH);
    for (int it = 0; it < s.variational_iterations; ++it) {
      k::vr_system<<<grid, block, 0, stream>>>(a);
      const int du = a.du_plane == k::kDU ? k::kDU2 : k::kDU, dv = a.dv_plane == k::kDV ? k::kDV2 : k::kDV;
      k::vr_sor_tiled<<<tiles, dim3(32, 32), k::kSorSharedBytes, stream>>>(
          a, 2 * s.sor_iterations, vr.get() + du * a.plane, vr.get() + dv * a.plane);
      a.du_plane = du;
      a.dv_plane = dv;
    }
    k::vr_finish<<<grid, block, 0, stream>>>(a);
  }

  void next(const uint8_t* gray, size_t pitch) {
    const int new_slot = slot;
    const bool first = !have_previous;
    resize_level(new_slot, finest, gray, pitch);
    check(cudaGetLastError(), "launching the pyramid kernel");
    if (graphs) {
      cudaGraphExec_t& exec = graph[new_slot][first ? 1 : 0];
      if (!exec) {
        cudaGraph_t g = nullptr;
        check(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal), "capturing the flow graph");
        enqueue_frame(new_slot, first);
        cudaError_t launched = cudaGetLastError();
        check(cudaStreamEndCapture(stream, &g), "capturing the flow graph");
        check(launched, "launching the flow kernels");
        cudaError_t made = cudaGraphInstantiate(&exec, g, 0);
        cudaGraphDestroy(g);
        check(made, "instantiating the flow graph");
      }
      check(cudaGraphLaunch(exec, stream), "launching the flow graph");
    } else {
      enqueue_frame(new_slot, first);
      check(cudaGetLastError(), "launching the flow kernels");
    }
    have_previous = true;
    slot = 1 - slot;
  }
};

CudaDisFlow::CudaDisFlow(FlowPreset preset, int width, int height, CUstream_st* stream)
    : impl_(std::make_unique<Impl>(preset, width, height, stream)) {}
CudaDisFlow::~CudaDisFlow() = default;

void CudaDisFlow::start_sequence() { impl_->have_previous = false; }
void CudaDisFlow::next(const uint8_t* gray, size_t pitch) {
  if (!gray) throw Error("CudaDisFlow::next: no frame (null device pointer)");
  if (pitch < static_cast<size_t>(impl_->width))
    throw Error("CudaDisFlow::next: row pitch smaller than the frame width");
  impl_->next(gray, pitch);
}
const float* CudaDisFlow::flow() const { return impl_->flow.get(); }
void CudaDisFlow::download(float* host) const {
  check(cudaMemcpyAsync(host, impl_->flow.get(), 2 * sizeof(float) * impl_->width * impl_->height,
                        cudaMemcpyDeviceToHost, impl_->stream),
        "copying the flow to the host");
  check(cudaStreamSynchronize(impl_->stream), "computing the flow");
}
int CudaDisFlow::width() const { return impl_->width; }
int CudaDisFlow::height() const { return impl_->height; }
CUstream_st* CudaDisFlow::stream() const { return impl_->stream; }
bool CudaDisFlow::uses_graphs() const { return impl_->graphs; }

}  // namespace crowdrt::vision
