// The CUDA backend's ops, one entry each: whether it runs a node (its shapes and constant inputs), how it builds
// the node's step, and what the compile's passes may assume of it. A new op is one cuda_op_<op>.cpp beside its
// kernel and one line in cuda_op_table.cpp.
#pragma once
#include "backends/cuda/cuda_compiled_graph.h"

namespace crowdrt::cuda {

struct CudaOpTraits {
  // Its kernel writes any output strides and the op is worth writing into a channel Concat's slice
  // (cuda_pass_resize_into_concat.cpp): its output is then never stored apart.
  bool writes_into_concat_slice = false;
};

struct CudaOp {
  ir::Op op;
  bool (*supports)(const ir::Graph& graph, const ir::Node& node);
  void (*build)(CudaCompiledGraph& graph, const ir::Node& node);
  CudaOpTraits traits;
};

// The entry of `op`, nullptr where the CUDA backend has no kernel for it.
const CudaOp* find_cuda_op(ir::Op op);
// The traits of `op` (none where the backend has no kernel for it).
CudaOpTraits cuda_op_traits(ir::Op op);

// Shared by the entries' supports predicates.
bool rank_at_most_4(const ir::Graph& g, ir::ValueId v);
bool rank_4(const ir::Graph& g, ir::ValueId v);
// The node's first input and every output have rank 4.
bool all_rank_4(const ir::Graph& g, const ir::Node& n);

// The entries (cuda_op_<op>.cpp).
bool conv_supported(const ir::Graph& g, const ir::Node& n);
void build_conv(CudaCompiledGraph& graph, const ir::Node& node);
bool conv_transpose_supported(const ir::Graph& g, const ir::Node& n);
void build_conv_transpose(CudaCompiledGraph& graph, const ir::Node& node);
bool batch_normalization_supported(const ir::Graph& g, const ir::Node& n);
void build_batch_normalization(CudaCompiledGraph& graph, const ir::Node& node);
bool activation_supported(const ir::Graph& g, const ir::Node& n);
void build_activation(CudaCompiledGraph& graph, const ir::Node& node);
bool identity_supported(const ir::Graph& g, const ir::Node& n);
void build_identity(CudaCompiledGraph& graph, const ir::Node& node);
bool binary_supported(const ir::Graph& g, const ir::Node& n);
void build_binary(CudaCompiledGraph& graph, const ir::Node& node);
bool concat_supported(const ir::Graph& g, const ir::Node& n);
void build_concat(CudaCompiledGraph& graph, const ir::Node& node);
bool pool_supported(const ir::Graph& g, const ir::Node& n);
void build_pool(CudaCompiledGraph& graph, const ir::Node& node);
bool reduce_mean_supported(const ir::Graph& g, const ir::Node& n);
void build_reduce_mean(CudaCompiledGraph& graph, const ir::Node& node);
bool resize_supported(const ir::Graph& g, const ir::Node& n);
void build_resize(CudaCompiledGraph& graph, const ir::Node& node);
bool pad_supported(const ir::Graph& g, const ir::Node& n);
void build_pad(CudaCompiledGraph& graph, const ir::Node& node);

}  // namespace crowdrt::cuda
