// MaxPool, AveragePool and GlobalAveragePool as oneDNN pooling (v2, for dilations) in the producer's layout.
// ceil_mode becomes extra end padding (cpu_support.h), which max and exclude-padding average ignore;
// include-padding average with such padding is refused by pool_supported (the op table entry, below).
#include "backends/cpu/cpu_graph_builder.h"
#include "backends/cpu/cpu_support.h"
#include "ir/op_params.h"

namespace crowdrt::cpu {

void build_pool(GraphBuilder& builder, const ir::Node& node) {
  const ir::Graph& graph = builder.graph();
  const ir::ValueId x = node.inputs[0], y = node.outputs[0];
  const Shape& in = graph.value(x).shape;
  const Shape& out = graph.value(y).shape;
  Dims kernel, strides{1, 1}, dilations{0, 0}, pad_begin{0, 0}, pad_end{0, 0};
  dnnl::algorithm algorithm = dnnl::algorithm::pooling_max;
  if (node.op == ir::Op::GlobalAveragePool) {
    kernel = {in[2], in[3]};
    algorithm = dnnl::algorithm::pooling_avg_exclude_padding;
  } else {
    ir::PoolParams p;
    try {
      p = ir::pool_params(node.op, node.attrs);
    } catch (const Error& e) {
      throw Error(cat("cpu backend: ", ir::describe(graph, node), ": ", e.what(),
                      " (canonical 2-D form); run fold_constants first"));
    }
    for (int axis = 0; axis < 2; ++axis) {
      kernel.push_back(p.kernel[axis]);
      strides[axis] = p.strides[axis];
      dilations[axis] = p.dilations[axis] - 1;
      pad_begin[axis] = p.pads_begin[axis];
      pad_end[axis] = pool_padding_end(in[2 + axis], out[2 + axis], (p.kernel[axis] - 1) * p.dilations[axis] + 1,
                                       p.strides[axis], p.pads_begin[axis], p.pads_end[axis]);
    }
    if (node.op == ir::Op::AveragePool)
      algorithm = p.count_include_pad ? dnnl::algorithm::pooling_avg_include_padding
                                      : dnnl::algorithm::pooling_avg_exclude_padding;
  }
  const std::optional<dnnl::memory::desc> required = builder.required_output_layout(y);
  const dnnl::memory::data_type type = builder.stored_type(y);  // bf16 when MaxPool passes bf16 through
  const bool bf16 = type == dnnl::memory::data_type::bf16;
  const Slot src = required ? builder.read_as(x, channel_blocked_desc(to_dims(in)))
                   : bf16   ? builder.read_as(x, with_data_type(builder.layout(x), type))
                            : builder.read(x);
  dnnl::pooling_v2_forward::desc desc(
      dnnl::prop_kind::forward_inference, algorithm, src.md,
      required ? *required : dnnl::memory::desc(to_dims(out), type, dnnl::memory::format_tag::any), strides, kernel,
      dilations, pad_begin, pad_end);
  dnnl::pooling_v2_forward::primitive_desc pd(desc, builder.attr(), builder.engine());
  const Slot dst = builder.write(y, pd.dst_desc());
  builder.add_primitive(dnnl::pooling_v2_forward(pd), pd, {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}}, {},
                        LayerInfo{node.name, ir::op_name(node.op), onednn_kernel_name(pd),
                                  bf16 ? Precision::bf16 : Precision::fp32,
                                  describe_layout(dst.md), required ? "writes into its concat in place" : ""});
}

// The op table's entries (cpu_op_table.cpp): 4-D pooling; include-padding average only where ceil_mode needs
// no padding beyond the given one. MaxPool selects values, so bf16 passes through it.
namespace {

bool pool_supported(const ir::Graph& graph, const ir::Node& node) {
  if (value_rank(graph, node.inputs[0]) != 4) return false;
  if (node.op == ir::Op::GlobalAveragePool) return true;
  if (node.op != ir::Op::AveragePool || node.attrs.i("count_include_pad", 0) == 0) return true;
  // oneDNN divides by the whole kernel when it counts padding; ONNX clips a ceil_mode window to the given
  // padding, so the two differ exactly when ceil_mode needs padding beyond it.
  const Shape& x = value_shape(graph, node.inputs[0]);
  const Shape& y = graph.value(node.outputs[0]).shape;
  const auto kernel = node.attrs.ints("kernel_shape");
  const auto strides = node.attrs.ints("strides", {1, 1});
  const auto pads = node.attrs.ints("pads", {0, 0, 0, 0});
  if (kernel.size() != 2 || strides.size() != 2 || pads.size() != 4) return false;
  for (int axis = 0; axis < 2; ++axis)
    if (pool_padding_end(x[2 + axis], y[2 + axis], kernel[axis], strides[axis], pads[axis], pads[2 + axis]) >
        pads[2 + axis])
      return false;
  return true;
}

}  // namespace

OpEntry pool_entry(ir::Op op) {
  OpEntry entry{.op = op, .supports = pool_supported, .build = build_pool, .writes_concat_slice = true};
  if (op == ir::Op::MaxPool) entry.passes_bf16_through = [](const ir::Node&) { return true; };
  return entry;
}

}  // namespace crowdrt::cpu
