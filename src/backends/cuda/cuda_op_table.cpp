#include "backends/cuda/cuda_op_table.h"

#include <algorithm>
#include <array>

#include "backends/op_table.h"

namespace crowdrt::cuda {

// The entries, made in their ops' files (cuda_op_<op>.cpp).
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

namespace {

using ir::Op;

constexpr CudaOpTraits kPlainCudaOp{};
constexpr CudaOpTraits kWritesIntoConcatSlice{.writes_into_concat_slice = true};

constexpr std::array kCudaOps = {
    CudaOp{Op::Conv, conv_supported, build_conv, kPlainCudaOp},
    CudaOp{Op::ConvTranspose, conv_transpose_supported, build_conv_transpose, kPlainCudaOp},
    CudaOp{Op::BatchNormalization, batch_normalization_supported, build_batch_normalization, kPlainCudaOp},
    CudaOp{Op::Relu, activation_supported, build_activation, kPlainCudaOp},
    CudaOp{Op::LeakyRelu, activation_supported, build_activation, kPlainCudaOp},
    CudaOp{Op::Clip, activation_supported, build_activation, kPlainCudaOp},
    CudaOp{Op::Sigmoid, activation_supported, build_activation, kPlainCudaOp},
    CudaOp{Op::HardSigmoid, activation_supported, build_activation, kPlainCudaOp},
    CudaOp{Op::HardSwish, activation_supported, build_activation, kPlainCudaOp},
    CudaOp{Op::Identity, identity_supported, build_identity, kPlainCudaOp},
    CudaOp{Op::Add, binary_supported, build_binary, kPlainCudaOp},
    CudaOp{Op::Sub, binary_supported, build_binary, kPlainCudaOp},
    CudaOp{Op::Mul, binary_supported, build_binary, kPlainCudaOp},
    CudaOp{Op::Div, binary_supported, build_binary, kPlainCudaOp},
    CudaOp{Op::Concat, concat_supported, build_concat, kPlainCudaOp},
    CudaOp{Op::MaxPool, pool_supported, build_pool, kPlainCudaOp},
    CudaOp{Op::AveragePool, pool_supported, build_pool, kPlainCudaOp},
    CudaOp{Op::GlobalAveragePool, pool_supported, build_reduce_mean, kPlainCudaOp},
    CudaOp{Op::ReduceMean, reduce_mean_supported, build_reduce_mean, kPlainCudaOp},
    CudaOp{Op::Resize, resize_supported, build_resize, kWritesIntoConcatSlice},
    CudaOp{Op::Pad, pad_supported, build_pad, kPlainCudaOp},
};

}  // namespace

const CudaOp* find_cuda_op(ir::Op op) { return find_op_entry(std::span<const CudaOp>(kCudaOps), op); }

CudaOpTraits cuda_op_traits(ir::Op op) {
  const CudaOp* entry = find_cuda_op(op);
  return entry ? entry->traits : CudaOpTraits{};
}

bool rank_at_most_4(const ir::Graph& g, ir::ValueId v) { return v != ir::kNoValue && g.value(v).shape.size() <= 4; }
bool rank_4(const ir::Graph& g, ir::ValueId v) { return v != ir::kNoValue && g.value(v).shape.size() == 4; }

bool all_rank_4(const ir::Graph& g, const ir::Node& n) {
  return rank_4(g, n.inputs.at(0)) &&
         std::all_of(n.outputs.begin(), n.outputs.end(), [&](ir::ValueId v) { return rank_4(g, v); });
}

}  // namespace crowdrt::cuda
