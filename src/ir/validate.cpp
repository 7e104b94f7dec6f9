#include "ir/validate.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "core/checked.h"
#include "ir/op_params.h"
#include "ir/shape_inference.h"

namespace crowdrt::ir {
namespace {

// Inputs each op reads: the fewest, the most, and how many of the first ones must be given (not omitted).
struct Arity {
  size_t min, max, required;
};
constexpr size_t kAny = std::numeric_limits<size_t>::max();

Arity arity(Op op) {
  switch (op) {
    case Op::Conv: return {2, 4, 2};            // X, W[, B][, residual] (ir/graph.h)
    case Op::ConvTranspose: return {2, 3, 2};
    case Op::BatchNormalization: return {5, 5, 5};
    case Op::Clip: return {1, 3, 1};            // min/max inputs from opset 11 until canonicalised
    case Op::Add: case Op::Sub: case Op::Mul: case Op::Div: case Op::Equal: case Op::Gather: case Op::Reshape:
    case Op::Expand: return {2, 2, 2};
    case Op::Concat: return {1, kAny, 1};
    case Op::ReduceMean: case Op::Unsqueeze: case Op::Squeeze: return {1, 2, 1};
    case Op::Resize: return {1, 4, 1};
    case Op::Pad: return {1, 4, 1};
    case Op::Slice: return {1, 5, 1};
    case Op::Range: case Op::Where: return {3, 3, 3};
    default: return {1, 1, 1};                  // the unary ops, pools, Shape, Cast, Identity, ...
  }
}

// Names travel into plan headers (JSON, UTF-8 only), calibration caches and terminal messages: each must be
// valid UTF-8 without control characters. Returns the name with bytes outside that escaped (\xNN), for messages.
bool printable_utf8(const std::string& name) {
  for (size_t i = 0; i < name.size();) {
    const auto c = static_cast<unsigned char>(name[i]);
    if (c < 0x20 || c == 0x7f) return false;
    const size_t length = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    if (length == 0 || i + length > name.size()) return false;
    for (size_t k = 1; k < length; ++k)
      if ((static_cast<unsigned char>(name[i + k]) >> 6) != 0x2) return false;
    i += length;
  }
  return true;
}
std::string escaped(const std::string& name) {
  std::string out;
  for (char ch : name) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c < 0x7f) out += ch;
    else out += cat("\\x", "0123456789abcdef"[c >> 4], "0123456789abcdef"[c & 0xf]);
  }
  return out;
}

class Validator {
 public:
  Validator(const Graph& graph, GraphForm form, const std::string& what) : graph_(graph), form_(form), what_(what) {}

  void run() {
    structure();
    for (size_t v = 0; v < graph_.value_count(); ++v) value_size(static_cast<ValueId>(v));
    for (const Node& node : graph_.nodes()) attributes(node);
    if (form_ == GraphForm::optimised) shapes_infer_again();
  }

 private:
  std::string remedy() const {
    return form_ == GraphForm::imported ? "the model is damaged or was not made for crowdrt; re-export it"
                                        : "the plan is damaged or was edited; rebuild it from its model with "
                                          "`crowdrt build`";
  }
  [[noreturn]] void fail(const std::string& why) const { throw Error(cat(what_, ": ", why, "; ", remedy())); }
  [[noreturn]] void fail(const Node& node, const std::string& why) const {
    fail(cat(op_name(node.op), " node '", node.name, "'", output_label(node), ": ", why));
  }
  std::string output_label(const Node& node) const {
    if (node.outputs.size() != 1 || !in_range(node.outputs[0])) return "";
    return cat(" (output '", graph_.value(node.outputs[0]).name, "')");
  }
  bool in_range(ValueId v) const { return v >= 0 && static_cast<size_t>(v) < graph_.value_count(); }
  const std::string& name_of(ValueId v) const { return graph_.value(v).name; }

  void structure() {
    if (graph_.outputs().empty()) fail("the graph has no outputs");
    for (size_t v = 0; v < graph_.value_count(); ++v)
      if (!printable_utf8(name_of(static_cast<ValueId>(v))))
        fail(cat("value name '", escaped(name_of(static_cast<ValueId>(v))),
                 "' is not printable UTF-8 (control characters or invalid bytes)"));
    for (const Node& node : graph_.nodes())
      if (!printable_utf8(node.name))
        fail(cat(op_name(node.op), " node name '", escaped(node.name),
                 "' is not printable UTF-8 (control characters or invalid bytes)"));
    std::vector<bool> ready(graph_.value_count(), false);
    for (size_t v = 0; v < graph_.value_count(); ++v) ready[v] = graph_.value(static_cast<ValueId>(v)).is_constant();
    std::set<ValueId> inputs;
    for (ValueId v : graph_.inputs()) {
      if (!in_range(v)) fail(cat("graph input index ", v, " names no value"));
      if (graph_.value(v).is_constant()) fail(cat("graph input '", name_of(v), "' is also a constant"));
      if (!inputs.insert(v).second) fail(cat("graph input '", name_of(v), "' is listed twice"));
      if (!graph_.value(v).shape_known) fail(cat("graph input '", name_of(v), "' has no shape"));
      ready[v] = true;
    }
    for (const Node& node : graph_.nodes()) {
      const Arity a = arity(node.op);
      const size_t n = node.inputs.size();
      if (n < a.min || n > a.max)
        fail(node, a.max == kAny ? cat("has ", n, " inputs; ", op_name(node.op), " needs at least ", a.min)
                   : a.min == a.max ? cat("has ", n, " inputs; ", op_name(node.op), " needs ", a.min)
                                    : cat("has ", n, " inputs; ", op_name(node.op), " needs ", a.min, " to ", a.max));
      for (size_t i = 0; i < n; ++i) {
        const ValueId v = node.inputs[i];
        if (v == kNoValue) {
          if (i < a.required) fail(node, cat("input ", i, " is omitted but ", op_name(node.op), " needs it"));
          continue;
        }
        if (!in_range(v)) fail(node, cat("input ", i, " names value index ", v, ", which does not exist"));
        if (!ready[v]) fail(node, cat("reads '", name_of(v), "' before any node produces it"));
      }
      if (node.outputs.size() != 1)
        fail(node, cat("has ", node.outputs.size(), " outputs; crowdrt computes exactly one per node"));
      const ValueId out = node.outputs[0];
      if (!in_range(out)) fail(node, cat("output names value index ", out, ", which does not exist"));
      if (ready[out])
        fail(node, cat("writes '", name_of(out), "', which already has a value (a constant, an input or another "
                       "node's output)"));
      ready[out] = true;
      if (form_ == GraphForm::optimised && is_shape_op(node.op))
        fail(node, "is a shape operator, which an optimised graph no longer holds");
    }
    for (ValueId v : graph_.outputs()) {
      if (!in_range(v)) fail(cat("graph output index ", v, " names no value"));
      if (!ready[v]) fail(cat("graph output '", name_of(v), "' is never produced"));
    }
  }

  void value_size(ValueId id) const {
    const Value& v = graph_.value(id);
    if (!v.shape_known && !v.is_constant()) {
      if (form_ == GraphForm::optimised) fail(cat("value '", v.name, "' has no shape"));
      return;
    }
    const std::string label = cat("value '", v.name, "'");
    try {
      const int64_t numel = checked_numel(v.shape, label);
      checked_tensor_bytes(numel, static_cast<int64_t>(dtype_size(v.dtype)), label);
    } catch (const Error& e) {
      fail(e.what());
    }
    if (std::find(graph_.inputs().begin(), graph_.inputs().end(), id) != graph_.inputs().end())
      for (int64_t d : v.shape)
        if (d < 1)
          fail(cat("graph input '", v.name, "' has shape ", shape_str(v.shape), "; every dimension must be >= 1"));
    if (v.is_constant() && (v.data->shape() != v.shape || v.data->dtype() != v.dtype))
      fail(cat("constant '", v.name, "' is declared ", dtype_name(v.dtype), " ", shape_str(v.shape), " but holds ",
               dtype_name(v.data->dtype()), " ", shape_str(v.data->shape())));
  }

  const Shape* known_shape(const Node& node, size_t i) const {
    if (i >= node.inputs.size() || node.inputs[i] == kNoValue) return nullptr;
    const Value& v = graph_.value(node.inputs[i]);
    return v.shape_known || v.is_constant() ? &v.shape : nullptr;
  }
  const Tensor* constant_input(const Node& node, size_t i) const {
    if (i >= node.inputs.size() || node.inputs[i] == kNoValue) return nullptr;
    const Value& v = graph_.value(node.inputs[i]);
    return v.is_constant() ? v.data.get() : nullptr;
  }

  void at_least(const Node& node, const char* attr, int64_t low) const {
    if (!node.attrs.has(attr)) return;
    for (int64_t x : node.attrs.ints(attr))
      if (x < low)
        fail(node, cat(attr, " ", shape_list(node.attrs.ints(attr)), " holds ", x, "; each must be >= ", low));
  }
  static std::string shape_list(const std::vector<int64_t>& v) {
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i) s += cat(i ? ", " : "", v[i]);
    return s + "]";
  }
  void finite(const Node& node, const char* attr) const {
    if (node.attrs.has(attr) && std::isnan(node.attrs.f(attr))) fail(node, cat(attr, " is not a number"));
    if (node.attrs.has(attr) && !std::isfinite(node.attrs.f(attr))) fail(node, cat(attr, " is not finite"));
  }
  void axis_in_range(const Node& node, int64_t axis, size_t rank) const {
    const int64_t r = static_cast<int64_t>(rank);
    if (axis < -r || axis >= r) fail(node, cat("axis ", axis, " is outside the input's rank ", rank));
  }

  void attributes(const Node& node) const {
    for (const auto& [name, value] : node.attrs.all()) {
      const std::string* text = std::get_if<std::string>(&value);
      if (!printable_utf8(name) || (text && !printable_utf8(*text)))
        fail(node, cat("attribute '", escaped(name), "'", text ? cat(" = '", escaped(*text), "'") : "",
                       " is not printable UTF-8"));
    }
    try {
      attribute_rules(node);
    } catch (const Error& e) {  // an attribute of the wrong type (Attributes' getters)
      const std::string text = e.what();
      if (text.starts_with(what_ + ": ")) throw;
      fail(node, text);
    }
  }

  void attribute_rules(const Node& node) const {
    switch (node.op) {
      case Op::Conv:
      case Op::ConvTranspose:
      case Op::MaxPool:
      case Op::AveragePool: return window(node);
      case Op::Concat:
        if (const Shape* x = known_shape(node, 0)) axis_in_range(node, node.attrs.i("axis", 0), x->size());
        return;
      case Op::Gather:
        if (const Shape* x = known_shape(node, 0)) axis_in_range(node, node.attrs.i("axis", 0), x->size());
        return;
      case Op::ReduceMean:
        if (const Shape* x = known_shape(node, 0))
          for (int64_t a : node.attrs.ints("axes")) axis_in_range(node, a, x->size());
        return;
      case Op::Resize: return resize(node);
      case Op::LeakyRelu: return finite(node, "alpha");
      case Op::HardSigmoid:
        finite(node, "alpha");
        return finite(node, "beta");
      case Op::BatchNormalization:
        finite(node, "epsilon");
        if (node.attrs.f("epsilon", 0.f) < 0) fail(node, "epsilon is negative");
        return;
      case Op::Clip: {
        const float low = node.attrs.f("min", -INFINITY), high = node.attrs.f("max", INFINITY);
        if (std::isnan(low) || std::isnan(high) || low > high)
          fail(node, cat("min ", low, " and max ", high, " do not bound a range"));
        return;
      }
      case Op::Pad: {
        const std::string mode = node.attrs.s("mode", "constant");
        if (!pad_mode_from_name(mode)) fail(node, cat("mode '", mode, "' is not one of constant, reflect, edge"));
        return;
      }
      default: return;
    }
  }

  // Conv, ConvTranspose and the pools: a window slid over the spatial axes.
  void window(const Node& node) const {
    at_least(node, "kernel_shape", 1);
    at_least(node, "strides", 1);
    at_least(node, "dilations", 1);
    at_least(node, "pads", 0);
    at_least(node, "output_padding", 0);
    if (node.op == Op::MaxPool || node.op == Op::AveragePool) {
      if (!node.attrs.has("kernel_shape")) fail(node, "kernel_shape is missing");
      return;
    }
    const int64_t group = node.attrs.i("group", 1);
    if (group < 1) fail(node, cat("group ", group, " must be >= 1"));
    const Shape* x = known_shape(node, 0);
    const Shape* w = known_shape(node, 1);
    if (!w) return;
    if (w->size() < 3) fail(node, cat("weight '", name_of(node.inputs[1]), "' has shape ", shape_str(*w),
                                      "; a convolution weight has at least 3 dimensions"));
    for (size_t d = 2; d < w->size(); ++d)
      if ((*w)[d] < 1) fail(node, cat("weight '", name_of(node.inputs[1]), "' has kernel size ", (*w)[d]));
    if (node.op == Op::Conv && (*w)[0] % group != 0)
      fail(node, cat("group ", group, " does not divide the ", (*w)[0], " output channels of weight ", shape_str(*w)));
    if (!x) return;
    if (x->size() != w->size())
      fail(node, cat("input ", shape_str(*x), " and weight ", shape_str(*w), " differ in rank"));
    if ((*x)[1] % group != 0) fail(node, cat("group ", group, " does not divide the ", (*x)[1], " input channels"));
    if (node.op == Op::Conv && (*x)[1] != (*w)[1] * group)
      fail(node, cat("input channels ", (*x)[1], " do not match weight ", shape_str(*w), " with group ", group));
    if (node.op == Op::ConvTranspose && (*x)[1] != (*w)[0])
      fail(node, cat("input channels ", (*x)[1], " do not match weight ", shape_str(*w)));
  }

  void resize(const Node& node) const {
    auto check_scales = [&](const std::vector<float>& scales, const char* from) {
      for (float s : scales)
        if (!std::isfinite(s) || s <= 0)
          fail(node, cat("scale ", s, " in its ", from, " is not a finite positive number"));
    };
    check_scales(node.attrs.floats("scales"), "scales attribute");
    if (const Tensor* t = constant_input(node, 2); t && t->numel() > 0) check_scales(t->to_float(), "scales input");
    if (const Tensor* t = constant_input(node, 3)) {
      for (int64_t s : t->to_int64())
        if (s < 1) fail(node, cat("output size ", s, " in its sizes input must be >= 1"));
    }
  }

  // A plan stores every value's shape; shape inference must give each of them again, so that a plan edited
  // to disagree with itself (a Conv writing more than its weights make) is refused before a kernel trusts it.
  void shapes_infer_again() const {
    Graph copy = graph_;
    for (const Node& node : copy.nodes()) {
      const Value& out = graph_.value(node.outputs[0]);
      try {
        infer_node_shapes(copy, node);
      } catch (const Error& e) {
        const std::string text = e.what();
        fail(text);
      }
      const Value& again = copy.value(node.outputs[0]);
      if (again.shape != out.shape || again.dtype != out.dtype)
        fail(node, cat("stores output ", dtype_name(out.dtype), " ", shape_str(out.shape), " but its inputs give ",
                       dtype_name(again.dtype), " ", shape_str(again.shape)));
      if (node.op == Op::Conv && node.inputs.size() > 3 && node.inputs[3] != kNoValue &&
          graph_.value(node.inputs[3]).shape != out.shape)
        fail(node, cat("residual input '", name_of(node.inputs[3]), "' is ",
                       shape_str(graph_.value(node.inputs[3]).shape), ", not the output's ", shape_str(out.shape)));
    }
  }

  const Graph& graph_;
  const GraphForm form_;
  const std::string& what_;
};

// Levenshtein distance, for "did you mean" lists.
size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

}  // namespace

void validate_graph(const Graph& graph, GraphForm form, const std::string& what) { Validator(graph, form, what).run(); }

void check_node_names(const Graph& graph, const std::vector<std::string>& names, const std::string& option) {
  std::set<std::string> known;
  for (const Node& node : graph.nodes()) known.insert(node.name);
  for (const std::string& name : names) {
    if (known.count(name)) continue;
    std::vector<std::pair<size_t, std::string>> near;
    for (const std::string& k : known) near.emplace_back(edit_distance(name, k), k);
    std::sort(near.begin(), near.end());
    std::string list;
    for (size_t i = 0; i < near.size() && i < 3; ++i) list += cat(i ? ", " : "", "'", near[i].second, "'");
    throw Error(cat(option, " names '", name, "', which is not a node of the model",
                    list.empty() ? "" : cat("; the nearest node names are ", list),
                    " (`crowdrt inspect PLAN` lists them)"));
  }
}

}  // namespace crowdrt::ir
