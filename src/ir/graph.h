// The IR: SSA values with shape and dtype, nodes with an op and typed attributes, weights as constants.
//
// Canonical attributes, as the importer and passes leave them for backends (after fold_constants):
//   Conv            inputs X, W[, B][, residual]   kernel_shape, strides, pads (t,l,b,r), dilations, group;
//                   fused epilogue: y = act(conv(x) + B + residual), "activation" one of relu, leaky_relu,
//                   clip, sigmoid, hard_sigmoid, hard_swish with "alpha"/"beta" (leaky slope, clip min/max,
//                   hard_sigmoid alpha/beta); "residual" input present when attr fused_add = 1 (inputs[3],
//                   inputs[2] = kNoValue when there is no bias)
//   ConvTranspose   inputs X, W (Cin, Cout/group, kh, kw)[, B]  kernel_shape, strides, pads, dilations,
//                   output_padding, group
//   BatchNormalization  inputs X, scale, B, mean, var   epsilon
//   LeakyRelu alpha | Clip min, max (floats; ±inf when absent) | HardSigmoid alpha, beta
//   Add Sub Mul Div two inputs, numpy broadcasting
//   Concat          axis (non-negative)
//   MaxPool         kernel_shape, strides, pads, dilations, ceil_mode
//   AveragePool     kernel_shape, strides, pads, ceil_mode, count_include_pad
//   ReduceMean      axes (non-negative, sorted), keepdims
//   Resize          input X only; mode (nearest | linear), coordinate_transformation_mode, nearest_mode,
//                   scales (floats, one per dim, used for coordinate mapping), output size = value's shape
//   Pad             input X only; mode (constant | reflect | edge), pads (begin..., end...), value
// Shape ops keep their ONNX inputs/attributes and are evaluated by fold_constants.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "core/tensor.h"
#include "ir/op.h"

namespace crowdrt::ir {

using ValueId = int;
constexpr ValueId kNoValue = -1;  // an omitted optional input

using Attr = std::variant<int64_t, float, std::string, std::vector<int64_t>, std::vector<float>>;

class Attributes {
 public:
  bool has(const std::string& name) const { return map_.count(name) != 0; }
  void set(const std::string& name, Attr value) { map_[name] = std::move(value); }
  void erase(const std::string& name) { map_.erase(name); }
  // Typed getters: the default when absent; Error when present with another type.
  int64_t i(const std::string& name, int64_t fallback = 0) const;
  float f(const std::string& name, float fallback = 0.f) const;
  std::string s(const std::string& name, const std::string& fallback = "") const;
  std::vector<int64_t> ints(const std::string& name, std::vector<int64_t> fallback = {}) const;
  std::vector<float> floats(const std::string& name, std::vector<float> fallback = {}) const;
  const std::map<std::string, Attr>& all() const { return map_; }

 private:
  std::map<std::string, Attr> map_;
};

struct Value {
  std::string name;
  DType dtype = DType::f32;
  Shape shape;                          // empty until shape inference for non-inputs
  bool shape_known = false;
  std::shared_ptr<const Tensor> data;   // set for constants (weights, folded values)
  bool is_constant() const { return data != nullptr; }
};

struct Node {
  std::string name;                     // unique; ONNX node name or "<op>_<n>"
  Op op = Op::Identity;
  std::vector<ValueId> inputs;          // kNoValue for omitted optional inputs
  std::vector<ValueId> outputs;
  Attributes attrs;
};

class Graph {
 public:
  ValueId add_value(const std::string& name, DType dtype = DType::f32, Shape shape = {}, bool shape_known = false);
  ValueId add_constant(const std::string& name, Tensor tensor);
  Node& add_node(Op op, const std::string& name, std::vector<ValueId> inputs, std::vector<ValueId> outputs,
                 Attributes attrs = {});

  Value& value(ValueId id) { return values_.at(check(id)); }
  const Value& value(ValueId id) const { return values_.at(check(id)); }
  ValueId find_value(const std::string& name) const;  // kNoValue when absent
  std::string unique_name(const std::string& base) const;

  std::vector<Node>& nodes() { return nodes_; }
  const std::vector<Node>& nodes() const { return nodes_; }
  std::vector<ValueId>& inputs() { return inputs_; }
  const std::vector<ValueId>& inputs() const { return inputs_; }
  std::vector<ValueId>& outputs() { return outputs_; }
  const std::vector<ValueId>& outputs() const { return outputs_; }
  size_t value_count() const { return values_.size(); }

  // Node index producing each value (-1 for inputs, constants and dead values).
  std::vector<int> producers() const;
  // How many node inputs (plus graph outputs) read each value.
  std::vector<int> use_counts() const;
  // Replaces every use of `from` (node inputs and graph outputs) by `to`.
  void replace_uses(ValueId from, ValueId to);
  // Drops the nodes whose index is marked (passes mark what they fused away, then erase once).
  void erase_nodes(const std::vector<bool>& drop);
  // Drops nodes whose outputs nobody reads (graph outputs count as read).
  void remove_dead_nodes();
  // Puts nodes in topological order; Error on a cycle or a value read before it is produced.
  void sort_topologically();
  // Error naming the node when SSA or topological order is broken or an input id is out of range.
  void validate() const;

  const Tensor& constant(ValueId id) const;  // Error when the value is not a constant

 private:
  size_t check(ValueId id) const;
  std::vector<Value> values_;
  std::vector<Node> nodes_;
  std::vector<ValueId> inputs_, outputs_;
  std::map<std::string, ValueId> by_name_;
};

// "Conv+Add+Relu": the op and the epilogue fused into it (layer tables, inspect, profiles).
std::string fused_op_name(const Node& node);

// "Conv 'name' (/encoder/conv1/Conv)" style description for messages.
std::string describe(const Graph& graph, const Node& node);

}  // namespace crowdrt::ir
