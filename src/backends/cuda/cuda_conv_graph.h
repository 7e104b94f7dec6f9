// A convolution with its epilogue (bias, residual add, ReLU) as one cuDNN operation graph (the backend API),
// so that cuDNN's fused engines, Hopper's included, compute it in one kernel. The engine configurations come
// from cuDNN's heuristics (mode A); a tactic names one by its index there ("graph:3"), which is stable for one
// cuDNN version on one GPU (both are in the plan's device fingerprint).
#pragma once
#include <cudnn.h>

#include <memory>
#include <vector>

#include "backends/cuda/cuda_kernels.h"

namespace crowdrt::cuda {

struct ConvProblem;

class CudnnConvGraph {
 public:
  // Device pointers of the weights (O x kh x kw x I_storage) and bias (storage type) stay owned by the caller.
  // Error when the problem has no operation-graph form (activation other than none/ReLU, groups).
  CudnnConvGraph(const ConvProblem& problem, cudnnHandle_t cudnn, const void* weight, const void* bias);
  ~CudnnConvGraph();
  CudnnConvGraph(const CudnnConvGraph&) = delete;
  CudnnConvGraph& operator=(const CudnnConvGraph&) = delete;

  static bool expressible(const ConvProblem& problem);
  int engine_configs() const { return static_cast<int>(configs_.size()); }
  // Finalises engine configuration `index` into an execution plan; false where cuDNN refuses it.
  bool select(int index);
  size_t workspace_bytes() const { return workspace_bytes_; }
  // Frees the execution plans of the configurations not selected (after the timing).
  void release_others();
  // Runs the selected plan on the handle's stream (the variant pack is rebuilt when the workspace moves).
  void run(void* workspace);

 private:
  struct Descriptor;
  cudnnHandle_t cudnn_;
  std::vector<std::unique_ptr<Descriptor>> keep_;  // tensors and operations the graph refers to
  std::unique_ptr<Descriptor> graph_, variant_pack_;
  std::vector<std::unique_ptr<Descriptor>> plans_;  // per engine configuration once finalised (cuDNN finalises a
                                                    // configuration into a plan once)
  Descriptor* plan_ = nullptr;
  std::vector<std::unique_ptr<Descriptor>> configs_;
  std::vector<int64_t> uids_;
  std::vector<void*> pointers_;
  size_t workspace_bytes_ = 0;
  void* bound_workspace_ = nullptr;
};

}  // namespace crowdrt::cuda
