// Add, Sub, Mul, Div with numpy broadcasting as oneDNN binary. oneDNN broadcasts only its second source, so
// when the first operand is the broadcast one: Add and Mul swap operands; Sub and Div compute
// dst = 0*b + a (a broadcast, b's scale 0) and apply (- b) or (/ b) as a binary post-op.
#include "backends/cpu/cpu_graph_builder.h"

namespace crowdrt::cpu {
namespace {

using dnnl::memory;

dnnl::algorithm algorithm_of(ir::Op op) {
  switch (op) {
    case ir::Op::Add: return dnnl::algorithm::binary_add;
    case ir::Op::Sub: return dnnl::algorithm::binary_sub;
    case ir::Op::Mul: return dnnl::algorithm::binary_mul;
    default: return dnnl::algorithm::binary_div;
  }
}

Dims aligned_dims(const Shape& shape, size_t rank) {
  Dims dims(rank - shape.size(), 1);
  dims.insert(dims.end(), shape.begin(), shape.end());
  return dims;
}

// An operand in the role oneDNN gives it: full-shaped ones in the layout of the first source, broadcast ones
// plain; constants are reordered once at compile time.
struct Operand {
  std::optional<Slot> slot;
  dnnl::memory constant;
  memory::desc md;
};

Operand operand(GraphBuilder& builder, ir::ValueId v, const Dims& dims, const std::optional<memory::desc>& full_md) {
  const ir::Value& value = builder.graph().value(v);
  Operand op;
  if (value.is_constant()) {
    op.md = full_md ? *full_md : plain_desc(dims);
    op.constant = builder.constant(v, plain_desc(dims), op.md);
    return op;
  }
  if (full_md) {
    op.slot = builder.read_as(v, *full_md);
    op.md = *full_md;
    return op;
  }
  // Broadcast operands are small; a plain copy (if needed) lets the rank be aligned by a reshape.
  Slot slot = builder.read_as(v, plain_desc(to_dims(value.shape)));
  slot.md = plain_desc(dims);
  op.slot = slot;
  op.md = slot.md;
  return op;
}

}  // namespace

void build_binary(GraphBuilder& builder, const ir::Node& node) {
  const ir::Graph& graph = builder.graph();
  const ir::ValueId y = node.outputs[0];
  const Shape& out_shape = graph.value(y).shape;
  auto shape_of = [&](ir::ValueId v) -> const Shape& {
    return graph.value(v).is_constant() ? graph.value(v).data->shape() : graph.value(v).shape;
  };
  ir::ValueId a = node.inputs[0], b = node.inputs[1];
  const Dims out_dims = to_dims(out_shape);
  Dims a_dims = aligned_dims(shape_of(a), out_shape.size()), b_dims = aligned_dims(shape_of(b), out_shape.size());
  const bool commutative = node.op == ir::Op::Add || node.op == ir::Op::Mul;
  bool first_broadcast = a_dims != out_dims;
  if (first_broadcast && commutative) {
    std::swap(a, b);
    std::swap(a_dims, b_dims);
    first_broadcast = false;
  }
  // The full-shaped source (a, or b when a broadcasts) sets the layout: the producer's, or the concat slice.
  const ir::ValueId full = first_broadcast ? b : a;
  const std::optional<memory::desc> required = builder.required_output_layout(y);
  memory::desc layout = required ? *required
                        : graph.value(full).is_constant() ? plain_desc(out_dims)
                                                          : builder.layout(full);
  if (!graph.value(full).is_constant() && !required && layout.dims() != out_dims) layout = plain_desc(out_dims);

  dnnl::primitive_attr attr = builder.attr();
  dnnl::algorithm algorithm = algorithm_of(node.op);
  Operand src0, src1, post_operand;
  if (!first_broadcast) {
    src0 = operand(builder, a, a_dims, layout);
    src1 = operand(builder, b, b_dims, b_dims == out_dims ? std::optional<memory::desc>(layout) : std::nullopt);
  } else {
    src0 = operand(builder, b, b_dims, layout);
    src1 = operand(builder, a, a_dims, std::nullopt);
    post_operand = src0;
    attr.set_scales(DNNL_ARG_SRC_0, 0, {0.f});
    dnnl::post_ops post_ops;
    post_ops.append_binary(algorithm, src0.md);
    attr.set_post_ops(post_ops);
    algorithm = dnnl::algorithm::binary_add;
  }
  dnnl::binary::desc desc(algorithm, src0.md, src1.md, required ? *required : src0.md);
  dnnl::binary::primitive_desc pd(desc, attr, builder.engine());
  const Slot dst = builder.write(y, pd.dst_desc());

  std::vector<std::pair<int, Slot>> arena_args{{DNNL_ARG_DST, dst}};
  ArgMemories constants;
  auto bind = [&](int arg, const Operand& o) {
    if (o.slot) arena_args.emplace_back(arg, *o.slot);
    else constants[arg] = o.constant;
  };
  bind(DNNL_ARG_SRC_0, src0);
  bind(DNNL_ARG_SRC_1, src1);
  if (first_broadcast) bind(DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1, post_operand);
  builder.add_primitive(dnnl::binary(pd), pd, std::move(arena_args), std::move(constants),
                        LayerInfo{node.name, ir::op_name(node.op), onednn_kernel_name(pd), Precision::fp32,
                                  describe_layout(dst.md),
                                  required ? "writes into its concat in place" : ""});
}

// The op table's entry (cpu_op_table.cpp): two operands of the output's rank or less, one of them full-shaped
// (oneDNN broadcasts one source only; build_binary swaps or rewrites the op when it is the first).
namespace {

// Numpy broadcasting of `shape` against the output, right-aligned: the shape the operand takes.
Shape broadcast_aligned(const Shape& shape, size_t rank) {
  Shape out(rank - std::min(rank, shape.size()), 1);
  out.insert(out.end(), shape.begin(), shape.end());
  return out;
}

bool binary_supported(const ir::Graph& graph, const ir::Node& node) {
  if (node.inputs.size() != 2 || node.inputs[1] == ir::kNoValue) return false;
  const Shape& out = graph.value(node.outputs[0]).shape;
  const Shape a = broadcast_aligned(value_shape(graph, node.inputs[0]), out.size());
  const Shape b = broadcast_aligned(value_shape(graph, node.inputs[1]), out.size());
  return a.size() == out.size() && b.size() == out.size() && (a == out || b == out);
}

}  // namespace

OpEntry binary_entry(ir::Op op) {
  return {.op = op, .supports = binary_supported, .build = build_binary, .writes_concat_slice = true};
}

}  // namespace crowdrt::cpu
