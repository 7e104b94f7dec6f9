// The reference kernels, one per op family (one .cpp each), and the helpers they share.
// Every kernel reads the canonical attributes of ir/graph.h, takes fp32 NCHW tensors, and writes into outputs
// preallocated with the value shapes. Kernels throw Error saying what is wrong; run_reference_node adds which
// node it was.
#pragma once
#include <span>
#include <string>

#include "core/tensor.h"
#include "ir/graph.h"

namespace crowdrt::reference {

using Inputs = std::span<const Tensor* const>;

void conv(const ir::Attributes& attrs, Inputs inputs, Tensor& output);
void conv_transpose(const ir::Attributes& attrs, Inputs inputs, Tensor& output);
void batch_normalization(const ir::Attributes& attrs, Inputs inputs, Tensor& output);
void activation(ir::Op op, const ir::Attributes& attrs, const Tensor& input, Tensor& output);
void binary(ir::Op op, const Tensor& a, const Tensor& b, Tensor& output);
void concat(const ir::Attributes& attrs, Inputs inputs, Tensor& output);
void max_pool(const ir::Attributes& attrs, const Tensor& input, Tensor& output);
void average_pool(const ir::Attributes& attrs, const Tensor& input, Tensor& output);
void global_average_pool(const Tensor& input, Tensor& output);
void reduce_mean(const ir::Attributes& attrs, const Tensor& input, Tensor& output);
void resize(const ir::Attributes& attrs, const Tensor& input, Tensor& output);
void pad(const ir::Attributes& attrs, const Tensor& input, Tensor& output);

// The activation a Conv applies after bias and residual (attr "activation"), or a standalone activation op.
enum class ActivationKind { none, relu, leaky_relu, clip, sigmoid, hard_sigmoid, hard_swish };
struct Activation {
  ActivationKind kind = ActivationKind::none;
  float alpha = 0.f;  // leaky_relu slope, clip min, hard_sigmoid alpha
  float beta = 0.f;   // clip max, hard_sigmoid beta
  float operator()(float x) const;
};
// From a Conv's "activation"/"alpha"/"beta" attributes; Error naming an unknown activation.
Activation epilogue_activation(const ir::Attributes& attrs);
// The activation a standalone activation node computes (its ONNX attributes and defaults).
Activation op_activation(ir::Op op, const ir::Attributes& attrs);

// Resize along one axis: the two input neighbours of each output coordinate and the weight of the second
// (nearest: both the same, weight 0), from the node's mode attributes and the axis' scale.
struct ResizeAxisMap {
  std::vector<int64_t> lo, hi;
  std::vector<float> weight_hi;
};
ResizeAxisMap resize_axis_map(const ir::Attributes& attrs, bool linear, float scale, int64_t in_size,
                              int64_t out_size);

// Error unless `tensor` has `rank` dimensions; `what` names it in the message ("Conv input").
void require_rank(const Tensor& tensor, size_t rank, const char* what);
// Error unless the preallocated output has the shape the kernel computed.
void require_output_shape(const Tensor& output, const Shape& expected);
// A per-spatial-axis attribute of length `count`, or `fallback` repeated when absent.
std::vector<int64_t> per_axis(const ir::Attributes& attrs, const std::string& name, size_t count, int64_t fallback);

}  // namespace crowdrt::reference
