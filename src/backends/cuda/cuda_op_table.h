// The CUDA backend's ops, one entry each: whether it runs a node (its shapes and constant inputs), how it builds
// the node's step, and what the compile's passes may assume of it. A new op is one cuda_op_<op>.cpp beside its
// kernel (its supports and build functions) and their line in cuda_op_table.cpp.
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

}  // namespace crowdrt::cuda
