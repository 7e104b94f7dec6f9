#include "eval/device_frames.h"

#include <cstring>

#include "core/error.h"
#ifdef CROWDRT_WITH_CUDA_FLOW
#include <cuda_runtime_api.h>

#include "vision/cuda/cuda_network_input.h"
#endif

namespace crowdrt::eval {

bool use_device_frames(Engine& engine, const std::string& flow_device) {
  if (flow_device == "cpu") return false;
  if (!flow_device.empty() && flow_device != "cuda")
    throw Error(cat("flow device '", flow_device, "': choose cpu or cuda (default: the plan's device)"));
  const std::string backend = engine.plan().header.value("backend", "");
  if (flow_device.empty()) return backend == "cuda" && device_frames_available(engine);
  if (!device_frames_available(engine))
    throw Error(cat("flow device cuda needs a CUDA plan and a crowdrt built with CUDA; this plan runs on '", backend,
                    "' (use flow device cpu, or build the plan with --device cuda)"));
  return true;
}

#ifdef CROWDRT_WITH_CUDA_FLOW

bool device_frames_available(Engine& engine) {
  CompiledGraph::DeviceIo io;
  return engine.device_io(&io);
}

namespace {

Shape checked_frame_input(const Shape& s, const std::string& name) {
  if (s.size() != 4 || s[0] != 1 || (s[1] != 3 && s[1] != 5))
    throw Error(cat("GPU frames: the plan's input '", name, "' is ", shape_str(s),
                    "; counting frames needs one 1 x 3 x H x W or 1 x 5 x H x W input"));
  return s;
}

void check_bgr_frame(const cv::Mat& bgr) {
  if (bgr.empty()) throw Error("GPU frames: empty frame");
  if (bgr.type() != CV_8UC3)
    throw Error(cat("GPU frames: a frame with ", bgr.channels(), " channel(s) of depth ", bgr.depth(),
                    "; expected an 8-bit, 3-channel BGR image"));
}

}  // namespace

struct DeviceFramePath::Impl {
  Engine& engine;
  CompiledGraph::DeviceIo io;
  Shape input_shape, output_shape;
  vision::CudaNetworkInput input;
  bool submitted = false, waited = false;

  static Shape checked_input(Engine& engine) {
    if (engine.inputs().size() != 1 || engine.outputs().empty())
      throw Error(cat("GPU frames: the plan has ", engine.inputs().size(), " inputs; counting frames needs one"));
    return checked_frame_input(engine.inputs()[0].shape, engine.inputs()[0].name);
  }
  static CompiledGraph::DeviceIo checked_io(Engine& engine) {
    CompiledGraph::DeviceIo io;
    if (!engine.device_io(&io))
      throw Error(
          "GPU frames: this plan runs on the CPU; the GPU frame path needs a CUDA plan (or use --flow-device cpu)");
    return io;
  }

  Impl(Engine& e, vision::FlowPreset flow)
      : engine(e),
        io(checked_io(e)),
        input_shape(checked_input(e)),
        output_shape(e.outputs()[0].shape),
        input(static_cast<int>(input_shape[3]), static_cast<int>(input_shape[2]), static_cast<int>(input_shape[1]),
              input_shape[1] == 3 ? vision::FlowPreset::none : flow, static_cast<CUstream_st*>(io.stream)) {}
};

DeviceFramePath::DeviceFramePath(Engine& engine, vision::FlowPreset flow)
    : impl_(std::make_unique<Impl>(engine, flow)) {}
DeviceFramePath::~DeviceFramePath() = default;
DeviceFramePath::DeviceFramePath(DeviceFramePath&&) noexcept = default;

void DeviceFramePath::start_sequence() { impl_->input.start_sequence(); }

void DeviceFramePath::submit(const cv::Mat& bgr) {
  check_bgr_frame(bgr);
  impl_->input.next(bgr.data, bgr.cols, bgr.rows, bgr.step[0], impl_->io.inputs[0]);
  impl_->engine.run_on_device(true);
  impl_->submitted = true;
  impl_->waited = false;
}

double DeviceFramePath::wait_count() {
  if (!impl_->submitted) throw Error("GPU frames: wait_count() before any submit()");
  const double sum = impl_->engine.wait_output_sum();
  impl_->waited = true;
  return sum / 100.0;
}

void DeviceFramePath::density(Tensor* density) {
  if (!impl_->waited) throw Error("GPU frames: density() before wait_count()");
  *density = Tensor(DType::f32, impl_->output_shape);
  impl_->engine.wait_output(0, density->data<float>());
}

Tensor DeviceFramePath::network_input() {
  if (!impl_->submitted) throw Error("GPU frames: network_input() before any submit()");
  Tensor t(DType::f32, impl_->input_shape);
  cudaStream_t stream = static_cast<cudaStream_t>(impl_->io.stream);
  if (cudaMemcpyAsync(t.data<float>(), impl_->io.inputs[0], t.bytes(), cudaMemcpyDeviceToHost, stream) != cudaSuccess ||
      cudaStreamSynchronize(stream) != cudaSuccess)
    throw Error("GPU frames: copying the network input to the host failed");
  return t;
}

struct DeviceStreamInput::Impl {
  Shape input_shape;
  cudaStream_t stream = nullptr;
  cudaEvent_t ready = nullptr;
  float* buffer = nullptr;  // C x H x W on the device
  size_t buffer_bytes = 0;
  std::unique_ptr<vision::CudaNetworkInput> input;
  bool submitted = false;

  Impl(const Shape& shape, vision::FlowPreset flow)
      : input_shape(checked_frame_input(shape, "input")),
        buffer_bytes(static_cast<size_t>(input_shape[1] * input_shape[2] * input_shape[3]) * sizeof(float)) {
    if (cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking) != cudaSuccess ||
        cudaEventCreateWithFlags(&ready, cudaEventDisableTiming) != cudaSuccess ||
        cudaMalloc(reinterpret_cast<void**>(&buffer), buffer_bytes) != cudaSuccess) {
      cudaGetLastError();
      release();
      throw Error(
          cat("GPU frames: no CUDA stream or ", buffer_bytes, " bytes of device memory for another stream's input"));
    }
    try {
      input = std::make_unique<vision::CudaNetworkInput>(static_cast<int>(shape[3]), static_cast<int>(shape[2]),
                                                         static_cast<int>(shape[1]),
                                                         shape[1] == 3 ? vision::FlowPreset::none : flow, stream);
    } catch (...) {
      release();
      throw;
    }
  }
  ~Impl() {
    input.reset();  // its work on `stream` ends before the stream does
    release();
  }
  void release() {
    if (stream) cudaStreamSynchronize(stream);
    if (buffer) cudaFree(buffer);
    if (ready) cudaEventDestroy(ready);
    if (stream) cudaStreamDestroy(stream);
    buffer = nullptr;
    ready = nullptr;
    stream = nullptr;
  }
};

DeviceStreamInput::DeviceStreamInput(const Shape& input_shape, vision::FlowPreset flow)
    : impl_(std::make_unique<Impl>(input_shape, flow)) {}
DeviceStreamInput::~DeviceStreamInput() = default;
DeviceStreamInput::DeviceStreamInput(DeviceStreamInput&&) noexcept = default;

void DeviceStreamInput::start_sequence() { impl_->input->start_sequence(); }

void DeviceStreamInput::submit(const cv::Mat& bgr) {
  check_bgr_frame(bgr);
  impl_->input->next(bgr.data, bgr.cols, bgr.rows, bgr.step[0], impl_->buffer);
  if (cudaEventRecord(impl_->ready, impl_->stream) != cudaSuccess) {
    cudaGetLastError();
    throw Error("GPU frames: recording the end of a frame's preparation failed");
  }
  impl_->submitted = true;
}

double DeviceStreamInput::count_on(Engine& engine, Tensor* density) {
  if (!impl_->submitted) throw Error("GPU frames: count_on() before any submit()");
  CompiledGraph::DeviceIo io;
  if (!engine.device_io(&io))
    throw Error("GPU frames: this plan runs on the CPU; the GPU frame path needs a CUDA plan");
  if (engine.inputs().size() != 1 || engine.inputs()[0].shape != impl_->input_shape || engine.outputs().empty())
    throw Error(cat("GPU frames: the engine's input is not the stream's ", shape_str(impl_->input_shape)));
  cudaStream_t stream = static_cast<cudaStream_t>(io.stream);
  if (cudaStreamWaitEvent(stream, impl_->ready, 0) != cudaSuccess ||
      cudaMemcpyAsync(io.inputs[0], impl_->buffer, impl_->buffer_bytes, cudaMemcpyDeviceToDevice, stream) !=
          cudaSuccess) {
    cudaGetLastError();
    throw Error("GPU frames: handing a stream's frame to the engine failed");
  }
  engine.run_on_device(true);
  const double sum = engine.wait_output_sum();
  if (density) {
    *density = Tensor(DType::f32, engine.outputs()[0].shape);
    engine.wait_output(0, density->data<float>());
  }
  return sum / 100.0;
}

#else

bool device_frames_available(Engine&) { return false; }
struct DeviceFramePath::Impl {};
DeviceFramePath::DeviceFramePath(Engine&, vision::FlowPreset) {
  throw Error("GPU frames: this build of crowdrt has no CUDA; use --flow-device cpu");
}
DeviceFramePath::~DeviceFramePath() = default;
DeviceFramePath::DeviceFramePath(DeviceFramePath&&) noexcept = default;
void DeviceFramePath::start_sequence() {}
void DeviceFramePath::submit(const cv::Mat&) {}
double DeviceFramePath::wait_count() { return 0; }
void DeviceFramePath::density(Tensor*) {}
Tensor DeviceFramePath::network_input() { return {}; }
struct DeviceStreamInput::Impl {};
DeviceStreamInput::DeviceStreamInput(const Shape&, vision::FlowPreset) {
  throw Error("GPU frames: this build of crowdrt has no CUDA; count on the CPU");
}
DeviceStreamInput::~DeviceStreamInput() = default;
DeviceStreamInput::DeviceStreamInput(DeviceStreamInput&&) noexcept = default;
void DeviceStreamInput::start_sequence() {}
void DeviceStreamInput::submit(const cv::Mat&) {}
double DeviceStreamInput::count_on(Engine&, Tensor*) { return 0; }

#endif

}  // namespace crowdrt::eval
