// What the CPU backend's graph-level tests share (single ops on every backend are test_backend_ops's, ops/): tiny
// graphs built by hand, compiled by CpuBackend and by ReferenceBackend (the spec), run on the same random input,
// compared by error relative to the reference.
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/reference/reference_backend.h"
#include "graph_maker.h"

namespace crowdrt::test {

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
    for (const LayerInfo& l : info.layers)
      layers += cat("\n  ", l.node, " ", l.op, " ", l.kernel, " ", l.layout, " ", l.note);
    EXPECT_LE(error, 1e-4f * std::max(1.f, reference_max))
        << "output " << o << " " << shape_str(expected[o].shape()) << layers;
  }
  return info;
}

}  // namespace crowdrt::test
