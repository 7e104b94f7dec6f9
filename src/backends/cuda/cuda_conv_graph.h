// A convolution with its epilogue (bias, residual add, ReLU) as one cuDNN operation graph (the backend API),
// so that cuDNN's fused engines, Hopper's included, compute it in one kernel. The engine configurations come
// from cuDNN's heuristics (mode A); a tactic names one by its index there ("graph:3"), which is stable for one
// cuDNN version on one GPU (both are in the plan's device fingerprint).
//
// With int8 operands (ConvProblem::quantised): x int8 with w int8 per output channel and int32 accumulation, or
// x fp16 with w fp16; then in float
//   y = relu(gamma[c] * (acc * alpha[c] + beta[c] + r))
// where r is the residual as stored (int8 steps or fp16) and y is written as int8 or fp16 (alpha, beta and
// gamma fold the scales of x, w, r and y; gamma only with a residual). Otherwise the graph is the plain chain
// in the storage type: conv, + bias, + residual, ReLU.
#pragma once
#include <cudnn.h>

#include <memory>
#include <vector>

#include "backends/cuda/cuda_kernels.h"

namespace crowdrt::cuda {

struct ConvProblem;

// Device operands the graph reads, owned by the caller: weights (O x kh x kw x I_storage; int8 for an int8 x),
// the bias (storage type; float beta when scaled), and when scaled the float vectors alpha and gamma (O each).
struct ConvGraphOperands {
  const void* weight = nullptr;
  const void* bias = nullptr;
  const void* alpha = nullptr;
  const void* gamma = nullptr;
};

class CudnnConvGraph {
 public:
  // Error when the problem has no operation-graph form (activation other than none/ReLU, groups).
  CudnnConvGraph(const ConvProblem& problem, cudnnHandle_t cudnn, const ConvGraphOperands& operands);
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
