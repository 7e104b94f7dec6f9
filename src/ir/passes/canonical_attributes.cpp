// Canonical attributes (ir/graph.h), written by fold_constants on each node before it folds or keeps it: the ONNX
// defaults written out (conv and pool strides, dilations, pads, group; epsilon, alpha, beta) and constant inputs
// moved into attributes (Clip bounds, Pad pads, Resize scales, Squeeze / Unsqueeze / ReduceMean axes), so that
// backends read one form. Each rewrite reads only input shapes and constant inputs, which are known here because
// fold_constants visits nodes in topological order. Operator semantics per the ONNX operator docs.
#include <algorithm>
#include <limits>

#include "ir/op_params.h"
#include "ir/passes/canonical_attributes.h"
#include "ir/shape_inference.h"

namespace crowdrt::ir {
namespace {

[[noreturn]] void refuse_node(const Graph& graph, const Node& node, const std::string& why) {
  throw Error(cat(describe(graph, node), ": ", why));
}

const Tensor& constant_input(const Graph& graph, const Node& node, size_t i, const char* what) {
  const Value& v = graph.value(node.inputs.at(i));
  if (!v.is_constant())
    refuse_node(graph, node,
                cat("its ", what, " input '", v.name, "' is computed at run time; crowdrt needs it constant"));
  return *v.data;
}

bool has_input(const Node& node, size_t i) { return i < node.inputs.size() && node.inputs[i] != kNoValue; }

void canonicalise_conv(const Graph& graph, Node& node) {
  const Shape& x = graph.value(node.inputs.at(0)).shape;
  const Shape& w = graph.value(node.inputs.at(1)).shape;
  if (x.size() < 3 || w.size() != x.size())
    refuse_node(graph, node, cat("input ", shape_str(x), " and weight ", shape_str(w), " do not fit a convolution"));
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
    if (out.size() != rank) refuse_node(graph, node, "output_shape does not match the input rank");
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
  if (pads.size() != 2 * rank)
    refuse_node(graph, node, cat("pads has ", pads.size(), " values for ", rank, " dimensions"));
  a.set("pads", pads);
  a.set("output_padding", output_padding);
  a.erase("auto_pad");
  a.erase("output_shape");
}

void canonicalise_pool(const Graph& graph, Node& node) {
  const Shape& x = graph.value(node.inputs.at(0)).shape;
  Attributes& a = node.attrs;
  if (x.size() < 3) refuse_node(graph, node, cat("input ", shape_str(x), " is not N x C x spatial"));
  if (!a.has("kernel_shape")) refuse_node(graph, node, "kernel_shape is missing");
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
      refuse_node(graph, node, "AveragePool with dilations is not supported");
    a.erase("dilations");
    a.set("count_include_pad", a.i("count_include_pad", 0));
  }
}

void canonicalise_clip(const Graph& graph, Node& node) {
  constexpr float kInf = std::numeric_limits<float>::infinity();
  auto bound = [&](size_t i, const char* name, float fallback) {
    if (has_input(node, i)) {
      const Tensor& t = constant_input(graph, node, i, name);
      if (t.numel() != 1) refuse_node(graph, node, cat("its ", name, " input must be a scalar"));
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
      if (pads.size() != 2 * axes.size()) refuse_node(graph, node, "pads and axes do not match");
      std::vector<int64_t> full(2 * rank, 0);
      for (size_t i = 0; i < axes.size(); ++i) {
        const int64_t r = static_cast<int64_t>(rank);
        if (axes[i] < -r || axes[i] >= r) refuse_node(graph, node, cat("axis ", axes[i], " is out of range"));
        const int64_t axis = axes[i] < 0 ? axes[i] + r : axes[i];
        full[axis] = pads[i];
        full[rank + axis] = pads[axes.size() + i];
      }
      pads = full;
    }
  }
  if (has_input(node, 2)) {
    const Tensor& t = constant_input(graph, node, 2, "constant_value");
    if (t.numel() != 1) refuse_node(graph, node, "its constant_value input must be a scalar");
    value = t.to_float()[0];
  }
  if (pads.size() != 2 * rank) refuse_node(graph, node, cat("pads has ", pads.size(), " values for rank ", rank));
  const std::string mode = a.s("mode", "constant");
  if (!pad_mode_from_name(mode))
    refuse_node(graph, node,
                cat("Pad mode '", mode, "' is not supported; crowdrt supports constant, reflect and edge"));
  a.set("pads", pads);
  a.set("mode", mode);
  a.set("value", value);
  node.inputs.resize(1);
}

std::vector<int64_t> normalised_axes(const Graph& graph, const Node& node, std::vector<int64_t> axes, int64_t rank) {
  for (int64_t& axis : axes) {
    if (axis < -rank || axis >= rank) refuse_node(graph, node, cat("axis ", axis, " is out of range for rank ", rank));
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
    if (sizes.size() != x.size())
      refuse_node(graph, node, cat("sizes has ", sizes.size(), " values for rank ", x.size()));
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
    refuse_node(graph, node, cat("needs one scale per dimension of ", shape_str(x),
                          " from a constant scales or sizes input or a scales attribute"));
  Attributes& a = node.attrs;
  a.set("scales", scales);
  a.set("mode", a.s("mode", "nearest"));
  a.set("coordinate_transformation_mode", a.s("coordinate_transformation_mode", "half_pixel"));
  a.set("nearest_mode", a.s("nearest_mode", "round_prefer_floor"));
  node.inputs.resize(1);
}

}  // namespace

void canonicalise_attributes(Graph& graph, Node& node) {
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

}  // namespace crowdrt::ir
