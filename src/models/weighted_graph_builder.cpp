#include "models/weighted_graph_builder.h"

#include <algorithm>

#include "ir/shape_inference.h"

namespace crowdrt::models {
namespace {

// "encoder.layer1.0.conv1" + "Conv" → "/encoder/layer1/0/conv1/Conv", the way torch.onnx names nodes, so that
// a layer in `crowdrt build -v` output can be found in the PyTorch model by eye.
std::string node_name(const std::string& module, ir::Op op) {
  std::string path = "/" + module;
  std::replace(path.begin(), path.end(), '.', '/');
  return path + "/" + ir::op_name(op);
}

std::string first_few(const std::vector<std::string>& items, size_t shown = 5) {
  std::string s;
  for (size_t i = 0; i < items.size() && i < shown; ++i) s += cat(i ? ", " : "", items[i]);
  if (items.size() > shown) s += cat(", ... (", items.size() - shown, " more)");
  return s;
}

}  // namespace

std::string WeightProblems::summary() const {
  std::string s;
  const auto part = [&](const std::vector<std::string>& items, const char* what) {
    if (items.empty()) return;
    s += cat(s.empty() ? "" : "; ", items.size(), " ", what, ": ", first_few(items));
  };
  part(missing, "missing keys");
  part(unexpected, "unexpected keys");
  part(mismatched, "shape mismatches");
  return s;
}

ir::ValueId WeightedGraphBuilder::input(const std::string& name, const Shape& shape) {
  const ir::ValueId v = graph_.add_value(name, DType::f32, shape, true);
  graph_.inputs().push_back(v);
  return v;
}

ir::ValueId WeightedGraphBuilder::weight(const std::string& key, const Shape& expected) {
  used_.insert(key);
  const Tensor* found = weights_.find(key);
  if (found == nullptr) {
    missing_.push_back(key);
    return graph_.add_constant(key, Tensor(DType::f32, expected));  // keeps building so all problems show
  }
  if (found->shape() != expected) {
    mismatched_.push_back(cat(key, ": checkpoint ", shape_str(found->shape()), ", model ", shape_str(expected)));
    return graph_.add_constant(key, Tensor(DType::f32, expected));
  }
  return graph_.add_constant(key, found->dtype() == DType::f32 ? *found : found->cast(DType::f32));
}

ir::ValueId WeightedGraphBuilder::node(ir::Op op, const std::string& module, std::vector<ir::ValueId> inputs,
                                       ir::Attributes attrs, const std::string& output_name) {
  // Node names must be unique in ONNX (a module may run an op twice: swish in one block); values too.
  const std::string base = node_name(module, op);
  std::string name = base;
  for (int i = 1; node_names_.count(name) || graph_.find_value(name + "_output_0") != ir::kNoValue; ++i)
    name = cat(base, "_", i);
  node_names_.insert(name);
  const ir::ValueId out = graph_.add_value(output_name.empty() ? name + "_output_0" : output_name);
  ir::Node& n = graph_.add_node(op, name, std::move(inputs), {out}, std::move(attrs));
  ir::infer_node_shapes(graph_, n);
  return out;
}

ir::ValueId WeightedGraphBuilder::conv(ir::ValueId x, const std::string& module, const ConvSpec& spec,
                                       const std::string& output_name) {
  const int64_t in_channels = channels(x);
  const ir::ValueId w =
      weight(module + ".weight", {spec.out_channels, in_channels / spec.group, spec.kernel, spec.kernel});
  std::vector<ir::ValueId> inputs{x, w};
  if (spec.bias) inputs.push_back(weight(module + ".bias", {spec.out_channels}));
  ir::Attributes a;
  a.set("kernel_shape", std::vector<int64_t>{spec.kernel, spec.kernel});
  a.set("strides", std::vector<int64_t>{spec.stride, spec.stride});
  a.set("pads", spec.pads);
  a.set("dilations", std::vector<int64_t>{1, 1});
  a.set("group", spec.group);
  return node(ir::Op::Conv, module, std::move(inputs), std::move(a), output_name);
}

ir::ValueId WeightedGraphBuilder::batchnorm(ir::ValueId x, const std::string& module, float epsilon) {
  const Shape c{channels(x)};
  std::vector<ir::ValueId> inputs{x, weight(module + ".weight", c), weight(module + ".bias", c),
                                  weight(module + ".running_mean", c), weight(module + ".running_var", c)};
  tolerated_.insert(module + ".num_batches_tracked");  // a training counter; absent in older checkpoints
  ir::Attributes a;
  a.set("epsilon", epsilon);
  return node(ir::Op::BatchNormalization, module, std::move(inputs), std::move(a));
}

ir::ValueId WeightedGraphBuilder::relu(ir::ValueId x, const std::string& module) {
  return node(ir::Op::Relu, module, {x});
}

ir::ValueId WeightedGraphBuilder::clip(ir::ValueId x, const std::string& module, float min, float max) {
  ir::Attributes a;
  a.set("min", min);
  a.set("max", max);
  return node(ir::Op::Clip, module, {x}, std::move(a));
}

ir::ValueId WeightedGraphBuilder::sigmoid(ir::ValueId x, const std::string& module) {
  return node(ir::Op::Sigmoid, module, {x});
}

ir::ValueId WeightedGraphBuilder::mul(ir::ValueId a, ir::ValueId b, const std::string& module) {
  return node(ir::Op::Mul, module, {a, b});
}

ir::ValueId WeightedGraphBuilder::add(ir::ValueId a, ir::ValueId b, const std::string& module) {
  return node(ir::Op::Add, module, {a, b});
}

ir::ValueId WeightedGraphBuilder::concat(const std::vector<ir::ValueId>& parts, const std::string& module) {
  ir::Attributes a;
  a.set("axis", int64_t{1});
  return node(ir::Op::Concat, module, parts, std::move(a));
}

ir::ValueId WeightedGraphBuilder::max_pool(ir::ValueId x, const std::string& module, int64_t kernel, int64_t stride,
                                           int64_t pad) {
  ir::Attributes a;
  a.set("kernel_shape", std::vector<int64_t>{kernel, kernel});
  a.set("strides", std::vector<int64_t>{stride, stride});
  a.set("pads", std::vector<int64_t>{pad, pad, pad, pad});
  a.set("dilations", std::vector<int64_t>{1, 1});
  a.set("ceil_mode", int64_t{0});
  return node(ir::Op::MaxPool, module, {x}, std::move(a));
}

ir::ValueId WeightedGraphBuilder::zero_pad(ir::ValueId x, const std::string& module,
                                           const std::vector<int64_t>& pads_tlbr) {
  ir::Attributes a;
  a.set("mode", std::string("constant"));
  // NCHW begins (n, c, top, left), then ends (n, c, bottom, right)
  a.set("pads", std::vector<int64_t>{0, 0, pads_tlbr[0], pads_tlbr[1], 0, 0, pads_tlbr[2], pads_tlbr[3]});
  a.set("value", 0.f);
  return node(ir::Op::Pad, module, {x}, std::move(a));
}

ir::ValueId WeightedGraphBuilder::mean_over_height_width(ir::ValueId x, const std::string& module) {
  ir::Attributes a;
  a.set("axes", std::vector<int64_t>{2, 3});
  a.set("keepdims", int64_t{1});
  return node(ir::Op::ReduceMean, module, {x}, std::move(a));
}

ir::ValueId WeightedGraphBuilder::upsample_nearest_2x(ir::ValueId x, const std::string& module) {
  // F.interpolate(scale_factor=2, mode="nearest") as torch.onnx exports it: asymmetric coordinates, floor.
  ir::Attributes a;
  a.set("mode", std::string("nearest"));
  a.set("coordinate_transformation_mode", std::string("asymmetric"));
  a.set("nearest_mode", std::string("floor"));
  a.set("scales", std::vector<float>{1.f, 1.f, 2.f, 2.f});
  return node(ir::Op::Resize, module, {x}, std::move(a));
}

WeightProblems WeightedGraphBuilder::problems() const {
  WeightProblems p;
  p.missing = missing_;
  p.mismatched = mismatched_;
  for (const auto& [key, tensor] : weights_.entries)
    if (!used_.count(key) && !tolerated_.count(key)) p.unexpected.push_back(key);
  return p;
}

ir::Graph WeightedGraphBuilder::finish(ir::ValueId output) {
  graph_.outputs() = {output};
  graph_.validate();
  return std::move(graph_);
}

}  // namespace crowdrt::models
