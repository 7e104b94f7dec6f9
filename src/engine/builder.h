// ONNX → plan: import, optimise for a backend, compile once to record each layer's kernel, serialise.
#pragma once
#include <map>
#include <string>

#include "backends/backend.h"
#include "engine/plan.h"

namespace crowdrt {

struct BuildOptions {
  std::string device = "cpu";
  Precision precision = Precision::fp32;
  int threads = 0;                              // 0: all cores
  std::map<std::string, Shape> input_shapes;    // overrides for dynamic inputs
  std::string timing_cache;                     // GPU: tactic timings reused across builds ("" for none)
};

// The builder's passes in order, for a backend (fold constants, remove identities, fold BatchNorm, fuse
// residual adds and activations, concat in place, drop dead nodes). Error listing unsupported nodes.
ir::Graph optimise(ir::Graph graph, const Backend& backend);

Plan build_plan(const std::string& onnx_path, const BuildOptions& options);

}  // namespace crowdrt
