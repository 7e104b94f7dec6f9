// Constant folding: after this pass, every value has a known shape, the shape arithmetic exporters leave behind
// (Shape → Gather → Cast → Mul → Floor → Concat → Resize(sizes), ...) has become constants, and compute ops carry
// the canonical attributes of ir/graph.h that backends read (canonical_attributes.cpp writes them, node by node,
// before a node is evaluated or kept). Operator semantics per the ONNX operator docs.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "ir/passes/passes.h"

#include "core/checked.h"
#include "ir/passes/canonical_attributes.h"
#include "ir/shape_inference.h"

namespace crowdrt::ir {
namespace {

bool is_integral(DType d) {
  return d == DType::i64 || d == DType::i32 || d == DType::i8 || d == DType::u8 || d == DType::boolean;
}

[[noreturn]] void fail(const Graph& graph, const Node& node, const std::string& why) {
  throw Error(cat(describe(graph, node), ": ", why));
}

// ---------------------------------------------------------------------------------------------------------
// The evaluator: shape arithmetic on int64, small float math on double, data movement on raw bytes.
// Output shapes and dtypes come from shape inference, run before evaluation.

// For each element of `out`, the flat index of the element of `in` that numpy broadcasting reads.
std::vector<int64_t> broadcast_offsets(const Shape& out, const Shape& in) {
  const size_t rank = out.size();
  std::vector<int64_t> strides(rank, 0);
  int64_t stride = 1;
  for (size_t i = 0; i < in.size(); ++i) {
    const size_t d = in.size() - 1 - i;
    strides[rank - 1 - i] = in[d] == 1 ? 0 : stride;
    stride *= in[d];
  }
  const int64_t n = shape_numel(out);
  std::vector<int64_t> offsets(n);
  std::vector<int64_t> index(rank, 0);
  int64_t offset = 0;
  for (int64_t i = 0; i < n; ++i) {
    offsets[i] = offset;
    for (size_t d = rank; d-- > 0;) {  // odometer increment
      ++index[d];
      offset += strides[d];
      if (index[d] < out[d]) break;
      offset -= strides[d] * index[d];
      index[d] = 0;
    }
  }
  return offsets;
}

std::vector<double> as_doubles(const Tensor& t) {
  const Tensor d = t.cast(DType::f64);
  return {d.span<double>().begin(), d.span<double>().end()};
}

Tensor from_doubles(const std::vector<double>& v, const Shape& shape, DType dtype) {
  return Tensor::from<double>(shape, std::span<const double>(v)).cast(dtype);
}

Tensor from_int64s(const std::vector<int64_t>& v, const Shape& shape, DType dtype) {
  return Tensor::from<int64_t>(shape, std::span<const int64_t>(v)).cast(dtype);
}

class Evaluator {
 public:
  Evaluator(const Graph& graph, const Node& node) : graph_(graph), node_(node) {}

  Tensor run() {
    const Value& out = graph_.value(node_.outputs.at(0));
    switch (node_.op) {
      case Op::Identity:
      case Op::Reshape:
      case Op::Squeeze:
      case Op::Unsqueeze: return in(0).reshaped(out.shape);
      case Op::Cast: return in(0).cast(out.dtype);
      case Op::Shape: return shape_of(out);
      case Op::ConstantOfShape: return constant_of_shape(out);
      case Op::Add:
      case Op::Sub:
      case Op::Mul:
      case Op::Div:
      case Op::Equal: return binary(out);
      case Op::Floor:
      case Op::Ceil:
      case Op::Sqrt:
      case Op::Neg:
      case Op::Relu:
      case Op::Clip: return unary(out);
      case Op::Where: return where(out);
      case Op::Expand: return move_bytes(in(0), out, broadcast_offsets(out.shape, in(0).shape()));
      case Op::Gather: return gather(out);
      case Op::Slice: return slice(out);
      case Op::Concat: return concat(out);
      case Op::Range: return range(out);
      case Op::Transpose: return transpose(out);
      default: break;
    }
    fail(graph_, node_, "cannot be evaluated at build time");
  }

  static bool can_evaluate(Op op) {
    return is_shape_op(op) || op == Op::Identity || op == Op::Concat || op == Op::Relu || op == Op::Clip ||
           is_elementwise_binary(op);
  }

 private:
  const Tensor& in(size_t i) const { return graph_.constant(node_.inputs.at(i)); }

  Tensor move_bytes(const Tensor& from, const Value& out, const std::vector<int64_t>& source_index) const {
    Tensor t(from.dtype(), out.shape);
    const size_t size = dtype_size(from.dtype());
    for (size_t i = 0; i < source_index.size(); ++i)
      std::memcpy(t.raw() + i * size, from.raw() + source_index[i] * size, size);
    return t;
  }

  Tensor transpose(const Value& out) const {
    const Tensor& x = in(0);
    const Shape& xs = x.shape();
    const std::vector<int64_t> perm = transpose_perm(node_.attrs, xs.size());
    std::vector<int64_t> in_strides(xs.size(), 1);
    for (int i = static_cast<int>(xs.size()) - 2; i >= 0; --i) in_strides[i] = in_strides[i + 1] * xs[i + 1];
    std::vector<int64_t> source(static_cast<size_t>(x.numel())), index(xs.size(), 0);
    for (size_t flat = 0; flat < source.size(); ++flat) {
      int64_t offset = 0;
      for (size_t d = 0; d < index.size(); ++d) offset += index[d] * in_strides[perm[d]];
      source[flat] = offset;
      for (int d = static_cast<int>(index.size()) - 1; d >= 0; --d) {  // next output index, row-major
        if (++index[d] < out.shape[d]) break;
        index[d] = 0;
      }
    }
    return move_bytes(x, out, source);
  }

  Tensor shape_of(const Value& out) const {
    const Shape& s = graph_.value(node_.inputs.at(0)).shape;
    const int64_t rank = static_cast<int64_t>(s.size());
    int64_t start = node_.attrs.i("start", 0);
    start = std::clamp<int64_t>(start < 0 ? start + rank : start, 0, rank);
    return from_int64s(std::vector<int64_t>(s.begin() + start, s.begin() + start + out.shape[0]), out.shape,
                       DType::i64);
  }

  Tensor constant_of_shape(const Value& out) const {
    const int64_t n = shape_numel(out.shape);
    if (is_integral(out.dtype))
      return from_int64s(std::vector<int64_t>(n, node_.attrs.i("value", 0)), out.shape, out.dtype);
    return from_doubles(std::vector<double>(n, node_.attrs.f("value", 0.f)), out.shape, out.dtype);
  }

  Tensor binary(const Value& out) const {
    const Tensor &a = in(0), &b = in(1);
    const std::vector<int64_t> ia = broadcast_offsets(out.shape, a.shape()),
                               ib = broadcast_offsets(out.shape, b.shape());
    const size_t n = ia.size();
    if (is_integral(a.dtype()) && is_integral(b.dtype())) {
      const std::vector<int64_t> x = a.to_int64(), y = b.to_int64();
      std::vector<int64_t> r(n);
      for (size_t i = 0; i < n; ++i) {
        const int64_t p = x[ia[i]], q = y[ib[i]];
        // Shape arithmetic from the model: checked, so that an overflow is an Error naming the node.
        const std::string what = describe(graph_, node_);
        switch (node_.op) {
          case Op::Add: r[i] = checked_add(p, q, what); break;
          case Op::Sub:
            if (q == std::numeric_limits<int64_t>::min()) fail(graph_, node_, "integer subtraction overflows 64 bits");
            r[i] = checked_add(p, -q, what);
            break;
          case Op::Mul: r[i] = checked_mul(p, q, what); break;
          case Op::Div:
            if (q == 0) fail(graph_, node_, "integer division by zero");
            if (q == -1 && p == std::numeric_limits<int64_t>::min())
              fail(graph_, node_, "integer division overflows 64 bits");
            r[i] = p / q;
            break;
          default: r[i] = p == q; break;
        }
      }
      return from_int64s(r, out.shape, out.dtype);
    }
    const std::vector<double> x = as_doubles(a), y = as_doubles(b);
    std::vector<double> r(n);
    for (size_t i = 0; i < n; ++i) {
      const double p = x[ia[i]], q = y[ib[i]];
      switch (node_.op) {
        case Op::Add: r[i] = p + q; break;
        case Op::Sub: r[i] = p - q; break;
        case Op::Mul: r[i] = p * q; break;
        case Op::Div: r[i] = p / q; break;
        default: r[i] = p == q; break;
      }
    }
    return from_doubles(r, out.shape, out.dtype);
  }

  Tensor unary(const Value& out) const {
    const Tensor& a = in(0);
    if (is_integral(a.dtype()) && node_.op != Op::Sqrt) {
      std::vector<int64_t> v = a.to_int64();
      for (int64_t& x : v) {
        if (node_.op == Op::Neg) x = -x;
        else if (node_.op == Op::Relu) x = std::max<int64_t>(x, 0);
        else if (node_.op == Op::Clip)
          x = std::min(std::max(x, static_cast<int64_t>(std::max(node_.attrs.f("min"), -9.2e18f))),
                       static_cast<int64_t>(std::min(node_.attrs.f("max"), 9.2e18f)));
      }
      return from_int64s(v, out.shape, out.dtype);
    }
    std::vector<double> v = as_doubles(a);
    for (double& x : v) {
      switch (node_.op) {
        case Op::Floor: x = std::floor(x); break;
        case Op::Ceil: x = std::ceil(x); break;
        case Op::Sqrt: x = std::sqrt(x); break;
        case Op::Neg: x = -x; break;
        case Op::Relu: x = std::max(x, 0.0); break;
        default: x = std::min<double>(std::max<double>(x, node_.attrs.f("min")), node_.attrs.f("max")); break;
      }
    }
    return from_doubles(v, out.shape, out.dtype);
  }

  Tensor where(const Value& out) const {
    const Tensor &cond = in(0), &x = in(1), &y = in(2);
    if (x.dtype() != y.dtype()) fail(graph_, node_, "its two branches have different element types");
    const std::vector<int64_t> c = cond.to_int64();
    const std::vector<int64_t> ic = broadcast_offsets(out.shape, cond.shape());
    const std::vector<int64_t> ix = broadcast_offsets(out.shape, x.shape()),
                               iy = broadcast_offsets(out.shape, y.shape());
    Tensor t(x.dtype(), out.shape);
    const size_t size = dtype_size(x.dtype());
    for (size_t i = 0; i < ic.size(); ++i) {
      const bool take_x = c[ic[i]] != 0;
      std::memcpy(t.raw() + i * size, (take_x ? x.raw() + ix[i] * size : y.raw() + iy[i] * size), size);
    }
    return t;
  }

  Tensor gather(const Value& out) const {
    const Tensor& data = in(0);
    const Shape& shape = data.shape();
    const int64_t rank = static_cast<int64_t>(shape.size());
    int64_t axis = node_.attrs.i("axis", 0);
    if (axis < 0) axis += rank;
    const std::vector<int64_t> indices = in(1).to_int64();
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < axis; ++d) outer *= shape[d];
    for (int64_t d = axis + 1; d < rank; ++d) inner *= shape[d];
    const int64_t dim = shape[axis];
    std::vector<int64_t> source;
    source.reserve(shape_numel(out.shape));
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t index : indices) {
        if (index < -dim || index >= dim) fail(graph_, node_, cat("index ", index, " is out of range for size ", dim));
        const int64_t k = index < 0 ? index + dim : index;
        for (int64_t j = 0; j < inner; ++j) source.push_back((o * dim + k) * inner + j);
      }
    return move_bytes(data, out, source);
  }

  Tensor slice(const Value& out) const {
    const std::vector<SliceRange> ranges = slice_ranges(graph_, node_);
    const Shape& shape = in(0).shape();
    const size_t rank = shape.size();
    std::vector<int64_t> strides(rank, 1);
    for (size_t d = rank; d-- > 1;) strides[d - 1] = strides[d] * shape[d];
    std::vector<int64_t> source;
    const int64_t n = shape_numel(out.shape);
    std::vector<int64_t> index(rank, 0);
    for (int64_t i = 0; i < n; ++i) {
      int64_t offset = 0;
      for (size_t d = 0; d < rank; ++d) offset += (ranges[d].start + index[d] * ranges[d].step) * strides[d];
      source.push_back(offset);
      for (size_t d = rank; d-- > 0;) {
        if (++index[d] < out.shape[d]) break;
        index[d] = 0;
      }
    }
    return move_bytes(in(0), out, source);
  }

  Tensor concat(const Value& out) const {
    const int64_t axis = node_.attrs.i("axis", 0);
    Tensor t(in(0).dtype(), out.shape);
    int64_t outer = 1;
    for (int64_t d = 0; d < axis; ++d) outer *= out.shape[d];
    const size_t size = dtype_size(t.dtype());
    std::byte* dst = t.raw();
    for (int64_t o = 0; o < outer; ++o)
      for (size_t i = 0; i < node_.inputs.size(); ++i) {
        const Tensor& part = in(i);
        if (part.dtype() != t.dtype()) fail(graph_, node_, "its inputs have different element types");
        const size_t block = static_cast<size_t>(part.numel() / std::max<int64_t>(outer, 1)) * size;
        if (block == 0) continue;
        std::memcpy(dst, part.raw() + o * block, block);
        dst += block;
      }
    return t;
  }

  Tensor range(const Value& out) const {
    const int64_t n = out.shape[0];
    if (is_integral(out.dtype)) {
      const int64_t start = in(0).to_int64()[0], delta = in(2).to_int64()[0];
      std::vector<int64_t> v(n);
      const std::string what = describe(graph_, node_);
      for (int64_t i = 0; i < n; ++i) v[i] = checked_add(start, checked_mul(i, delta, what), what);
      return from_int64s(v, out.shape, out.dtype);
    }
    const double start = as_doubles(in(0))[0], delta = as_doubles(in(2))[0];
    std::vector<double> v(n);
    for (int64_t i = 0; i < n; ++i) v[i] = start + static_cast<double>(i) * delta;
    return from_doubles(v, out.shape, out.dtype);
  }

  const Graph& graph_;
  const Node& node_;
};

bool all_inputs_constant(const Graph& graph, const Node& node) {
  return std::all_of(node.inputs.begin(), node.inputs.end(),
                     [&](ValueId v) { return v == kNoValue || graph.value(v).is_constant(); });
}

std::string runtime_input_names(const Graph& graph, const Node& node) {
  std::string names;
  for (ValueId v : node.inputs)
    if (v != kNoValue && !graph.value(v).is_constant())
      names += cat(names.empty() ? "'" : ", '", graph.value(v).name, "'");
  return names;
}

}  // namespace

Graph fold_constants(Graph graph) {
  graph.remove_dead_nodes();  // shape arithmetic nobody reads need not be foldable
  graph.sort_topologically();
  std::vector<Node> kept;
  for (Node& node : graph.nodes()) {
    canonicalise_attributes(graph, node);
    const bool shape_of_known = node.op == Op::Shape && graph.value(node.inputs.at(0)).shape_known;
    const bool evaluate = Evaluator::can_evaluate(node.op) && (shape_of_known || all_inputs_constant(graph, node));
    if (is_shape_op(node.op) && !evaluate)
      fail(graph, node, cat("depends on ", runtime_input_names(graph, node),
                            ", computed at run time, so it cannot be folded; crowdrt runs shape operators only on "
                            "constants (export with fixed input shapes, or simplify the model with onnxsim)"));
    infer_node_shapes(graph, node);
    if (!evaluate) {
      kept.push_back(std::move(node));
      continue;
    }
    Value& out = graph.value(node.outputs.at(0));
    if (node.op == Op::Identity) {  // shares the weights instead of copying them
      out.data = graph.value(node.inputs.at(0)).data;
      continue;
    }
    Tensor result = Evaluator(graph, node).run();
    out.dtype = result.dtype();
    out.shape = result.shape();
    out.shape_known = true;
    out.data = std::make_shared<const Tensor>(std::move(result));
  }
  graph.nodes() = std::move(kept);
  graph.remove_dead_nodes();
  graph.validate();
  return graph;
}

}  // namespace crowdrt::ir
