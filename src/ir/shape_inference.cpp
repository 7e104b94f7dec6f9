// Output shapes per the ONNX operator docs. Compute ops are read in their canonical form (ir/graph.h) or in
// their raw ONNX form (defaults, auto_pad, constant scales/sizes/pads inputs), so inference works both
// before and after fold_constants. Ops whose output shape depends on input values need those inputs constant.
#include "ir/shape_inference.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include "core/checked.h"
#include "ir/op_params.h"

namespace crowdrt::ir {
namespace {

// Cast's "to" and ConstantOfShape's "dtype" hold ONNX TensorProto.DataType codes (onnx.proto).
DType dtype_from_onnx_code(int64_t code, const Graph& graph, const Node& node) {
  switch (code) {
    case 1: return DType::f32;
    case 2: return DType::u8;
    case 3: return DType::i8;
    case 6: return DType::i32;
    case 7: return DType::i64;
    case 9: return DType::boolean;
    case 10: return DType::f16;
    case 11: return DType::f64;
    case 16: return DType::bf16;
    default: break;
  }
  throw Error(cat(describe(graph, node), ": element type code ", code, " is not supported"));
}

class NodeShapes {
 public:
  NodeShapes(Graph& graph, const Node& node) : graph_(graph), node_(node) {}

  [[noreturn]] void fail(const std::string& why) const { throw Error(cat(describe(graph_, node_), ": ", why)); }

  bool has_input(size_t i) const { return i < node_.inputs.size() && node_.inputs[i] != kNoValue; }

  const Value& input(size_t i) const {
    if (!has_input(i)) fail(cat("input ", i, " is missing"));
    const Value& v = graph_.value(node_.inputs[i]);
    if (!v.shape_known) fail(cat("the shape of input '", v.name, "' is not known (is the graph in order?)"));
    return v;
  }
  const Shape& shape(size_t i) const { return input(i).shape; }

  // A value-carrying input (axes, pads, shape, ...) that must be constant for the output shape to be known.
  const Tensor& constant(size_t i, const char* what) const {
    const Value& v = input(i);
    if (!v.is_constant())
      fail(cat("its ", what, " input '", v.name,
               "' is computed at run time; crowdrt needs it constant (export with fixed input shapes)"));
    return *v.data;
  }

  // Axes from the attribute (older opsets) or a constant input (newer ones); nullopt when neither is given.
  std::optional<std::vector<int64_t>> axes_of(size_t input_index) const {
    if (node_.attrs.has("axes")) return node_.attrs.ints("axes");
    if (has_input(input_index)) return constant(input_index, "axes").to_int64();
    return std::nullopt;
  }

  int64_t normalise_axis(int64_t axis, int64_t rank) const {
    if (axis < -rank || axis >= rank) fail(cat("axis ", axis, " is out of range for rank ", rank));
    return axis < 0 ? axis + rank : axis;
  }

  // Every computed shape is checked against the size limit here, before any pass allocates the value.
  void set(size_t output, DType dtype, Shape shape) const {
    for (int64_t d : shape)
      if (d < 0) fail(cat("computed output shape ", shape_str(shape), " has a negative dimension"));
    const std::string what = cat(describe(graph_, node_), ": output ", shape_str(shape));
    checked_tensor_bytes(checked_numel(shape, what), static_cast<int64_t>(dtype_size(dtype)), what);
    Value& v = graph_.value(node_.outputs.at(output));
    v.dtype = dtype;
    v.shape = std::move(shape);
    v.shape_known = true;
  }

  Shape broadcast(const Shape& a, const Shape& b) const {
    Shape out(std::max(a.size(), b.size()), 1);
    for (size_t i = 0; i < out.size(); ++i) {
      const int64_t da = i < out.size() - a.size() ? 1 : a[i - (out.size() - a.size())];
      const int64_t db = i < out.size() - b.size() ? 1 : b[i - (out.size() - b.size())];
      if (da != db && da != 1 && db != 1)
        fail(cat("shapes ", shape_str(a), " and ", shape_str(b), " cannot be broadcast together"));
      out[i] = da == 1 ? db : da;
    }
    return out;
  }

  void infer() {
    switch (node_.op) {
      case Op::Conv: return conv();
      case Op::ConvTranspose: return conv_transpose();
      case Op::MaxPool:
      case Op::AveragePool: return pool();
      case Op::GlobalAveragePool: {
        Shape s = shape(0);
        if (s.size() < 3) fail("GlobalAveragePool needs an N x C x spatial input");
        std::fill(s.begin() + 2, s.end(), 1);
        return set(0, input(0).dtype, s);
      }
      case Op::BatchNormalization:
      case Op::Relu:
      case Op::LeakyRelu:
      case Op::Clip:
      case Op::Sigmoid:
      case Op::HardSigmoid:
      case Op::HardSwish:
      case Op::Identity:
      case Op::Floor:
      case Op::Ceil:
      case Op::Sqrt:
      case Op::Neg: return set(0, input(0).dtype, shape(0));
      case Op::Add:
      case Op::Sub:
      case Op::Mul:
      case Op::Div: return set(0, input(0).dtype, broadcast(shape(0), shape(1)));
      case Op::Equal: return set(0, DType::boolean, broadcast(shape(0), shape(1)));
      case Op::Where: return set(0, input(1).dtype, broadcast(shape(0), broadcast(shape(1), shape(2))));
      case Op::Concat: return concat();
      case Op::ReduceMean: return reduce_mean();
      case Op::Resize: return resize();
      case Op::Pad: return pad();
      case Op::Shape: return shape_of();
      case Op::Gather: return gather();
      case Op::Unsqueeze: return unsqueeze();
      case Op::Squeeze: return squeeze();
      case Op::Cast: return set(0, dtype_from_onnx_code(node_.attrs.i("to", 1), graph_, node_), shape(0));
      case Op::Slice: return slice();
      case Op::ConstantOfShape:
        return set(0, dtype_from_onnx_code(node_.attrs.i("dtype", 1), graph_, node_),
                   constant(0, "shape").to_int64());
      case Op::Reshape: return reshape();
      case Op::Range: return range();
      case Op::Expand: return set(0, input(0).dtype, broadcast(shape(0), constant(1, "shape").to_int64()));
      case Op::Transpose: return transpose();
    }
    fail("has no shape rule");
  }

 private:
  // Spatial attributes with ONNX defaults: strides and dilations 1 (and at least 1), output_padding 0.
  std::vector<int64_t> per_axis(const char* name, size_t rank, int64_t fallback) const {
    std::vector<int64_t> v = node_.attrs.ints(name, std::vector<int64_t>(rank, fallback));
    if (v.size() != rank) fail(cat(name, " has ", v.size(), " values for ", rank, " spatial dimensions"));
    for (int64_t x : v)
      if (x < fallback) fail(cat(name, " holds ", x, "; each must be >= ", fallback));
    return v;
  }
  // Size arithmetic on values from the model: checked, an Error naming the node on overflow.
  int64_t add(int64_t a, int64_t b) const { return checked_add(a, b, describe(graph_, node_)); }
  int64_t mul(int64_t a, int64_t b) const { return checked_mul(a, b, describe(graph_, node_)); }
  // in + pad_begin + pad_end - dilation * (kernel - 1) - 1: the room a window slides over, minus one.
  int64_t window_span(int64_t in, int64_t pad_begin, int64_t pad_end, int64_t dilation, int64_t kernel) const {
    if (kernel < 1) fail(cat("kernel size ", kernel, " must be >= 1"));
    if (pad_begin < 0 || pad_end < 0) fail(cat("pads ", pad_begin, ", ", pad_end, " must be >= 0"));
    return add(add(add(in, pad_begin), pad_end), -add(mul(dilation, kernel - 1), 1));
  }
  // An output size by the op's rule (ir/op_params.h); an overflow there is an Error naming the node.
  template <class Rule>
  int64_t output_size(Rule rule) const {
    try {
      return rule();
    } catch (const Error& e) {
      fail(e.what());
    }
  }

  void conv() {
    const Shape& x = shape(0);
    const Shape& w = shape(1);
    if (x.size() < 3 || w.size() != x.size())
      fail(cat("input ", shape_str(x), " and weight ", shape_str(w), " do not fit a convolution"));
    const size_t rank = x.size() - 2;
    const int64_t group = node_.attrs.i("group", 1);
    if (group <= 0 || x[1] != mul(w[1], group) || w[0] % group != 0)
      fail(cat("input channels ", x[1], " do not match weight ", shape_str(w), " with group ", group));
    const std::vector<int64_t> kernel = node_.attrs.ints("kernel_shape", Shape(w.begin() + 2, w.end()));
    if (!std::equal(kernel.begin(), kernel.end(), w.begin() + 2, w.end()))
      fail(cat("kernel_shape does not match weight ", shape_str(w)));
    const auto strides = per_axis("strides", rank, 1), dilations = per_axis("dilations", rank, 1);
    const auto pads = explicit_pads(Shape(x.begin() + 2, x.end()), kernel, strides, dilations,
                                    node_.attrs.s("auto_pad", "NOTSET"), node_.attrs.ints("pads"));
    Shape out = {x[0], w[0]};
    for (size_t i = 0; i < rank; ++i) {
      const int64_t span = window_span(x[2 + i], pads[i], pads[rank + i], dilations[i], kernel[i]);
      if (span < 0) fail(cat("kernel is larger than the padded input ", shape_str(x)));
      out.push_back(output_size(
          [&] { return conv_output_size(x[2 + i], kernel[i], strides[i], dilations[i], pads[i], pads[rank + i]); }));
    }
    if (has_input(2) && shape_numel(shape(2)) != w[0])
      fail(cat("bias has ", shape_numel(shape(2)), " values for ", w[0], " channels"));
    set(0, input(0).dtype, out);
  }

  void conv_transpose() {
    const Shape& x = shape(0);
    const Shape& w = shape(1);
    if (x.size() < 3 || w.size() != x.size())
      fail(cat("input ", shape_str(x), " and weight ", shape_str(w), " do not fit a transposed convolution"));
    const size_t rank = x.size() - 2;
    const int64_t group = node_.attrs.i("group", 1);
    if (group <= 0 || x[1] != w[0]) fail(cat("input channels ", x[1], " do not match weight ", shape_str(w)));
    const std::vector<int64_t> kernel = node_.attrs.ints("kernel_shape", Shape(w.begin() + 2, w.end()));
    const auto strides = per_axis("strides", rank, 1), dilations = per_axis("dilations", rank, 1);
    const auto output_padding = per_axis("output_padding", rank, 0);
    if (x[1] % group != 0) fail(cat("group ", group, " does not divide the ", x[1], " input channels"));
    Shape out = {x[0], mul(w[1], group)};
    if (node_.attrs.has("output_shape")) {
      const std::vector<int64_t> given = node_.attrs.ints("output_shape");
      const Shape spatial = given.size() == rank + 2 ? Shape(given.begin() + 2, given.end()) : given;
      if (spatial.size() != rank) fail("output_shape does not match the input rank");
      out.insert(out.end(), spatial.begin(), spatial.end());
      return set(0, input(0).dtype, out);
    }
    const std::string auto_pad = node_.attrs.s("auto_pad", "NOTSET");
    const std::vector<int64_t> pads = node_.attrs.ints("pads", std::vector<int64_t>(2 * rank, 0));
    if (pads.size() != 2 * rank) fail(cat("pads has ", pads.size(), " values for ", rank, " spatial dimensions"));
    for (size_t i = 0; i < rank; ++i) {
      if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
        out.push_back(mul(x[2 + i], strides[i]));
        continue;
      }
      if (kernel.size() != rank || kernel[i] < 1 || pads[i] < 0 || pads[rank + i] < 0)
        fail("kernel_shape and pads must give a kernel size >= 1 and pads >= 0 per spatial dimension");
      const bool valid = auto_pad == "VALID";
      out.push_back(output_size([&] {
        return conv_transpose_output_size(x[2 + i], kernel[i], strides[i], dilations[i], valid ? 0 : pads[i],
                                          valid ? 0 : pads[rank + i], output_padding[i]);
      }));
    }
    set(0, input(0).dtype, out);
  }

  void pool() {
    const Shape& x = shape(0);
    if (x.size() < 3) fail(cat("input ", shape_str(x), " is not N x C x spatial"));
    const size_t rank = x.size() - 2;
    if (!node_.attrs.has("kernel_shape")) fail("kernel_shape is missing");
    const std::vector<int64_t> kernel = node_.attrs.ints("kernel_shape");
    if (kernel.size() != rank)
      fail(cat("kernel_shape has ", kernel.size(), " values for ", rank, " spatial dimensions"));
    const auto strides = per_axis("strides", rank, 1), dilations = per_axis("dilations", rank, 1);
    const auto pads = explicit_pads(Shape(x.begin() + 2, x.end()), kernel, strides, dilations,
                                    node_.attrs.s("auto_pad", "NOTSET"), node_.attrs.ints("pads"));
    const bool ceil_mode = node_.attrs.i("ceil_mode", 0) != 0;
    Shape out = {x[0], x[1]};
    for (size_t i = 0; i < rank; ++i) {
      const int64_t span = window_span(x[2 + i], pads[i], pads[rank + i], dilations[i], kernel[i]);
      if (span < 0) fail(cat("kernel is larger than the padded input ", shape_str(x)));
      out.push_back(output_size([&] {
        return pool_output_size(x[2 + i], kernel[i], strides[i], dilations[i], pads[i], pads[rank + i], ceil_mode);
      }));
    }
    set(0, input(0).dtype, out);
  }

  void concat() {
    const Shape& first = shape(0);
    const int64_t axis = normalise_axis(node_.attrs.i("axis", 0), static_cast<int64_t>(first.size()));
    Shape out = first;
    for (size_t i = 1; i < node_.inputs.size(); ++i) {
      const Shape& s = shape(i);
      bool fits = s.size() == first.size();
      for (size_t d = 0; fits && d < s.size(); ++d) fits = static_cast<int64_t>(d) == axis || s[d] == first[d];
      if (!fits) fail(cat("cannot concatenate ", shape_str(first), " and ", shape_str(s), " along axis ", axis));
      out[axis] = add(out[axis], s[axis]);
    }
    set(0, input(0).dtype, out);
  }

  void reduce_mean() {
    const Shape& x = shape(0);
    const int64_t rank = static_cast<int64_t>(x.size());
    std::vector<int64_t> axes = axes_of(1).value_or(std::vector<int64_t>{});
    if (axes.empty())
      for (int64_t d = 0; d < rank; ++d) axes.push_back(d);
    for (int64_t& a : axes) a = normalise_axis(a, rank);
    const bool keepdims = node_.attrs.i("keepdims", 1) != 0;
    Shape out;
    for (int64_t d = 0; d < rank; ++d) {
      const bool reduced = std::find(axes.begin(), axes.end(), d) != axes.end();
      if (!reduced) out.push_back(x[d]);
      else if (keepdims) out.push_back(1);
    }
    set(0, input(0).dtype, out);
  }

  void resize() {
    const Shape& x = shape(0);
    Shape out(x.size());
    if (has_input(3)) {  // sizes
      const std::vector<int64_t> sizes = constant(3, "sizes").to_int64();
      if (sizes.size() != x.size()) fail(cat("sizes has ", sizes.size(), " values for rank ", x.size()));
      return set(0, input(0).dtype, sizes);
    }
    std::vector<float> scales = node_.attrs.floats("scales");
    if (has_input(2) && constant(2, "scales").numel() > 0) scales = constant(2, "scales").to_float();
    if (scales.size() != x.size())
      fail(cat("needs one scale per dimension (", x.size(), ") from its scales attribute or a constant scales or "
               "sizes input"));
    // The canonical form keeps the size the sizes input gave; out/in as float may floor one below it.
    const Value& output = graph_.value(node_.outputs[0]);
    for (size_t d = 0; d < x.size(); ++d) {
      if (!std::isfinite(scales[d]) || scales[d] <= 0)
        fail(cat("scale ", scales[d], " is not a finite positive number"));
      const double size = std::floor(static_cast<double>(x[d]) * scales[d]);
      if (size > static_cast<double>(kMaxTensorBytes))
        fail(cat("scale ", scales[d], " makes dimension ", d, " of ", shape_str(x), " ",
                 size < 9e18 ? cat(static_cast<int64_t>(size)) : cat(size), " long, more than the ",
                 tensor_limit_text(), " crowdrt allows for one tensor"));
      out[d] = static_cast<int64_t>(size);
      if (output.shape_known && output.shape.size() == x.size() && output.shape[d] != out[d] &&
          static_cast<float>(static_cast<double>(output.shape[d]) / static_cast<double>(x[d])) == scales[d])
        out[d] = output.shape[d];
    }
    set(0, input(0).dtype, out);
  }

  void pad() {
    const Shape& x = shape(0);
    std::vector<int64_t> pads = node_.attrs.ints("pads");
    if (has_input(1)) {
      pads = constant(1, "pads").to_int64();
      if (has_input(3)) {  // opset 18 axes: pads only for these axes
        const std::vector<int64_t> axes = constant(3, "axes").to_int64();
        std::vector<int64_t> full(2 * x.size(), 0);
        for (size_t i = 0; i < axes.size(); ++i) {
          const int64_t a = normalise_axis(axes[i], static_cast<int64_t>(x.size()));
          full[a] = pads.at(i);
          full[x.size() + a] = pads.at(axes.size() + i);
        }
        pads = full;
      }
    }
    if (pads.size() != 2 * x.size()) fail(cat("pads has ", pads.size(), " values for rank ", x.size()));
    Shape out(x.size());
    for (size_t d = 0; d < x.size(); ++d) out[d] = add(add(x[d], pads[d]), pads[x.size() + d]);
    set(0, input(0).dtype, out);
  }

  void shape_of() {
    const int64_t rank = static_cast<int64_t>(shape(0).size());
    auto clamp = [&](int64_t v) { return std::clamp(v < 0 ? v + rank : v, int64_t{0}, rank); };
    const int64_t start = clamp(node_.attrs.i("start", 0));
    const int64_t end = clamp(node_.attrs.i("end", rank));
    set(0, DType::i64, {std::max<int64_t>(0, end - start)});
  }

  void gather() {
    const Shape& data = shape(0);
    const Shape& indices = shape(1);
    const int64_t axis = normalise_axis(node_.attrs.i("axis", 0), static_cast<int64_t>(data.size()));
    Shape out(data.begin(), data.begin() + axis);
    out.insert(out.end(), indices.begin(), indices.end());
    out.insert(out.end(), data.begin() + axis + 1, data.end());
    set(0, input(0).dtype, out);
  }

  void unsqueeze() {
    const Shape& x = shape(0);
    const std::vector<int64_t> given = axes_of(1).value_or(std::vector<int64_t>{});
    if (given.empty()) fail("Unsqueeze needs axes");
    const int64_t rank = static_cast<int64_t>(x.size() + given.size());
    std::vector<bool> inserted(rank, false);
    for (int64_t a : given) {
      const int64_t d = normalise_axis(a, rank);
      if (inserted[d]) fail(cat("axis ", a, " is given twice"));
      inserted[d] = true;
    }
    Shape out;
    size_t next = 0;
    for (int64_t d = 0; d < rank; ++d) out.push_back(inserted[d] ? 1 : x.at(next++));
    set(0, input(0).dtype, out);
  }

  void squeeze() {
    const Shape& x = shape(0);
    const int64_t rank = static_cast<int64_t>(x.size());
    std::vector<int64_t> given = axes_of(1).value_or(std::vector<int64_t>{});
    if (given.empty())
      for (int64_t d = 0; d < rank; ++d)
        if (x[d] == 1) given.push_back(d);
    std::vector<bool> removed(rank, false);
    for (int64_t a : given) {
      const int64_t d = normalise_axis(a, rank);
      if (x[d] != 1) fail(cat("cannot squeeze dimension ", d, " of size ", x[d]));
      removed[d] = true;
    }
    Shape out;
    for (int64_t d = 0; d < rank; ++d)
      if (!removed[d]) out.push_back(x[d]);
    set(0, input(0).dtype, out);
  }

  void slice() {
    Shape out;
    for (const SliceRange& r : slice_ranges(graph_, node_)) out.push_back(r.count);
    set(0, input(0).dtype, out);
  }

  // ONNX Transpose: output dim i = input dim perm[i]; perm defaults to reversing the axes.
  void transpose() {
    const Shape& x = shape(0);
    const std::vector<int64_t> perm = transpose_perm(node_.attrs, x.size());
    std::vector<bool> seen(x.size(), false);
    Shape out;
    for (int64_t p : perm) {
      if (p < 0 || p >= static_cast<int64_t>(x.size()) || seen[p])
        fail(cat("perm is not a permutation of ", x.size(), " axes"));
      seen[p] = true;
      out.push_back(x[p]);
    }
    set(0, input(0).dtype, out);
  }

  void reshape() {
    const Shape& x = shape(0);
    const std::vector<int64_t> target = constant(1, "shape").to_int64();
    const bool allow_zero = node_.attrs.i("allowzero", 0) != 0;
    Shape out;
    int infer_at = -1;
    int64_t known = 1;
    for (size_t i = 0; i < target.size(); ++i) {
      int64_t d = target[i];
      if (d == 0 && !allow_zero) {
        if (i >= x.size()) fail(cat("shape ", shape_str(target), " copies dimension ", i, " that the input lacks"));
        d = x[i];
      }
      if (d == -1) {
        if (infer_at >= 0) fail(cat("shape ", shape_str(target), " has more than one -1"));
        infer_at = static_cast<int>(i);
        out.push_back(1);
        continue;
      }
      if (d < 0) fail(cat("shape ", shape_str(target), " has a negative dimension"));
      out.push_back(d);
      known = mul(known, d);
    }
    const int64_t numel = shape_numel(x);
    if (infer_at >= 0) {
      if (known == 0 || numel % known != 0) fail(cat("cannot reshape ", shape_str(x), " to ", shape_str(target)));
      out[infer_at] = numel / known;
    }
    if (shape_numel(out) != numel) fail(cat("cannot reshape ", shape_str(x), " to ", shape_str(target)));
    set(0, input(0).dtype, out);
  }

  void range() {
    const Tensor& start = constant(0, "start");
    const double s = start.cast(DType::f64).span<double>()[0];
    const double limit = constant(1, "limit").cast(DType::f64).span<double>()[0];
    const double delta = constant(2, "delta").cast(DType::f64).span<double>()[0];
    if (delta == 0) fail("delta is zero");
    const double count = std::ceil((limit - s) / delta);
    if (!std::isfinite(count) || count > static_cast<double>(kMaxTensorBytes))
      fail(cat("start ", s, ", limit ", limit, " and delta ", delta, " give more values than the ", tensor_limit_text(),
               " crowdrt allows for one tensor"));
    set(0, start.dtype(), {std::max<int64_t>(0, static_cast<int64_t>(count))});
  }

  Graph& graph_;
  const Node& node_;
};

}  // namespace

std::vector<int64_t> explicit_pads(const Shape& spatial_in, const std::vector<int64_t>& kernel,
                                   const std::vector<int64_t>& strides, const std::vector<int64_t>& dilations,
                                   const std::string& auto_pad, const std::vector<int64_t>& pads) {
  const size_t rank = spatial_in.size();
  if (auto_pad == "NOTSET" || auto_pad.empty()) {
    if (pads.empty()) return std::vector<int64_t>(2 * rank, 0);
    if (pads.size() != 2 * rank)
      throw Error(cat("pads has ", pads.size(), " values for ", rank, " spatial dimensions"));
    return pads;
  }
  std::vector<int64_t> out(2 * rank, 0);
  if (auto_pad == "VALID") return out;
  if (auto_pad != "SAME_UPPER" && auto_pad != "SAME_LOWER")
    throw Error(cat("auto_pad '", auto_pad, "' is not one of NOTSET, VALID, SAME_UPPER, SAME_LOWER"));
  // ONNX: output = ceil(in / stride); the total padding that needs goes mostly at the end (UPPER) or begin.
  if (kernel.size() != rank || strides.size() != rank || dilations.size() != rank)
    throw Error(cat("kernel_shape, strides and dilations need ", rank, " values each"));
  for (size_t i = 0; i < rank; ++i) {
    if (strides[i] < 1 || dilations[i] < 1 || kernel[i] < 1)
      throw Error("kernel_shape, strides and dilations must be >= 1");
    const int64_t output = checked_add(spatial_in[i], strides[i] - 1, "auto_pad") / strides[i];
    const int64_t reach = checked_add(checked_mul(output - 1, strides[i], "auto_pad"),
                                      checked_mul(dilations[i], kernel[i] - 1, "auto_pad"), "auto_pad");
    const int64_t total = std::max<int64_t>(0, checked_add(reach, 1 - spatial_in[i], "auto_pad"));
    const int64_t small = total / 2, large = total - total / 2;
    out[i] = auto_pad == "SAME_UPPER" ? small : large;
    out[rank + i] = auto_pad == "SAME_UPPER" ? large : small;
  }
  return out;
}

std::vector<SliceRange> slice_ranges(const Graph& graph, const Node& node) {
  auto fail = [&](const std::string& why) -> Error { return Error(cat(describe(graph, node), ": ", why)); };
  auto has_input = [&](size_t i) { return i < node.inputs.size() && node.inputs[i] != kNoValue; };
  auto constant = [&](size_t i, const char* what) {
    const Value& v = graph.value(node.inputs[i]);
    if (!v.is_constant())
      throw fail(cat("its ", what, " input '", v.name, "' is computed at run time; crowdrt needs it constant"));
    return v.data->to_int64();
  };
  const Value& data = graph.value(node.inputs.at(0));
  if (!data.shape_known) throw fail(cat("the shape of input '", data.name, "' is not known"));
  const Shape& shape = data.shape;
  const int64_t rank = static_cast<int64_t>(shape.size());
  std::vector<int64_t> starts, ends, axes, steps;
  if (node.inputs.size() >= 3) {  // opset 10+: inputs data, starts, ends[, axes][, steps]
    starts = constant(1, "starts");
    ends = constant(2, "ends");
    if (has_input(3)) axes = constant(3, "axes");
    if (has_input(4)) steps = constant(4, "steps");
  } else {
    starts = node.attrs.ints("starts");
    ends = node.attrs.ints("ends");
    axes = node.attrs.ints("axes");
  }
  if (starts.size() != ends.size()) throw fail("starts and ends differ in length");
  if (axes.empty())
    for (size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
  if (steps.empty()) steps.assign(starts.size(), 1);
  if (axes.size() != starts.size() || steps.size() != starts.size())
    throw fail("starts, ends, axes and steps differ in length");

  std::vector<SliceRange> ranges(rank);
  for (int64_t d = 0; d < rank; ++d) ranges[d] = {0, 1, shape[d]};
  for (size_t i = 0; i < starts.size(); ++i) {
    int64_t axis = axes[i];
    if (axis < -rank || axis >= rank) throw fail(cat("axis ", axis, " is out of range for rank ", rank));
    if (axis < 0) axis += rank;
    const int64_t dim = shape[axis], step = steps[i];
    if (step == 0) throw fail("a step is zero");
    // Start and end clamping per the ONNX Slice spec; starts/ends may be ±INT64_MAX for "to the edge".
    auto resolve = [&](int64_t v) { return v < 0 ? (v < -dim ? -1 : v + dim) : v; };
    int64_t start = resolve(starts[i]), end = resolve(ends[i]);
    if (step > 0) {
      start = std::clamp<int64_t>(start, 0, dim);
      end = std::clamp<int64_t>(end, 0, dim);
    } else {
      start = std::clamp<int64_t>(start, 0, dim - 1);
      end = std::clamp<int64_t>(end, -1, dim - 1);
    }
    const int64_t count = step > 0 ? (end - start + step - 1) / step : (start - end + (-step) - 1) / (-step);
    ranges[axis] = {start, step, std::max<int64_t>(0, count)};
  }
  return ranges;
}

void infer_node_shapes(Graph& graph, const Node& node) { NodeShapes(graph, node).infer(); }

void infer_shapes(Graph& graph) {
  for (const Node& node : graph.nodes()) infer_node_shapes(graph, node);
}

std::vector<int64_t> transpose_perm(const Attributes& attrs, size_t rank) {
  std::vector<int64_t> reversed(rank);
  for (size_t i = 0; i < rank; ++i) reversed[i] = static_cast<int64_t>(rank - 1 - i);
  return attrs.ints("perm", reversed);
}

}  // namespace crowdrt::ir
