#include "backends/cuda/cuda_resources.h"

#include "core/error.h"

namespace crowdrt::cuda {

void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess)
    throw Error(cat("CUDA: ", what, " failed: ", cudaGetErrorName(status), " (", cudaGetErrorString(status), ")"));
}

void check(cudnnStatus_t status, const char* what) {
  if (status != CUDNN_STATUS_SUCCESS) throw Error(cat("cuDNN: ", what, " failed: ", cudnnGetErrorString(status)));
}

bool device_available(std::string* why_not) {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess || count == 0) {
    if (why_not)
      *why_not = status != cudaSuccess ? cat("no CUDA device (", cudaGetErrorString(status), ")")
                                       : std::string("no CUDA device on this machine");
    cudaGetLastError();  // clear the sticky error of a failed query
    return false;
  }
  return true;
}

std::string device_fingerprint() {
  std::string why;
  if (!device_available(&why)) throw Error(cat("--device cuda: ", why, "; use --device cpu"));
  int device = 0;
  check(cudaGetDevice(&device), "cudaGetDevice");
  cudaDeviceProp prop{};
  check(cudaGetDeviceProperties(&prop, device), "cudaGetDeviceProperties");
  int driver = 0, runtime = 0;
  check(cudaDriverGetVersion(&driver), "cudaDriverGetVersion");
  check(cudaRuntimeGetVersion(&runtime), "cudaRuntimeGetVersion");
  return cat("cuda:", prop.name, ":sm_", prop.major, prop.minor, ":driver ", driver, ":runtime ", runtime, ":cudnn ",
             cudnnGetVersion());
}

void destroy_device_memory(void* p) { cudaFree(p); }
void destroy_pinned_memory(void* p) { cudaFreeHost(p); }
void destroy_stream(cudaStream_t s) { cudaStreamDestroy(s); }
void destroy_event(cudaEvent_t e) { cudaEventDestroy(e); }
void destroy_graph(cudaGraph_t g) { cudaGraphDestroy(g); }
void destroy_graph_exec(cudaGraphExec_t g) { cudaGraphExecDestroy(g); }
void destroy_cudnn(cudnnHandle_t h) { cudnnDestroy(h); }
void destroy_tensor_descriptor(cudnnTensorDescriptor_t d) { cudnnDestroyTensorDescriptor(d); }
void destroy_filter_descriptor(cudnnFilterDescriptor_t d) { cudnnDestroyFilterDescriptor(d); }
void destroy_convolution_descriptor(cudnnConvolutionDescriptor_t d) { cudnnDestroyConvolutionDescriptor(d); }
void destroy_activation_descriptor(cudnnActivationDescriptor_t d) { cudnnDestroyActivationDescriptor(d); }

DeviceMemory device_alloc(size_t bytes, const char* what) {
  void* p = nullptr;
  if (bytes == 0) return DeviceMemory{};
  const cudaError_t status = cudaMalloc(&p, bytes);
  if (status != cudaSuccess) {
    cudaGetLastError();
    throw Error(cat("CUDA: cannot allocate ", bytes, " bytes of device memory for ", what, ": ",
                    cudaGetErrorString(status)));
  }
  return DeviceMemory(p);
}

PinnedMemory pinned_alloc(size_t bytes, const char* what) {
  void* p = nullptr;
  if (bytes == 0) return PinnedMemory{};
  const cudaError_t status = cudaMallocHost(&p, bytes);
  if (status != cudaSuccess) {
    cudaGetLastError();
    throw Error(cat("CUDA: cannot allocate ", bytes, " bytes of pinned host memory for ", what, ": ",
                    cudaGetErrorString(status)));
  }
  return PinnedMemory(p);
}

Stream make_stream() {
  cudaStream_t s = nullptr;
  check(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), "cudaStreamCreate");
  return Stream(s);
}

Event make_event() {
  cudaEvent_t e = nullptr;
  check(cudaEventCreate(&e), "cudaEventCreate");
  return Event(e);
}

CudnnHandle make_cudnn(cudaStream_t stream) {
  cudnnHandle_t h = nullptr;
  check(cudnnCreate(&h), "cudnnCreate");
  CudnnHandle owned(h);
  check(cudnnSetStream(h, stream), "cudnnSetStream");
  return owned;
}

TensorDescriptor make_tensor_descriptor() {
  cudnnTensorDescriptor_t d = nullptr;
  check(cudnnCreateTensorDescriptor(&d), "cudnnCreateTensorDescriptor");
  return TensorDescriptor(d);
}

FilterDescriptor make_filter_descriptor() {
  cudnnFilterDescriptor_t d = nullptr;
  check(cudnnCreateFilterDescriptor(&d), "cudnnCreateFilterDescriptor");
  return FilterDescriptor(d);
}

ConvolutionDescriptor make_convolution_descriptor() {
  cudnnConvolutionDescriptor_t d = nullptr;
  check(cudnnCreateConvolutionDescriptor(&d), "cudnnCreateConvolutionDescriptor");
  return ConvolutionDescriptor(d);
}

ActivationDescriptor make_activation_descriptor() {
  cudnnActivationDescriptor_t d = nullptr;
  check(cudnnCreateActivationDescriptor(&d), "cudnnCreateActivationDescriptor");
  return ActivationDescriptor(d);
}

}  // namespace crowdrt::cuda
