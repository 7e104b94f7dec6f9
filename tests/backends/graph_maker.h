// Small graphs built by hand for the backend tests: random tensors, and a graph maker whose shapes come from the
// IR's own shape inference (the CPU tests, the GPU tests and the op harness in ops/ share it).
#pragma once
#include <random>
#include <vector>

#include "ir/graph.h"
#include "ir/shape_inference.h"

namespace crowdrt::test {

inline Tensor random_tensor(Shape shape, uint32_t seed, float low = -1.f, float high = 1.f) {
  Tensor t(DType::f32, std::move(shape));
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(low, high);
  for (float& v : t.span<float>()) v = u(rng);
  return t;
}

inline std::vector<int64_t> ints(std::initializer_list<int64_t> values) { return values; }

// Builds a graph node by node; shapes come from the IR's own shape inference.
class GraphMaker {
 public:
  ir::ValueId input(const Shape& shape) {
    const ir::ValueId v = graph.add_value(cat("x", graph.inputs().size()), DType::f32, shape, true);
    graph.inputs().push_back(v);
    return v;
  }
  ir::ValueId weight(const Shape& shape, float scale = 1.f) {
    const uint32_t seed = 1000 + constants_++;  // the seeds the tests' tolerances were measured with
    return graph.add_constant(cat("w", constants_), random_tensor(shape, seed, -scale, scale));
  }
  ir::ValueId node(ir::Op op, std::vector<ir::ValueId> inputs, ir::Attributes attrs = {}) {
    const ir::ValueId out = graph.add_value(cat("v", graph.value_count()));
    const ir::Node& n = graph.add_node(op, cat(ir::op_name(op), "_", graph.nodes().size()), std::move(inputs),
                                       {out}, std::move(attrs));
    ir::infer_node_shapes(graph, n);
    graph.value(out).shape_known = true;
    return out;
  }
  void output(ir::ValueId v) { graph.outputs().push_back(v); }
  ir::Graph graph;

 private:
  uint32_t constants_ = 0;
};

}  // namespace crowdrt::test
