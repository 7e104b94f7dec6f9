// A convolution with its epilogue y = act(conv(x) + bias + residual), on cuDNN or on our direct kernel.
// Candidates ("tactics"): cuDNN operation graphs (conv + bias + residual + ReLU in one) per engine configuration,
// cuDNN's legacy fused conv-bias-activation call per algorithm, cuDNN's plain convolution per algorithm followed
// by our epilogue kernel, our fp32-accurate tensor-core kernel (3xTF32, fp32 only: cuda_conv_tf32x3.h) per tile
// configuration, our kernel for few output channels (cuda_conv_narrow.h), our tensor-core kernel for few input
// channels and large windows such as a ResNet's first convolution (cuda_conv_stem.h) per tile configuration, and
// our direct kernel. The builder
// times them on the real
// buffers and keeps the fastest; a plan (node attribute "tactic") or the timing cache names one directly.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "backends/cuda/cuda_conv_narrow.h"
#include "backends/cuda/cuda_conv_stem.h"
#include "backends/cuda/cuda_conv_tf32x3.h"
#include "backends/cuda/cuda_kernels.h"
#include "backends/cuda/cuda_resources.h"
#include "core/tensor.h"

namespace crowdrt::cuda {

struct ConvProblem {
  // x int8 (View::scale set): an int8 convolution, weights quantised per output channel (max|w| / 127), int32
  // accumulation. y and the residual may be int8 (at their own scales) or fp16 whatever x is.
  View x;                    // input, logical channels = weight's input channels (or fewer, zero-padded)
  int x_storage_channels = 0;  // channels in x's buffer (a multiple of 8 for tensor cores; >= x.dims[1])
  View y;
  bool has_residual = false;
  View residual;
  const Tensor* weight = nullptr;  // float32 O x I/group x kh x kw
  const Tensor* bias = nullptr;    // float32 O, or null
  ConvShape shape;
  Activation act;
  // Whether x, y or the residual is int8: the scaled epilogue (see CudnnConvGraph), no legacy cuDNN path.
  bool quantised() const;
  // The identity of the problem for the timing cache (shapes, strides, types, epilogue).
  std::string key() const;
};

// Tactic name → milliseconds, as timed; for -v and tests.
using TacticTimes = std::map<std::string, double>;

class ConvStep {
 public:
  // `tactic` empty: time the candidates on `stream` (TacticTimes returned through `times` if non-null), or,
  // with `time` false, take the first candidate cuDNN's heuristics rank highest, untimed.
  ConvStep(const ConvProblem& problem, cudnnHandle_t cudnn, cudaStream_t stream, const std::string& tactic,
           TacticTimes* times = nullptr, bool time = true);
  ~ConvStep();
  ConvStep(const ConvStep&) = delete;
  ConvStep& operator=(const ConvStep&) = delete;

  void run(cudaStream_t stream, void* workspace) const;
  size_t workspace_bytes() const { return workspace_bytes_; }
  const std::string& tactic() const { return tactic_; }
  // "cudnn:conv_bias_act:algo 1", "cudnn:conv:algo 6+epilogue", "crowdrt:tf32x3 128x64", "crowdrt:stem 8x16", ...
  std::string kernel() const;

 private:
  struct Cudnn;  // descriptors and device weights for the cuDNN tactics
  std::unique_ptr<class CudnnConvGraph> graph_;  // the operation-graph form, where cuDNN has one
  void prepare_direct();
  void prepare_quantised();
  bool cudnn_possible() const;
  bool tf32x3_candidate() const;
  bool narrow_candidate() const;
  bool stem_candidate(const StemConfig& config) const;
  void choose(const std::string& tactic, cudaStream_t stream, TacticTimes* times, bool time);
  void set_tactic(const std::string& tactic);

  ConvProblem p_;
  cudnnHandle_t cudnn_handle_ = nullptr;
  std::unique_ptr<Cudnn> cudnn_;
  DeviceMemory weight_f32_, bias_f32_;  // for the direct kernel and the epilogue
  DeviceMemory scaled_weight_, scaled_alpha_, scaled_beta_, scaled_gamma_;  // the scaled graph's operands
  DeviceMemory narrow_weight_;          // float32 KRSC for the narrow kernel, where it can run
  DeviceMemory stem_weight_;            // fp16 in the stem kernel's order (stem_conv_weights), where it can run
  std::string tactic_;
  enum class Kind { fused, split, graph, tf32x3, narrow, stem, direct } kind_ = Kind::direct;
  int algo_ = 0;
  Tf32x3Config tf32x3_;
  StemConfig stem_;
  size_t workspace_bytes_ = 0;
};

}  // namespace crowdrt::cuda
