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

}  // namespace crowdrt::cpu
