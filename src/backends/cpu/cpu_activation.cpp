// Relu, LeakyRelu, Clip, Sigmoid, HardSigmoid, HardSwish and Identity as oneDNN eltwise (or reorder for
// Identity) in the producer's layout. oneDNN 2.6 has no hardsigmoid, so HardSigmoid is max(0, min(1, a*x+b))
// as linear then clip; hardswish is x * relu6(x + 3) / 6, which is ONNX's x * max(0, min(1, x/6 + 1/2)).
#include "backends/cpu/cpu_activation.h"

#include "backends/cpu/cpu_graph_builder.h"

namespace crowdrt::cpu {

using dnnl::algorithm;

std::vector<EltwiseStage> activation_stages(const ir::Activation& activation) {
  const float alpha = activation.alpha, beta = activation.beta;
  switch (activation.kind) {
    case ir::ActivationKind::none: return {};
    case ir::ActivationKind::relu: return {{algorithm::eltwise_relu, 0.f, 0.f}};
    case ir::ActivationKind::leaky_relu: return {{algorithm::eltwise_relu, alpha, 0.f}};
    case ir::ActivationKind::clip: return {{algorithm::eltwise_clip, alpha, beta}};
    case ir::ActivationKind::sigmoid: return {{algorithm::eltwise_logistic, 0.f, 0.f}};
    case ir::ActivationKind::hard_sigmoid:
      return {{algorithm::eltwise_linear, alpha, beta}, {algorithm::eltwise_clip, 0.f, 1.f}};
    case ir::ActivationKind::hard_swish: return {{algorithm::eltwise_hardswish, 0.f, 0.f}};
  }
  return {};
}

void append_activation(dnnl::post_ops& post_ops, const std::vector<EltwiseStage>& stages) {
  for (const EltwiseStage& stage : stages) post_ops.append_eltwise(1.f, stage.algorithm, stage.alpha, stage.beta);
}

void build_activation(GraphBuilder& builder, const ir::Node& node) {
  const ir::ValueId x = node.inputs[0], y = node.outputs[0];
  const std::optional<dnnl::memory::desc> required = builder.required_output_layout(y);
  const Slot src = required ? builder.read_as(x, *required) : builder.read(x);
  const Slot dst = builder.write(y, src.md);
  if (node.op == ir::Op::Identity) {
    dnnl::reorder::primitive_desc pd(builder.engine(), src.md, builder.engine(), dst.md, builder.attr());
    builder.add_primitive(dnnl::reorder(pd), pd, {{DNNL_ARG_FROM, src}, {DNNL_ARG_TO, dst}}, {},
                          LayerInfo{node.name, "Identity", onednn_kernel_name(pd), Precision::fp32,
                                    describe_layout(dst.md), ""});
    return;
  }
  const std::vector<EltwiseStage> stages = activation_stages(ir::op_activation(node.op, node.attrs));
  Slot from = src;
  for (size_t i = 0; i < stages.size(); ++i) {
    dnnl::eltwise_forward::desc desc(dnnl::prop_kind::forward_inference, stages[i].algorithm, from.md,
                                     stages[i].alpha, stages[i].beta);
    dnnl::eltwise_forward::primitive_desc pd(desc, builder.attr(), builder.engine());
    builder.add_primitive(dnnl::eltwise_forward(pd), pd, {{DNNL_ARG_SRC, from}, {DNNL_ARG_DST, dst}}, {},
                          LayerInfo{stages.size() == 1 ? node.name : cat(node.name, ":", i + 1),
                                    ir::op_name(node.op), onednn_kernel_name(pd), Precision::fp32,
                                    describe_layout(dst.md), ""});
    from = dst;  // later stages work in place
  }
}

// The op table's entries (cpu_op_table.cpp): element-wise, so the output has the input's shape.
namespace {

bool activation_supported(const ir::Graph& graph, const ir::Node& node) {
  return value_shape(graph, node.inputs[0]) == graph.value(node.outputs[0]).shape;
}

}  // namespace

OpEntry activation_entry(ir::Op op) {
  return {.op = op, .supports = activation_supported, .build = build_activation, .writes_concat_slice = true};
}

}  // namespace crowdrt::cpu
