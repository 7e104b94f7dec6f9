// ReduceMean as oneDNN reduction into a plain output (keepdims shape), reshaped when keepdims = 0.
#include <algorithm>

#include "backends/cpu/cpu_graph_builder.h"

namespace crowdrt::cpu {

void build_reduce_mean(GraphBuilder& builder, const ir::Node& node) {
  const ir::Graph& graph = builder.graph();
  const ir::ValueId x = node.inputs[0], y = node.outputs[0];
  const Shape& in = graph.value(x).shape;
  Dims kept = to_dims(in);
  for (int64_t axis : node.attrs.ints("axes")) kept.at(axis) = 1;
  if (!node.attrs.has("axes")) std::fill(kept.begin(), kept.end(), 1);  // ONNX: no axes reduces all
  const Slot src = builder.read(x);
  const dnnl::memory::desc reduced = plain_desc(kept);
  if (kept == to_dims(in)) {  // only axes of size 1: the mean is the input, and oneDNN refuses a no-op reduction
    Slot dst = builder.write(y, plain_desc(to_dims(graph.value(y).shape)));
    dst.md = reduced;
    dnnl::reorder::primitive_desc pd(builder.engine(), src.md, builder.engine(), reduced, builder.attr());
    builder.add_primitive(dnnl::reorder(pd), pd, {{DNNL_ARG_FROM, src}, {DNNL_ARG_TO, dst}}, {},
                          LayerInfo{node.name, "ReduceMean", onednn_kernel_name(pd), Precision::fp32,
                                    describe_layout(reduced), "reduces only axes of size 1: a copy"});
    return;
  }
  dnnl::reduction::desc desc(dnnl::algorithm::reduction_mean, src.md, reduced, 0.f, 0.f);
  dnnl::reduction::primitive_desc pd(desc, builder.attr(), builder.engine());
  Slot dst = builder.write(y, plain_desc(to_dims(graph.value(y).shape)));
  dst.md = reduced;  // the same bytes with the reduced axes kept
  builder.add_primitive(dnnl::reduction(pd), pd, {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}}, {},
                        LayerInfo{node.name, "ReduceMean", onednn_kernel_name(pd), Precision::fp32,
                                  describe_layout(reduced), ""});
}

// The op table's entry (cpu_op_table.cpp): axes inside the input's rank (canonical: non-negative).
namespace {

bool reduce_mean_supported(const ir::Graph& graph, const ir::Node& node) {
  const int64_t rank = value_rank(graph, node.inputs[0]);
  for (int64_t axis : node.attrs.ints("axes"))
    if (axis < 0 || axis >= rank) return false;
  return rank <= 6;
}

}  // namespace

OpEntry reduce_mean_entry() {
  return {.op = ir::Op::ReduceMean, .supports = reduce_mean_supported, .build = build_reduce_mean};
}

}  // namespace crowdrt::cpu
