// BatchNormalization (inference, global statistics) as oneDNN batch normalization in the producer's layout,
// for graphs where fold_batchnorm left it standing (no Conv before it).
#include "backends/cpu/cpu_graph_builder.h"

namespace crowdrt::cpu {

void build_batch_normalization(GraphBuilder& builder, const ir::Node& node) {
  const ir::Graph& graph = builder.graph();
  const ir::ValueId x = node.inputs[0], y = node.outputs[0];
  const std::optional<dnnl::memory::desc> required = builder.required_output_layout(y);
  const Slot src = required ? builder.read_as(x, *required) : builder.read(x);
  const int64_t channels = graph.value(x).shape[1];
  const auto flags = dnnl::normalization_flags::use_global_stats | dnnl::normalization_flags::use_scale |
                     dnnl::normalization_flags::use_shift;
  dnnl::batch_normalization_forward::desc desc(dnnl::prop_kind::forward_inference, src.md,
                                               node.attrs.f("epsilon", 1e-5f), flags);
  dnnl::batch_normalization_forward::primitive_desc pd(desc, builder.attr(), builder.engine());
  const dnnl::memory::desc vector_md = plain_desc({channels});
  ArgMemories constants;
  constants[DNNL_ARG_SCALE] = builder.constant(node.inputs[1], vector_md, vector_md);
  constants[DNNL_ARG_SHIFT] = builder.constant(node.inputs[2], vector_md, vector_md);
  constants[DNNL_ARG_MEAN] = builder.constant(node.inputs[3], vector_md, vector_md);
  constants[DNNL_ARG_VARIANCE] = builder.constant(node.inputs[4], vector_md, vector_md);
  const Slot dst = builder.write(y, pd.dst_desc());
  builder.add_primitive(dnnl::batch_normalization_forward(pd), pd, {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}},
                        std::move(constants),
                        LayerInfo{node.name, "BatchNormalization", onednn_kernel_name(pd), Precision::fp32,
                                  describe_layout(dst.md), ""});
}

// The op table's entry (cpu_op_table.cpp): oneDNN normalises over dimension 1 of a 2-D to 5-D tensor, with
// constant statistics of one value per channel.
namespace {

bool batch_normalization_supported(const ir::Graph& graph, const ir::Node& node) {
  if (node.inputs.size() != 5 || value_rank(graph, node.inputs[0]) < 2 || value_rank(graph, node.inputs[0]) > 5)
    return false;
  const int64_t channels = value_shape(graph, node.inputs[0])[1];
  for (size_t i = 1; i < 5; ++i)
    if (!is_constant_value(graph, node.inputs[i]) || graph.constant(node.inputs[i]).numel() != channels) return false;
  return true;
}

}  // namespace

OpEntry batch_normalization_entry() {
  return {.op = ir::Op::BatchNormalization,
          .supports = batch_normalization_supported,
          .build = build_batch_normalization,
          .writes_concat_slice = true};
}

}  // namespace crowdrt::cpu
