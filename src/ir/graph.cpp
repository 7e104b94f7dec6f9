#include "ir/graph.h"

#include <algorithm>
#include <functional>

namespace crowdrt::ir {
namespace {
template <class T>
const T& get_as(const std::map<std::string, Attr>& map, const std::string& name, const char* type) {
  const Attr& a = map.at(name);
  if (const T* v = std::get_if<T>(&a)) return *v;
  throw Error(cat("attribute '", name, "' is not of type ", type));
}
}  // namespace

int64_t Attributes::i(const std::string& name, int64_t fallback) const {
  return has(name) ? get_as<int64_t>(map_, name, "int") : fallback;
}
float Attributes::f(const std::string& name, float fallback) const {
  if (!has(name)) return fallback;
  if (const auto* v = std::get_if<int64_t>(&map_.at(name))) return static_cast<float>(*v);
  return get_as<float>(map_, name, "float");
}
std::string Attributes::s(const std::string& name, const std::string& fallback) const {
  return has(name) ? get_as<std::string>(map_, name, "string") : fallback;
}
std::vector<int64_t> Attributes::ints(const std::string& name, std::vector<int64_t> fallback) const {
  return has(name) ? get_as<std::vector<int64_t>>(map_, name, "ints") : fallback;
}
std::vector<float> Attributes::floats(const std::string& name, std::vector<float> fallback) const {
  return has(name) ? get_as<std::vector<float>>(map_, name, "floats") : fallback;
}

size_t Graph::check(ValueId id) const {
  if (id < 0 || static_cast<size_t>(id) >= values_.size()) throw Error(cat("invalid value id ", id));
  return static_cast<size_t>(id);
}

std::string Graph::unique_name(const std::string& base) const {
  if (!by_name_.count(base)) return base;
  for (int i = 1;; ++i) {
    std::string n = base + "_" + std::to_string(i);
    if (!by_name_.count(n)) return n;
  }
}

ValueId Graph::add_value(const std::string& name, DType dtype, Shape shape, bool shape_known) {
  const std::string n = unique_name(name.empty() ? "v" + std::to_string(values_.size()) : name);
  values_.push_back(Value{n, dtype, std::move(shape), shape_known, nullptr});
  const ValueId id = static_cast<ValueId>(values_.size() - 1);
  by_name_[n] = id;
  return id;
}

ValueId Graph::add_constant(const std::string& name, Tensor tensor) {
  const ValueId id = add_value(name, tensor.dtype(), tensor.shape(), true);
  values_[id].data = std::make_shared<const Tensor>(std::move(tensor));
  return id;
}

Node& Graph::add_node(Op op, const std::string& name, std::vector<ValueId> inputs, std::vector<ValueId> outputs,
                      Attributes attrs) {
  for (ValueId v : inputs)
    if (v != kNoValue) check(v);
  for (ValueId v : outputs) check(v);
  nodes_.push_back(Node{name, op, std::move(inputs), std::move(outputs), std::move(attrs)});
  return nodes_.back();
}

ValueId Graph::find_value(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? kNoValue : it->second;
}

std::vector<int> Graph::producers() const {
  std::vector<int> p(values_.size(), -1);
  for (size_t i = 0; i < nodes_.size(); ++i)
    for (ValueId v : nodes_[i].outputs) p[v] = static_cast<int>(i);
  return p;
}

std::vector<int> Graph::use_counts() const {
  std::vector<int> uses(values_.size(), 0);
  for (const Node& n : nodes_)
    for (ValueId v : n.inputs)
      if (v != kNoValue) ++uses[v];
  for (ValueId v : outputs_) ++uses[v];
  return uses;
}

void Graph::replace_uses(ValueId from, ValueId to) {
  for (Node& n : nodes_)
    for (ValueId& v : n.inputs)
      if (v == from) v = to;
  for (ValueId& v : outputs_)
    if (v == from) v = to;
}

void Graph::erase_nodes(const std::vector<bool>& drop) {
  std::vector<Node> kept;
  kept.reserve(nodes_.size());
  for (size_t i = 0; i < nodes_.size(); ++i)
    if (i >= drop.size() || !drop[i]) kept.push_back(std::move(nodes_[i]));
  nodes_ = std::move(kept);
}

void Graph::remove_dead_nodes() {
  for (bool changed = true; changed;) {
    changed = false;
    const std::vector<int> uses = use_counts();
    const size_t before = nodes_.size();
    nodes_.erase(std::remove_if(nodes_.begin(), nodes_.end(),
                                [&](const Node& n) {
                                  return std::all_of(n.outputs.begin(), n.outputs.end(),
                                                     [&](ValueId v) { return uses[v] == 0; });
                                }),
                 nodes_.end());
    changed = nodes_.size() != before;
  }
}

void Graph::sort_topologically() {
  const std::vector<int> producer = producers();
  std::vector<int> state(nodes_.size(), 0);  // 0 new, 1 visiting, 2 done
  std::vector<Node> sorted;
  sorted.reserve(nodes_.size());
  std::function<void(size_t)> visit = [&](size_t i) {
    if (state[i] == 2) return;
    if (state[i] == 1) throw Error(cat("graph has a cycle through ", describe(*this, nodes_[i])));
    state[i] = 1;
    for (ValueId v : nodes_[i].inputs)
      if (v != kNoValue && producer[v] >= 0) visit(static_cast<size_t>(producer[v]));
    state[i] = 2;
    sorted.push_back(nodes_[i]);
  };
  for (size_t i = 0; i < nodes_.size(); ++i) visit(i);
  nodes_ = std::move(sorted);
}

void Graph::validate() const {
  std::vector<bool> ready(values_.size(), false);
  for (ValueId v : inputs_) ready[check(v)] = true;
  for (size_t i = 0; i < values_.size(); ++i)
    if (values_[i].is_constant()) ready[i] = true;
  for (const Node& n : nodes_) {
    for (ValueId v : n.inputs)
      if (v != kNoValue && !ready[check(v)])
        throw Error(cat(describe(*this, n), " reads '", values_[v].name, "' before it is produced"));
    for (ValueId v : n.outputs) {
      if (ready[check(v)])
        throw Error(cat(describe(*this, n), " writes '", values_[v].name, "' which already has a value"));
      ready[v] = true;
    }
  }
  for (ValueId v : outputs_)
    if (!ready[check(v)]) throw Error(cat("graph output '", values_[v].name, "' is never produced"));
}

const Tensor& Graph::constant(ValueId id) const {
  const Value& v = value(id);
  if (!v.data) throw Error(cat("value '", v.name, "' is not a constant"));
  return *v.data;
}

std::string fused_op_name(const Node& node) {
  std::string name = op_name(node.op);
  if (node.attrs.i("fused_add", 0) != 0) name += "+Add";
  static const std::pair<const char*, const char*> kActivations[] = {
      {"relu", "Relu"},       {"leaky_relu", "LeakyRelu"},     {"clip", "Clip"},
      {"sigmoid", "Sigmoid"}, {"hard_sigmoid", "HardSigmoid"}, {"hard_swish", "HardSwish"}};
  const std::string act = node.attrs.s("activation", "");
  for (const auto& [attr, onnx] : kActivations)
    if (act == attr) name += std::string("+") + onnx;
  return name;
}

std::string describe(const Graph& graph, const Node& node) {
  std::string s = cat(op_name(node.op), " node '", node.name, "'");
  if (!node.outputs.empty()) s += cat(" (output '", graph.value(node.outputs[0]).name, "')");
  return s;
}

}  // namespace crowdrt::ir
