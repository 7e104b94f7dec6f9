// The one harness of the CPU backend's tests: tiny graphs built by hand, compiled by CpuBackend and by
// ReferenceBackend (the spec), run on the same random input, compared by error relative to the reference.
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/reference/reference_backend.h"
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

struct Comparison {
  std::vector<LayerInfo> layers;
  size_t arena_bytes = 0;
};

// Runs `graph` on both backends and asserts max|cpu - ref| <= 1e-4 * max(1, max|ref|) on every output.
inline Comparison expect_cpu_matches_reference(const ir::Graph& graph, int threads = 0, uint32_t seed = 7) {
  std::vector<Tensor> inputs;
  for (size_t i = 0; i < graph.inputs().size(); ++i)
    inputs.push_back(random_tensor(graph.value(graph.inputs()[i]).shape, seed + static_cast<uint32_t>(i)));
  auto run = [&](const Backend& backend, Comparison* info) {
    CompileOptions options;
    options.threads = threads;
    const std::unique_ptr<CompiledGraph> compiled = backend.compile(graph, options);
    std::vector<Tensor> outputs;
    std::vector<const float*> in_ptrs;
    std::vector<float*> out_ptrs;
    for (const Tensor& t : inputs) in_ptrs.push_back(t.data<float>());
    for (ir::ValueId v : graph.outputs()) outputs.emplace_back(DType::f32, graph.value(v).shape);
    for (Tensor& t : outputs) {
      std::fill(t.span<float>().begin(), t.span<float>().end(), std::nanf(""));
      out_ptrs.push_back(t.data<float>());
    }
    compiled->run(in_ptrs, out_ptrs);
    if (info) {
      info->layers = compiled->layers();
      info->arena_bytes = compiled->arena_bytes();
    }
    return outputs;
  };
  Comparison info;
  const std::vector<Tensor> expected = run(ReferenceBackend(), nullptr);
  const std::vector<Tensor> actual = run(CpuBackend(), &info);
  for (size_t o = 0; o < expected.size(); ++o) {
    float reference_max = 0.f, error = 0.f;
    for (int64_t i = 0; i < expected[o].numel(); ++i) {
      const float r = expected[o].data<float>()[i], a = actual[o].data<float>()[i];
      reference_max = std::max(reference_max, std::abs(r));
      if (std::isnan(a) != std::isnan(r)) error = INFINITY;
      else if (!std::isnan(r)) error = std::max(error, std::abs(a - r));
    }
    std::string layers;
    for (const LayerInfo& l : info.layers) layers += cat("\n  ", l.node, " ", l.op, " ", l.kernel, " ", l.layout, " ", l.note);
    EXPECT_LE(error, 1e-4f * std::max(1.f, reference_max))
        << "output " << o << " " << shape_str(expected[o].shape()) << layers;
  }
  return info;
}

}  // namespace crowdrt::test
