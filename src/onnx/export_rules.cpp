// IR op → ONNX node(s). Operator forms per the ONNX operator docs (Operators.md) for opsets 11 to 17:
// Clip takes min/max as inputs and Pad takes pads/constant_value as inputs since 11; Resize takes (X, roi,
// scales[, sizes]) since 11, roi optional since 13; ReduceMean keeps its axes attribute until 18;
// HardSwish exists since 14.
#include <cmath>
#include <limits>

#include "onnx/export_rules.h"

namespace crowdrt::onnx_export {
namespace {

std::vector<std::string> names(const OnnxGraphWriter& w, const std::vector<ir::ValueId>& values) {
  std::vector<std::string> out;
  for (ir::ValueId v : values) out.push_back(w.name(v));
  while (!out.empty() && out.back().empty()) out.pop_back();  // trailing omitted inputs are simply absent
  return out;
}

onnx::NodeProto& plain(const ir::Node& node, OnnxGraphWriter& w, const std::vector<std::string>& inputs) {
  return w.add_node(ir::op_name(node.op), node.name, inputs, names(w, node.outputs));
}

void copy_attributes(const ir::Node& node, onnx::NodeProto& proto, std::initializer_list<const char*> which) {
  for (const char* a : which)
    if (node.attrs.has(a)) set_attribute(proto, a, node.attrs.all().at(a));
}

[[noreturn]] void fail(const OnnxGraphWriter& w, const ir::Node& node, const std::string& why) {
  throw Error(cat("ONNX export: ", describe(w.graph(), node), ": ", why));
}

void export_conv(const ir::Node& node, OnnxGraphWriter& w) {
  if (node.attrs.has("activation") || node.attrs.i("fused_add", 0) != 0)
    fail(w, node, "has a fused activation or residual epilogue, which ONNX Conv cannot hold; export the graph "
                  "before the fusion passes");
  std::vector<ir::ValueId> inputs(node.inputs.begin(), node.inputs.begin() + std::min<size_t>(3, node.inputs.size()));
  onnx::NodeProto& p = plain(node, w, names(w, inputs));
  copy_attributes(node, p, {"kernel_shape", "strides", "pads", "dilations", "group"});
  if (node.op == ir::Op::ConvTranspose) copy_attributes(node, p, {"output_padding", "output_shape"});
}

void export_clip(const ir::Node& node, OnnxGraphWriter& w) {
  constexpr float inf = std::numeric_limits<float>::infinity();
  const float lo = node.attrs.f("min", -inf), hi = node.attrs.f("max", inf);
  std::vector<std::string> inputs{w.name(node.inputs[0])};
  inputs.push_back(std::isinf(lo) ? "" : w.add_floats(node.name + "_min", {lo}, {}));
  inputs.push_back(std::isinf(hi) ? "" : w.add_floats(node.name + "_max", {hi}, {}));
  while (inputs.back().empty()) inputs.pop_back();
  plain(node, w, inputs);
}

void export_pad(const ir::Node& node, OnnxGraphWriter& w) {
  const std::vector<int64_t> pads = node.attrs.ints("pads");
  const std::string mode = node.attrs.s("mode", "constant");
  std::vector<std::string> inputs{w.name(node.inputs[0]),
                                  w.add_int64s(node.name + "_pads", pads, {static_cast<int64_t>(pads.size())})};
  if (mode == "constant" && node.attrs.f("value", 0.f) != 0.f)
    inputs.push_back(w.add_floats(node.name + "_value", {node.attrs.f("value")}, {}));
  set_attribute(plain(node, w, inputs), "mode", mode);
}

void export_resize(const ir::Node& node, OnnxGraphWriter& w) {
  const Shape& in = w.graph().value(node.inputs[0]).shape;
  const Shape& out = w.graph().value(node.outputs[0]).shape;
  const std::vector<float> scales = node.attrs.floats("scales");
  // ONNX sizes its output floor(in * scale); where that misses the IR's size (scales from an exporter's sizes
  // input), write sizes instead.
  bool scales_give_size = scales.size() == in.size() && out.size() == in.size();
  for (size_t d = 0; scales_give_size && d < in.size(); ++d)
    scales_give_size = static_cast<int64_t>(std::floor(static_cast<double>(in[d]) * scales[d])) == out[d];
  std::vector<std::string> inputs{w.name(node.inputs[0])};
  inputs.push_back(w.opset() < 13 ? w.add_floats(node.name + "_roi", {}, {0}) : "");
  if (scales_give_size) {
    inputs.push_back(w.add_floats(node.name + "_scales", scales, {static_cast<int64_t>(scales.size())}));
  } else {
    inputs.push_back(w.opset() < 13 ? w.add_floats(node.name + "_scales", {}, {0}) : "");
    inputs.push_back(w.add_int64s(node.name + "_sizes", out, {static_cast<int64_t>(out.size())}));
  }
  onnx::NodeProto& p = plain(node, w, inputs);
  copy_attributes(node, p, {"mode", "coordinate_transformation_mode", "nearest_mode", "cubic_coeff_a"});
}

}  // namespace

void set_attribute(onnx::NodeProto& node, const std::string& name, const ir::Attr& value) {
  onnx::AttributeProto& a = *node.add_attribute();
  a.set_name(name);
  if (const auto* i = std::get_if<int64_t>(&value)) {
    a.set_type(onnx::AttributeProto::INT);
    a.set_i(*i);
  } else if (const auto* f = std::get_if<float>(&value)) {
    a.set_type(onnx::AttributeProto::FLOAT);
    a.set_f(*f);
  } else if (const auto* s = std::get_if<std::string>(&value)) {
    a.set_type(onnx::AttributeProto::STRING);
    a.set_s(*s);
  } else if (const auto* is = std::get_if<std::vector<int64_t>>(&value)) {
    a.set_type(onnx::AttributeProto::INTS);
    for (int64_t v : *is) a.add_ints(v);
  } else {
    a.set_type(onnx::AttributeProto::FLOATS);
    for (float v : std::get<std::vector<float>>(value)) a.add_floats(v);
  }
}

void export_node(const ir::Node& node, OnnxGraphWriter& w) {
  using ir::Op;
  const std::vector<std::string> inputs = names(w, node.inputs);
  switch (node.op) {
    case Op::Conv:
    case Op::ConvTranspose: return export_conv(node, w);
    case Op::Clip: return export_clip(node, w);
    case Op::Pad: return export_pad(node, w);
    case Op::Resize: return export_resize(node, w);
    case Op::BatchNormalization: return copy_attributes(node, plain(node, w, inputs), {"epsilon"});
    case Op::LeakyRelu: return copy_attributes(node, plain(node, w, inputs), {"alpha"});
    case Op::HardSigmoid: return copy_attributes(node, plain(node, w, inputs), {"alpha", "beta"});
    case Op::HardSwish:
      if (w.opset() < 14) fail(w, node, "HardSwish needs opset 14 or newer; pass --opset 14");
      plain(node, w, inputs);
      return;
    case Op::Concat: return copy_attributes(node, plain(node, w, inputs), {"axis"});
    case Op::MaxPool:
      return copy_attributes(node, plain(node, w, inputs),
                             {"kernel_shape", "strides", "pads", "dilations", "ceil_mode"});
    case Op::AveragePool:
      return copy_attributes(node, plain(node, w, inputs),
                             {"kernel_shape", "strides", "pads", "ceil_mode", "count_include_pad"});
    case Op::ReduceMean: return copy_attributes(node, plain(node, w, inputs), {"axes", "keepdims"});
    case Op::Relu:
    case Op::Sigmoid:
    case Op::Add:
    case Op::Sub:
    case Op::Mul:
    case Op::Div:
    case Op::GlobalAveragePool:
    case Op::Identity: plain(node, w, inputs); return;
    default: break;
  }
  fail(w, node, "is shape arithmetic; run ir::fold_constants before exporting");
}

}  // namespace crowdrt::onnx_export
