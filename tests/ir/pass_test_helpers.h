// Small hand-built graphs for pass tests, and running a graph on the reference backend.
#pragma once
#include <random>

#include "backends/cpu/reference/reference_backend.h"
#include "ir/graph.h"

namespace crowdrt::test {

inline Tensor random_tensor(Shape shape, uint32_t seed, float lo = -1.f, float hi = 1.f) {
  Tensor t(DType::f32, std::move(shape));
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  for (float& v : t.span<float>()) v = u(rng);
  return t;
}

inline ir::ValueId add_input(ir::Graph& g, const std::string& name, Shape shape) {
  const ir::ValueId v = g.add_value(name, DType::f32, std::move(shape), true);
  g.inputs().push_back(v);
  return v;
}

// A 3x3 same-padded Conv with random weights (and bias when asked); returns its output.
inline ir::ValueId add_conv(ir::Graph& g, ir::ValueId x, int64_t out_channels, uint32_t seed, bool bias,
                            const std::string& name) {
  const Shape in = g.value(x).shape;  // a copy: add_constant may reallocate the values
  const ir::ValueId w = g.add_constant(name + ".weight", random_tensor({out_channels, in[1], 3, 3}, seed));
  std::vector<ir::ValueId> inputs = {x, w};
  if (bias) inputs.push_back(g.add_constant(name + ".bias", random_tensor({out_channels}, seed + 1)));
  const ir::ValueId y = g.add_value(name + "_out", DType::f32, {in[0], out_channels, in[2], in[3]}, true);
  ir::Attributes a;
  a.set("kernel_shape", std::vector<int64_t>{3, 3});
  a.set("strides", std::vector<int64_t>{1, 1});
  a.set("pads", std::vector<int64_t>{1, 1, 1, 1});
  a.set("dilations", std::vector<int64_t>{1, 1});
  a.set("group", int64_t{1});
  g.add_node(ir::Op::Conv, name, inputs, {y}, a);
  return y;
}

inline ir::ValueId add_unary(ir::Graph& g, ir::Op op, ir::ValueId x, const std::string& name, ir::Attributes a = {}) {
  const ir::ValueId y = g.add_value(name + "_out", DType::f32, g.value(x).shape, true);
  g.add_node(op, name, {x}, {y}, std::move(a));
  return y;
}

inline ir::ValueId add_binary(ir::Graph& g, ir::Op op, ir::ValueId a, ir::ValueId b, const std::string& name) {
  const ir::ValueId y = g.add_value(name + "_out", DType::f32, g.value(a).shape, true);
  g.add_node(op, name, {a, b}, {y});
  return y;
}

inline Tensor run_reference(const ir::Graph& g, const Tensor& input) {
  auto compiled = ReferenceBackend().compile(g, {});
  Tensor out(DType::f32, g.value(g.outputs()[0]).shape);
  const float* in[] = {input.data<float>()};
  float* o[] = {out.data<float>()};
  compiled->run(in, o);
  return out;
}

inline float max_abs_diff(const Tensor& a, const Tensor& b) {
  float m = 0;
  for (int64_t i = 0; i < a.numel(); ++i) m = std::max(m, std::abs(a.data<float>()[i] - b.data<float>()[i]));
  return m;
}

inline int count_ops(const ir::Graph& g, ir::Op op) {
  int n = 0;
  for (const auto& node : g.nodes()) n += node.op == op;
  return n;
}

}  // namespace crowdrt::test
