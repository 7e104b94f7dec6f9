// Runs one op on the reference kernels without building a graph by hand: a one-node graph is made around it
// so that run_reference_node sees the same thing a backend would.
#pragma once
#include <algorithm>
#include <cmath>
#include <optional>
#include <vector>

#include "backends/cpu/reference/reference_backend.h"

namespace crowdrt::test {

// inputs: std::nullopt for an omitted optional input (kNoValue). The output has `output_shape`.
inline Tensor run_op(ir::Op op, const ir::Attributes& attrs, const std::vector<std::optional<Tensor>>& inputs,
                     const Shape& output_shape) {
  ir::Graph graph;
  std::vector<ir::ValueId> ids;
  std::vector<const Tensor*> pointers;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i]) {
      ids.push_back(ir::kNoValue);
      pointers.push_back(nullptr);
      continue;
    }
    ids.push_back(graph.add_value("in" + std::to_string(i), DType::f32, inputs[i]->shape(), true));
    pointers.push_back(&*inputs[i]);
  }
  const ir::ValueId y = graph.add_value("out", DType::f32, output_shape, true);
  graph.add_node(op, std::string("test_") + ir::op_name(op), ids, {y}, attrs);
  Tensor out(DType::f32, output_shape);
  Tensor* outs[] = {&out};
  run_reference_node(graph, graph.nodes()[0], pointers, outs);
  return out;
}

inline float max_abs(const Tensor& t) {
  float m = 0.f;
  for (float v : t.span<float>()) m = std::max(m, std::abs(v));
  return m;
}

inline float max_abs_difference(const Tensor& a, const Tensor& b) {
  float m = 0.f;
  for (int64_t i = 0; i < a.numel(); ++i) m = std::max(m, std::abs(a.data<float>()[i] - b.data<float>()[i]));
  return m;
}

}  // namespace crowdrt::test
