// RAII owners of CUDA and cuDNN resources, and the checks that turn their status codes into crowdrt::Error.
#pragma once
#include <cuda_runtime_api.h>
#include <cudnn.h>

#include <cstddef>
#include <string>
#include <utility>

namespace crowdrt::cuda {

// Error naming `what` and CUDA's / cuDNN's own message, when `status` is not success.
void check(cudaError_t status, const char* what);
void check(cudnnStatus_t status, const char* what);

// Whether a CUDA device is usable here, and if not, why (for tests that skip and for `--device cuda` errors).
bool device_available(std::string* why_not = nullptr);

// "cuda:<GPU name>:sm_90:driver 13000:runtime 13000:cudnn 91900": plans refuse to load where it differs.
std::string device_fingerprint();

template <class Handle, void (*Destroy)(Handle)>
class Owned {
 public:
  Owned() = default;
  explicit Owned(Handle h) : handle_(h) {}
  Owned(Owned&& o) noexcept : handle_(std::exchange(o.handle_, Handle{})) {}
  Owned& operator=(Owned&& o) noexcept {
    if (this != &o) {
      reset();
      handle_ = std::exchange(o.handle_, Handle{});
    }
    return *this;
  }
  Owned(const Owned&) = delete;
  Owned& operator=(const Owned&) = delete;
  ~Owned() { reset(); }
  Handle get() const { return handle_; }
  explicit operator bool() const { return handle_ != Handle{}; }
  void reset() {
    if (handle_ != Handle{}) Destroy(handle_);
    handle_ = Handle{};
  }

 private:
  Handle handle_{};
};

void destroy_device_memory(void* p);
void destroy_pinned_memory(void* p);
void destroy_stream(cudaStream_t s);
void destroy_event(cudaEvent_t e);
void destroy_graph(cudaGraph_t g);
void destroy_graph_exec(cudaGraphExec_t g);
void destroy_cudnn(cudnnHandle_t h);
void destroy_tensor_descriptor(cudnnTensorDescriptor_t d);
void destroy_filter_descriptor(cudnnFilterDescriptor_t d);
void destroy_convolution_descriptor(cudnnConvolutionDescriptor_t d);
void destroy_activation_descriptor(cudnnActivationDescriptor_t d);

using DeviceMemory = Owned<void*, destroy_device_memory>;
using PinnedMemory = Owned<void*, destroy_pinned_memory>;
using Stream = Owned<cudaStream_t, destroy_stream>;
using Event = Owned<cudaEvent_t, destroy_event>;
using Graph = Owned<cudaGraph_t, destroy_graph>;
using GraphExec = Owned<cudaGraphExec_t, destroy_graph_exec>;
using CudnnHandle = Owned<cudnnHandle_t, destroy_cudnn>;
using TensorDescriptor = Owned<cudnnTensorDescriptor_t, destroy_tensor_descriptor>;
using FilterDescriptor = Owned<cudnnFilterDescriptor_t, destroy_filter_descriptor>;
using ConvolutionDescriptor = Owned<cudnnConvolutionDescriptor_t, destroy_convolution_descriptor>;
using ActivationDescriptor = Owned<cudnnActivationDescriptor_t, destroy_activation_descriptor>;

DeviceMemory device_alloc(size_t bytes, const char* what);
PinnedMemory pinned_alloc(size_t bytes, const char* what);
Stream make_stream();
Event make_event();
CudnnHandle make_cudnn(cudaStream_t stream);
TensorDescriptor make_tensor_descriptor();
FilterDescriptor make_filter_descriptor();
ConvolutionDescriptor make_convolution_descriptor();
ActivationDescriptor make_activation_descriptor();

}  // namespace crowdrt::cuda
