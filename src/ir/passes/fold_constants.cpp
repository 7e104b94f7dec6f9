// Constant folding and canonicalisation: after this pass, every value has a known shape, the shape arithmetic
// exporters leave behind (Shape → Gather → Cast → Mul → Floor → Concat → Resize(sizes), ...) has become
// constants, and compute ops carry the canonical attributes of ir/graph.h that backends read.
// Operator semantics per the ONNX operator docs.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "ir/passes/passes.h"

#include "core/checked.h"
#include "ir/shape_inference.h"

namespace crowdrt::ir {
namespace {

bool is_integral(DType d) {
  return d == DType::i64 || d == DType::i32 || d == DType::i8 || d == DType::u8 || d == DType::boolean;
}

[[noreturn]] void fail(const Graph& graph, const Node& node, const std::string& why) {
  throw Error(cat(describe(graph, node), ": ", why));
}

const Tensor& constant_input(const Graph& graph, const Node& node, size_t i, const char* what) {
  const Value& v = graph.value(node.inputs.at(i));
  if (!v.is_constant())
    fail(graph, node, cat("its ", what, " input '", v.name, "' is computed at run time; crowdrt needs it constant"));
  return *v.data;
}

bool has_input(const Node& node, size_t i) { return i < node.inputs.size() && node.inputs[i] != kNoValue; }

// ---------------------------------------------------------------------------------------------------------
// Canonical attributes (ir/graph.h). Each rewrite reads only input shapes and constant inputs, which are
// known here because nodes are visited in topological order.

void canonicalise_conv(const Graph& graph, Node& node) {
  const Shape& x = graph.value(node.inputs.at(0)).shape;
  const Shape& w = graph.value(node.inputs.at(1)).shape;
  if (x.size() < 3 || w.size() != x.size())
    fail(graph, node, cat("input ", shape_str(x), " and weight ", shape_str(w), " do not fit a convolution"));
  const size_t rank = x.size() - 2;
  const Shape spatial(x.begin() + 2, x.end());
  Attributes& a = node.attrs;
  const std::vector<int64_t> kernel = a.ints("kernel_shape", Shape(w.begin() + 2, w.end()));
  const std::vector<int64_t> strides = a.ints("strides", std::vector<int64_t>(rank, 1));
  const std::vector<int64_t> dilations = a.ints("dilations", std::vector<int64_t>(rank, 1));
  a.set("kernel_shape", kernel);
  a.set("strides", strides);
  a.set("dilations", dilations);
  a.set("group", a.i("group", 1));
  if (node.op == Op::Conv) {
    a.set("pads", explicit_pads(spatial, kernel, strides, dilations, a.s("auto_pad", "NOTSET"), a.ints("pads")));
    a.erase("auto_pad");
    return;
  }
  // ConvTranspose: an output_shape or SAME auto_pad fixes the total padding per dimension
  // (ONNX ConvTranspose: total = stride*(in-1) + output_padding + (k-1)*dilation + 1 - out).
  std::vector<int64_t> output_padding = a.ints("output_padding", std::vector<int64_t>(rank, 0));
  std::vector<int64_t> pads = a.ints("pads", std::vector<int64_t>(2 * rank, 0));
  const std::string auto_pad = a.s("auto_pad", "NOTSET");
  const bool same = auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER";
  if (auto_pad == "VALID") pads.assign(2 * rank, 0);
  if (a.has("output_shape") || same) {
    std::vector<int64_t> out = a.ints("output_shape");
    if (out.size() == rank + 2) out.erase(out.begin(), out.begin() + 2);
    if (same)
      for (size_t i = 0; i < rank; ++i) out.push_back(spatial[i] * strides[i]);
    if (out.size() != rank) fail(graph, node, "output_shape does not match the input rank");
    for (size_t i = 0; i < rank; ++i) {
      int64_t total = strides[i] * (spatial[i] - 1) + output_padding[i] + (kernel[i] - 1) * dilations[i] + 1 - out[i];
      if (total < 0) {  // the output is larger than the kernel reaches: extra rows at the end
        output_padding[i] -= total;
        total = 0;
      }
      const bool upper = auto_pad == "SAME_UPPER";
      pads[i] = upper ? total / 2 : total - total / 2;
      pads[rank + i] = upper ? total - total / 2 : total / 2;
    }
  }
  if (pads.size() != 2 * rank) fail(graph, node, cat("pads has ", pads.size(), " values for ", rank, " dimensions"));
  a.set("pads", pads);
  a.set("output_padding", output_padding);
  a.erase("auto_pad");
  a.erase("output_shape");
}

void canonicalise_pool(const Graph& graph, Node& node) {
  const Shape& x = graph.value(node.inputs.at(0)).shape;
  Attributes& a = node.attrs;
  if (x.size() < 3) fail(graph, node, cat("input ", shape_str(x), " is not N x C x spatial"));
  if (!a.has("kernel_shape")) fail(graph, node, "kernel_shape is missing");
  const size_t rank = x.size() - 2;
  const std::vector<int64_t> kernel = a.ints("kernel_shape");
  const std::vector<int64_t> strides = a.ints("strides", std::vector<int64_t>(rank, 1));
  const std::vector<int64_t> dilations = a.ints("dilations", std::vector<int64_t>(rank, 1));
  a.set("strides", strides);
  a.set("pads", explicit_pads(Shape(x.begin() + 2, x.end()), kernel, strides, dilations, a.s("auto_pad", "NOTSET"),
                              a.ints("pads")));
  a.set("ceil_mode", a.i("ceil_mode", 0));
  a.erase("auto_pad");
  a.erase("storage_order");
  if (node.op == Op::MaxPool) {
    a.set("dilations", dilations);
  } else {
    if (std::any_of(dilations.begin(), dilations.end(), [](int64_t d) { return d != 1; }))
      fail(graph, node, "AveragePool with dilations is not supported");
    a.erase("dilations");
    a.set("count_include_pad", a.i("count_include_pad", 0));
  }
}

void canonicalise_clip(const Graph& graph, Node& node) {
  constexpr float kInf = std::numeric_limits<float>::infinity();
  auto bound = [&](size_t i, const char* name, float fallback) {
    if (has_input(node, i)) {
      const Tensor& t = constant_input(graph, node, i, name);
      if (t.numel() != 1) fail(graph, node, cat("its ", name, " input must be a scalar"));
      return t.to_float()[0];
    }
    return node.attrs.f(name, fallback);
  };
  node.attrs.set("min", bound(1, "min", -kInf));
  node.attrs.set("max", bound(2, "max", kInf));
  node.inputs.resize(1);
}

void canonicalise_pad(const Graph& graph, Node& node) {
  const Shape& x = graph.value(node.inputs.at(0)).shape;
  const size_t rank = x.size();
  Attributes& a = node.attrs;
  std::vector<int64_t> pads = a.ints("pads");
  float value = a.f("value", 0.f);
  if (has_input(node, 1)) {
    pads = constant_input(graph, node, 1, "pads").to_int64();
    if (has_input(node, 3)) {  // opset 18: pads for the listed axes only
      const std::vector<int64_t> axes = constant_input(graph, node, 3, "axes").to_int64();
      if (pads.size() != 2 * axes.size()) fail(graph, node, "pads and axes do not match");
      std::vector<int64_t> full(2 * rank, 0);
      for (size_t i = 0; i < axes.size(); ++i) {
        const int64_t r = static_cast<int64_t>(rank);
        if (axes[i] < -r || axes[i] >= r) fail(graph, node, cat("axis ", axes[i], " is out of range"));
        const int64_t axis = axes[i] < 0 ? axes[i] + r : axes[i];
        full[axis] = pads[i];
        full[rank + axis] = pads[axes.size() + i];
      }
      pads = full;
    }
  }
  if (has_input(node, 2)) {
    const Tensor& t = constant_input(graph, node, 2, "constant_value");
    if (t.numel() != 1) fail(graph, node, "its constant_value input must be a scalar");
    value = t.to_float()[0];
  }
  if (pads.size() != 2 * rank) fail(graph, node, cat("pads has ", pads.size(), " values for rank ", rank));
  const std::string mode = a.s("mode", "constant");
  if (mode != "constant" && mode != "reflect" && mode != "edge")
    fail(graph, node, cat("Pad mode '", mode, "' is not supported; crowdrt supports constant, reflect and edge"));
  a.set("pads", pads);
  a.set("mode", mode);
  a.set("value", value);
  node.inputs.resize(1);
}

std::vector<int64_t> normalised_axes(const Graph& graph, const Node& node, std::vector<int64_t> axes, int64_t rank) {
  for (int64_t& axis : axes) {
    if (axis < -rank || axis >= rank) fail(graph, node, cat("axis ", axis, " is out of range for rank ", rank));
    if (axis < 0) axis += rank;
  }
  std::sort(axes.begin(), axes.end());
  axes.erase(std::unique(axes.begin(), axes.end()), axes.end());
  return axes;
}

void canonicalise_reduce_mean(Graph& graph, Node& node) {
  const int64_t rank = static_cast<int64_t>(graph.value(node.inputs.at(0)).shape.size());
  std::vector<int64_t> axes = node.attrs.ints("axes");
  if (has_input(node, 1)) axes = constant_input(graph, node, 1, "axes").to_int64();
  if (axes.empty()) {
    if (node.attrs.i("noop_with_empty_axes", 0) != 0) {  // opset 18: no axes means no reduction
      node.op = Op::Identity;
      node.attrs = {};
      node.inputs.resize(1);
      return;
    }
    for (int64_t d = 0; d < rank; ++d) axes.push_back(d);
  }
  node.attrs.set("axes", normalised_axes(graph, node, axes, rank));
  node.attrs.set("keepdims", node.attrs.i("keepdims", 1));
  node.attrs.erase("noop_with_empty_axes");
  node.inputs.resize(1);
}

// Resize keeps only X; "scales" are the factors ONNX maps coordinates with: the given scales, or out/in
// when sizes were given (then the output size is the sizes, which the value's shape records).
void canonicalise_resize(Graph& graph, Node& node) {
  const Shape& x = graph.value(node.inputs.at(0)).shape;
  std::vector<float> scales = node.attrs.floats("scales");
  if (has_input(node, 3)) {
    const std::vector<int64_t> sizes = constant_input(graph, node, 3, "sizes").to_int64();
    if (sizes.size() != x.size()) fail(graph, node, cat("sizes has ", sizes.size(), " values for rank ", x.size()));
    scales.clear();
    for (size_t d = 0; d < x.size(); ++d)
      scales.push_back(static_cast<float>(static_cast<double>(sizes[d]) / static_cast<double>(x[d])));
    Value& out = graph.value(node.outputs.at(0));
    out.shape = sizes;
    out.shape_known = true;
  } else if (has_input(node, 2) && constant_input(graph, node, 2, "scales").numel() > 0) {
    scales = constant_input(graph, node, 2, "scales").to_float();
  }
  if (scales.size() != x.size())
    fail(graph, node, cat("needs one scale per dimension of ", shape_str(x),
                          " from a constant scales or sizes input or a scales attribute"));
  Attributes& a = node.attrs;
  a.set("scales", scales);
  a.set("mode", a.s("mode", "nearest"));
  a.set("coordinate_transformation_mode", a.s("coordinate_transformation_mode", "half_pixel"));
  a.set("nearest_mode", a.s("nearest_mode", "round_prefer_floor"));
  node.inputs.resize(1);
}

void canonicalise(Graph& graph, Node& node) {
  switch (node.op) {
    case Op::Conv:
    case Op::ConvTranspose: return canonicalise_conv(graph, node);
    case Op::MaxPool:
    case Op::AveragePool: return canonicalise_pool(graph, node);
    case Op::Clip: return canonicalise_clip(graph, node);
    case Op::Pad: return canonicalise_pad(graph, node);
    case Op::ReduceMean: return canonicalise_reduce_mean(graph, node);
    case Op::Resize: return canonicalise_resize(graph, node);
    case Op::Concat: {
      const int64_t rank = static_cast<int64_t>(graph.value(node.inputs.at(0)).shape.size());
      node.attrs.set("axis", normalised_axes(graph, node, {node.attrs.i("axis", 0)}, rank)[0]);
      return;
    }
    case Op::Squeeze:
    case Op::Unsqueeze:
      if (has_input(node, 1) && graph.value(node.inputs[1]).is_constant()) {
        node.attrs.set("axes", graph.constant(node.inputs[1]).to_int64());
        node.inputs.resize(1);
      }
      return;
    case Op::BatchNormalization: node.attrs.set("epsilon", node.attrs.f("epsilon", 1e-5f)); return;
    case Op::LeakyRelu: node.attrs.set("alpha", node.attrs.f("alpha", 0.01f)); return;
    case Op::HardSigmoid:
      node.attrs.set("alpha", node.attrs.f("alpha", 0.2f));
      node.attrs.set("beta", node.attrs.f("beta", 0.5f));
      return;
    default: return;
  }
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
    if (is_integral(out.dtype)) return from_int64s(std::vector<int64_t>(n, node_.attrs.i("value", 0)), out.shape, out.dtype);
    return from_doubles(std::vector<double>(n, node_.attrs.f("value", 0.f)), out.shape, out.dtype);
  }

  Tensor binary(const Value& out) const {
    const Tensor &a = in(0), &b = in(1);
    const std::vector<int64_t> ia = broadcast_offsets(out.shape, a.shape()), ib = broadcast_offsets(out.shape, b.shape());
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
            if (q == -1 && p == std::numeric_limits<int64_t>::min()) fail(graph_, node_, "integer division overflows 64 bits");
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
    const std::vector<int64_t> ix = broadcast_offsets(out.shape, x.shape()), iy = broadcast_offsets(out.shape, y.shape());
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
    if (v != kNoValue && !graph.value(v).is_constant()) names += cat(names.empty() ? "'" : ", '", graph.value(v).name, "'");
  return names;
}

}  // namespace

Graph fold_constants(Graph graph) {
  graph.remove_dead_nodes();  // shape arithmetic nobody reads need not be foldable
  graph.sort_topologically();
  std::vector<Node> kept;
  for (Node& node : graph.nodes()) {
    canonicalise(graph, node);
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
