// The reference kernels, one per op family (one .cpp each), and the helpers they share.
// Every kernel reads the canonical attributes of ir/graph.h through the decoders of ir/op_params.h (the op
// semantics every backend shares), takes fp32 NCHW tensors, and writes into outputs
// preallocated with the value shapes. Kernels throw Error saying what is wrong; run_reference_node adds which
// node it was.
#pragma once
#include <span>
#include <string>

#include "core/tensor.h"
#include "ir/graph.h"
#include "ir/op_params.h"

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

// Error unless `tensor` has `rank` dimensions; `what` names it in the message ("Conv input").
void require_rank(const Tensor& tensor, size_t rank, const char* what);
// Error unless the preallocated output has the shape the kernel computed.
void require_output_shape(const Tensor& output, const Shape& expected);

}  // namespace crowdrt::reference
