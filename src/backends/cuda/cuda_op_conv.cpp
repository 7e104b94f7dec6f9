// Conv (cuDNN or our own kernels, chosen per tactic by ConvStep; int8 where cuda_int8_selection.cpp stored its
// input int8; the stem on the input's staging buffer where cuda_pass_stem_staging.cpp chose it) and ConvTranspose
// (our direct kernel).
#include "backends/cuda/cuda_op_table.h"

namespace crowdrt::cuda {
namespace {

bool conv_weights_constant(const ir::Graph& g, const ir::Node& n) {
  return n.inputs.size() >= 2 && g.value(n.inputs[1]).is_constant() &&
         (n.inputs.size() < 3 || n.inputs[2] == ir::kNoValue || g.value(n.inputs[2]).is_constant());
}

}  // namespace

bool conv_supported(const ir::Graph& g, const ir::Node& n) { return all_rank_4(g, n) && conv_weights_constant(g, n); }

void build_conv(CudaCompiledGraph& graph, const ir::Node& node) {
  const ir::Graph& g = graph.graph();
  const ir::Attributes& a = node.attrs;
  const CompileOptions& options = graph.options();
  ConvProblem p;
  p.x = graph.view(node.inputs[0]);
  p.x_storage_channels = graph.storage_channels(node.inputs[0]) ? graph.storage_channels(node.inputs[0]) : p.x.dims[1];
  p.y = graph.view(node.outputs[0]);
  p.weight = g.value(node.inputs[1]).data.get();
  p.bias = node.inputs.size() > 2 && node.inputs[2] != ir::kNoValue ? g.value(node.inputs[2]).data.get() : nullptr;
  p.has_residual = a.i("fused_add", 0) != 0;
  if (p.has_residual) p.residual = graph.input_view(node, 3);
  p.shape = conv_shape_of(a);
  p.act = to_cuda(ir::epilogue_activation(a));
  // Tactic: the plan's, else the timing cache's, else timed now (the builder). The plan's tactic also says whether
  // the Conv ran int8 (cuda_int8_selection.cpp reads that) and read a network input's staging buffer.
  const bool int8 = p.x.type == StorageType::i8;
  const Tactic planned = options.time_tactics ? Tactic{} : node_tactic(a);
  const std::string& tactic = planned.algorithm;

  CudaCompiledGraph::StagingChoice choice = graph.choose_staging(node, p, planned, tactic);
  std::string from = choice.from;
  std::unique_ptr<ConvStep> conv = std::move(choice.conv);
  if (!choice.staging && !conv) conv = graph.make_conv_step(node, p, tactic, &from);
  ConvStep* step = graph.keep_conv(std::move(conv));
  std::string note = from.empty() ? "" : cat("tactic from the ", from);
  if (choice.staging)
    note += cat(note.empty() ? "" : "; ", "reads the network input's float32 staging buffer", choice.note);
  Tactic chosen;
  chosen.algorithm = step->tactic();
  chosen.precision = int8 ? "int8" : "";
  chosen.int8_io = !int8 && p.quantised() && !choice.staging ? "scaled" : "";
  chosen.reads_staging = choice.staging;
  graph.add(&node, ir::fused_op_name(node), step->kernel(),
            [&graph, step](cudaStream_t s) { step->run(s, graph.workspace()); }, note, chosen, int8);
}

bool conv_transpose_supported(const ir::Graph& g, const ir::Node& n) {
  return all_rank_4(g, n) && conv_weights_constant(g, n);
}

void build_conv_transpose(CudaCompiledGraph& graph, const ir::Node& node) {
  const ir::Graph& g = graph.graph();
  const ConvShape shape = conv_shape_of(node.attrs);
  const Tensor& w = *g.value(node.inputs[1]).data;
  const float* weight =
      graph.upload_floats(std::vector<float>(w.data<float>(), w.data<float>() + w.numel()), "weights");
  const float* bias = nullptr;
  if (node.inputs.size() > 2 && node.inputs[2] != ir::kNoValue) {
    const Tensor& b = *g.value(node.inputs[2]).data;
    bias = graph.upload_floats(std::vector<float>(b.data<float>(), b.data<float>() + b.numel()), "bias");
  }
  const View x = graph.input_view(node, 0);
  const View out = graph.view(node.outputs[0]);
  graph.add(&node, ir::fused_op_name(node), "crowdrt:conv_transpose",
            [x, weight, bias, out, shape](cudaStream_t st) { launch_conv_transpose(x, weight, bias, out, shape, st); });
}

}  // namespace crowdrt::cuda
