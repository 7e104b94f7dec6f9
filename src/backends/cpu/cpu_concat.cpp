// Concat as a oneDNN concat primitive, or for free when the graph marked it in_place: its producers then
// wrote their outputs straight into slices of its buffer (GraphBuilder::prepare_in_place_concat), and the
// step left here does nothing but show up in the layer list.
#include "backends/cpu/cpu_graph_builder.h"

namespace crowdrt::cpu {

void build_concat(GraphBuilder& builder, const ir::Node& node) {
  const ir::ValueId y = node.outputs[0];
  bool in_place = node.attrs.i("in_place", 0) != 0;
  if (in_place) {
    // In place only if every producer really wrote into the concat's buffer (prepare_in_place_concat ran).
    const std::optional<dnnl::memory::desc> first = builder.required_output_layout(node.inputs[0]);
    in_place = first.has_value();
  }
  if (in_place) {
    builder.add_no_op(LayerInfo{node.name, "Concat", "none", Precision::fp32,
                                describe_layout(builder.layout(y)), "concat in place"});
    return;
  }
  const int axis = static_cast<int>(node.attrs.i("axis", 0));
  std::vector<Slot> sources;
  std::vector<dnnl::memory::desc> source_mds;
  const dnnl::memory::data_type type = builder.stored_type(y);  // bf16 when the concat passes bf16 through
  const bool bf16 = type == dnnl::memory::data_type::bf16;
  for (ir::ValueId v : node.inputs) {
    sources.push_back(bf16 ? builder.read_as(v, with_data_type(builder.layout(v), type)) : builder.read(v));
    source_mds.push_back(sources.back().md);
  }
  // The output layout: the first source's format (oneDNN picks it from "any"), so blocked stays blocked.
  const dnnl::memory::desc any_dst(to_dims(builder.graph().value(y).shape), type, dnnl::memory::format_tag::any);
  dnnl::concat::primitive_desc pd(any_dst, axis, source_mds, builder.engine(), builder.attr());
  const Slot dst = builder.write(y, pd.dst_desc());
  std::vector<std::pair<int, Slot>> args{{DNNL_ARG_DST, dst}};
  for (size_t i = 0; i < sources.size(); ++i)
    args.emplace_back(DNNL_ARG_MULTIPLE_SRC + static_cast<int>(i), sources[i]);
  builder.add_primitive(
      dnnl::concat(pd), pd, std::move(args), {},
      LayerInfo{node.name, "Concat", onednn_kernel_name(pd), bf16 ? Precision::bf16 : Precision::fp32,
                describe_layout(dst.md), node.attrs.i("in_place", 0) ? "copied: in place refused" : ""});
}

// The op table's entry (cpu_op_table.cpp): inputs of the output's rank along an axis inside it. A copying
// Concat moves values only, so bf16 passes through it; an in-place one's slices are float32, which
// GraphBuilder::passes_bf16_through sees for itself.
namespace {

bool concat_supported(const ir::Graph& graph, const ir::Node& node) {
  const int64_t rank = static_cast<int64_t>(graph.value(node.outputs[0]).shape.size());
  const int64_t axis = node.attrs.i("axis", 0);
  for (ir::ValueId v : node.inputs)
    if (v == ir::kNoValue || value_rank(graph, v) != rank) return false;
  return axis >= 0 && axis < rank;
}

}  // namespace

OpEntry concat_entry() {
  return {.op = ir::Op::Concat,
          .supports = concat_supported,
          .build = build_concat,
          .passes_bf16_through = [](const ir::Node&) { return true; }};
}

}  // namespace crowdrt::cpu
