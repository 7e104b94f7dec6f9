// cuDNN opened with dlopen on first use instead of linked: libcrowdrt.so and the crowdrt program then start, and run
// CPU plans, on machines without cuDNN, and only a CUDA plan or `--device cuda` needs it. Each cuDNN function crowdrt
// calls is defined here with cudnn.h's own signature and forwards to the loaded library's symbol, found once.
#include <cudnn.h>
#include <dlfcn.h>

#include <string>

#include "core/error.h"

namespace crowdrt::cuda {
namespace {

void* open_cudnn() {
  const std::string name = cat("libcudnn.so.", CUDNN_MAJOR);
  // The loader's search first (LD_LIBRARY_PATH, this library's RUNPATH, ld.so.cache), then where it was at build time.
  for (const std::string& path : {name, std::string(CROWDRT_CUDNN_DIR) + "/" + name})
    if (void* library = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL)) return library;
  throw Error(cat("the CUDA backend needs cuDNN ", CUDNN_MAJOR, " (", name, "), which could not be loaded: ", dlerror(),
                  "; install cuDNN ", CUDNN_MAJOR, " for CUDA ", CUDART_VERSION / 1000,
                  " or add its folder to LD_LIBRARY_PATH (CPU plans and --device cpu need neither)"));
}

void* cudnn_library() {
  static void* const library = open_cudnn();  // a failed open throws and is tried again on the next call
  return library;
}

template <typename Function>
Function* symbol(const char* name) {
  void* address = dlsym(cudnn_library(), name);
  if (!address) throw Error(cat("cuDNN (libcudnn.so.", CUDNN_MAJOR, ") has no ", name, ": crowdrt needs cuDNN ",
                                CUDNN_MAJOR, ".", CUDNN_MINOR, " or later"));
  return reinterpret_cast<Function*>(address);
}

}  // namespace
}  // namespace crowdrt::cuda

using crowdrt::cuda::symbol;

// Each wrapper looks its cuDNN function up once (on first use), then forwards its arguments.
#define CUDNN_FORWARD(name, ...)                               \
  static auto* const forward = symbol<decltype(name)>(#name); \
  return forward(__VA_ARGS__)

extern "C" {
size_t cudnnGetVersion() { CUDNN_FORWARD(cudnnGetVersion); }
const char* cudnnGetErrorString(cudnnStatus_t s) { CUDNN_FORWARD(cudnnGetErrorString, s); }
cudnnStatus_t cudnnCreate(cudnnHandle_t* h) { CUDNN_FORWARD(cudnnCreate, h); }
cudnnStatus_t cudnnDestroy(cudnnHandle_t h) { CUDNN_FORWARD(cudnnDestroy, h); }
cudnnStatus_t cudnnSetStream(cudnnHandle_t h, cudaStream_t s) { CUDNN_FORWARD(cudnnSetStream, h, s); }

cudnnStatus_t cudnnCreateTensorDescriptor(cudnnTensorDescriptor_t* d) { CUDNN_FORWARD(cudnnCreateTensorDescriptor, d); }
cudnnStatus_t cudnnDestroyTensorDescriptor(cudnnTensorDescriptor_t d) {
  CUDNN_FORWARD(cudnnDestroyTensorDescriptor, d);
}
cudnnStatus_t cudnnCreateFilterDescriptor(cudnnFilterDescriptor_t* d) { CUDNN_FORWARD(cudnnCreateFilterDescriptor, d); }
cudnnStatus_t cudnnDestroyFilterDescriptor(cudnnFilterDescriptor_t d) {
  CUDNN_FORWARD(cudnnDestroyFilterDescriptor, d);
}
cudnnStatus_t cudnnCreateConvolutionDescriptor(cudnnConvolutionDescriptor_t* d) {
  CUDNN_FORWARD(cudnnCreateConvolutionDescriptor, d);
}
cudnnStatus_t cudnnDestroyConvolutionDescriptor(cudnnConvolutionDescriptor_t d) {
  CUDNN_FORWARD(cudnnDestroyConvolutionDescriptor, d);
}
cudnnStatus_t cudnnCreateActivationDescriptor(cudnnActivationDescriptor_t* d) {
  CUDNN_FORWARD(cudnnCreateActivationDescriptor, d);
}
cudnnStatus_t cudnnDestroyActivationDescriptor(cudnnActivationDescriptor_t d) {
  CUDNN_FORWARD(cudnnDestroyActivationDescriptor, d);
}
cudnnStatus_t cudnnSetActivationDescriptor(cudnnActivationDescriptor_t d, cudnnActivationMode_t mode,
                                           cudnnNanPropagation_t nan, double coef) {
  CUDNN_FORWARD(cudnnSetActivationDescriptor, d, mode, nan, coef);
}
cudnnStatus_t cudnnSetTensor4dDescriptor(cudnnTensorDescriptor_t d, cudnnTensorFormat_t format, cudnnDataType_t type,
                                         int n, int c, int h, int w) {
  CUDNN_FORWARD(cudnnSetTensor4dDescriptor, d, format, type, n, c, h, w);
}
cudnnStatus_t cudnnSetTensor4dDescriptorEx(cudnnTensorDescriptor_t d, cudnnDataType_t type, int n, int c, int h, int w,
                                           int n_stride, int c_stride, int h_stride, int w_stride) {
  CUDNN_FORWARD(cudnnSetTensor4dDescriptorEx, d, type, n, c, h, w, n_stride, c_stride, h_stride, w_stride);
}
cudnnStatus_t cudnnSetFilter4dDescriptor(cudnnFilterDescriptor_t d, cudnnDataType_t type, cudnnTensorFormat_t format,
                                         int k, int c, int h, int w) {
  CUDNN_FORWARD(cudnnSetFilter4dDescriptor, d, type, format, k, c, h, w);
}
cudnnStatus_t cudnnSetConvolution2dDescriptor(cudnnConvolutionDescriptor_t d, int pad_h, int pad_w, int stride_h,
                                              int stride_w, int dilation_h, int dilation_w, cudnnConvolutionMode_t mode,
                                              cudnnDataType_t type) {
  CUDNN_FORWARD(cudnnSetConvolution2dDescriptor, d, pad_h, pad_w, stride_h, stride_w, dilation_h, dilation_w, mode,
                type);
}
cudnnStatus_t cudnnSetConvolutionMathType(cudnnConvolutionDescriptor_t d, cudnnMathType_t math) {
  CUDNN_FORWARD(cudnnSetConvolutionMathType, d, math);
}
cudnnStatus_t cudnnSetConvolutionGroupCount(cudnnConvolutionDescriptor_t d, int groups) {
  CUDNN_FORWARD(cudnnSetConvolutionGroupCount, d, groups);
}

cudnnStatus_t cudnnGetConvolutionForwardWorkspaceSize(cudnnHandle_t h, const cudnnTensorDescriptor_t x,
                                                      const cudnnFilterDescriptor_t w,
                                                      const cudnnConvolutionDescriptor_t conv,
                                                      const cudnnTensorDescriptor_t y, cudnnConvolutionFwdAlgo_t algo,
                                                      size_t* bytes) {
  static auto* f = symbol<decltype(cudnnGetConvolutionForwardWorkspaceSize)>("cudnnGetConvolutionForwardWorkspaceSize");
  return f(h, x, w, conv, y, algo, bytes);
}
cudnnStatus_t cudnnGetConvolutionForwardAlgorithm_v7(cudnnHandle_t h, const cudnnTensorDescriptor_t x,
                                                     const cudnnFilterDescriptor_t w,
                                                     const cudnnConvolutionDescriptor_t conv,
                                                     const cudnnTensorDescriptor_t y, const int requested,
                                                     int* returned, cudnnConvolutionFwdAlgoPerf_t* results) {
  static auto* f = symbol<decltype(cudnnGetConvolutionForwardAlgorithm_v7)>("cudnnGetConvolutionForwardAlgorithm_v7");
  return f(h, x, w, conv, y, requested, returned, results);
}
cudnnStatus_t cudnnConvolutionForward(cudnnHandle_t h, const void* alpha, const cudnnTensorDescriptor_t x_desc,
                                      const void* x, const cudnnFilterDescriptor_t w_desc, const void* w,
                                      const cudnnConvolutionDescriptor_t conv, cudnnConvolutionFwdAlgo_t algo,
                                      void* workspace, size_t workspace_bytes, const void* beta,
                                      const cudnnTensorDescriptor_t y_desc, void* y) {
  static auto* f = symbol<decltype(cudnnConvolutionForward)>("cudnnConvolutionForward");
  return f(h, alpha, x_desc, x, w_desc, w, conv, algo, workspace, workspace_bytes, beta, y_desc, y);
}
cudnnStatus_t cudnnConvolutionBiasActivationForward(
    cudnnHandle_t h, const void* alpha1, const cudnnTensorDescriptor_t x_desc, const void* x,
    const cudnnFilterDescriptor_t w_desc, const void* w, const cudnnConvolutionDescriptor_t conv,
    cudnnConvolutionFwdAlgo_t algo, void* workspace, size_t workspace_bytes, const void* alpha2,
    const cudnnTensorDescriptor_t z_desc, const void* z, const cudnnTensorDescriptor_t bias_desc, const void* bias,
    const cudnnActivationDescriptor_t activation, const cudnnTensorDescriptor_t y_desc, void* y) {
  static auto* f = symbol<decltype(cudnnConvolutionBiasActivationForward)>("cudnnConvolutionBiasActivationForward");
  return f(h, alpha1, x_desc, x, w_desc, w, conv, algo, workspace, workspace_bytes, alpha2, z_desc, z, bias_desc, bias,
           activation, y_desc, y);
}

cudnnStatus_t cudnnBackendCreateDescriptor(cudnnBackendDescriptorType_t type, cudnnBackendDescriptor_t* d) {
  CUDNN_FORWARD(cudnnBackendCreateDescriptor, type, d);
}
cudnnStatus_t cudnnBackendDestroyDescriptor(cudnnBackendDescriptor_t d) {
  CUDNN_FORWARD(cudnnBackendDestroyDescriptor, d);
}
cudnnStatus_t cudnnBackendFinalize(cudnnBackendDescriptor_t d) { CUDNN_FORWARD(cudnnBackendFinalize, d); }
cudnnStatus_t cudnnBackendSetAttribute(cudnnBackendDescriptor_t d, cudnnBackendAttributeName_t name,
                                       cudnnBackendAttributeType_t type, int64_t count, const void* values) {
  CUDNN_FORWARD(cudnnBackendSetAttribute, d, name, type, count, values);
}
cudnnStatus_t cudnnBackendGetAttribute(cudnnBackendDescriptor_t const d, cudnnBackendAttributeName_t name,
                                       cudnnBackendAttributeType_t type, int64_t requested, int64_t* count,
                                       void* values) {
  CUDNN_FORWARD(cudnnBackendGetAttribute, d, name, type, requested, count, values);
}
cudnnStatus_t cudnnBackendExecute(cudnnHandle_t h, cudnnBackendDescriptor_t plan, cudnnBackendDescriptor_t pack) {
  CUDNN_FORWARD(cudnnBackendExecute, h, plan, pack);
}
}  // extern "C"
