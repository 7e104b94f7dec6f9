// The op harness (ggml's test-backend-ops, with each op's cases in its own file): every op case on every backend
// built into the program, in every precision, against ReferenceBackend in fp32; or, with perf, the time of each.
#pragma once
#include <functional>
#include <memory>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "backends/backend.h"

namespace crowdrt::test::ops {

struct BackendUnderTest {
  std::string name;
  std::unique_ptr<Backend> backend;  // null where the backend cannot run here
  std::string unavailable;           // why it cannot (no GPU, not built into this program)
  float fp32_factor = 1.f;           // its fp32 bound, as a multiple of the case's
  std::string fp32_factor_reason = {};
  // What is wrong with the layer that ran a node of the op under test, beyond its numbers ("" when nothing): the
  // CPU backend's fp32 Convs must get a fast oneDNN kernel, not its reference one.
  std::function<std::string(const ir::Node& node, const LayerInfo& layer, Precision permitted)> check_layer = {};
};

// ref, cpu (oneDNN builds), cuda (built with the GPU tests): each with the reason where it cannot run here.
std::vector<BackendUnderTest> backends_in_this_program();

// A case that fails on a backend for a reason known and reported, so that the test stays green until it is mended:
// the run is compared and printed as a known failure (a known failure that passes is printed too, to be removed).
struct KnownFailure {
  std::string backend, precision;  // precision "" for every precision
  std::string op, case_contains;   // op name; part of the run's description: case name, shape, placement ("": all)
  std::string reason;
};
const std::vector<KnownFailure>& known_failures();

struct HarnessOptions {
  std::vector<std::string> backends;  // names; every one in the program when empty
  std::vector<Precision> precisions = {Precision::fp32, Precision::fp16, Precision::bf16, Precision::int8};
  std::set<std::string> ops;          // op names; every op when empty
  std::set<std::string> not_ops;      // op names left out
  std::string case_contains;          // only cases whose name contains this
  bool perf = false;                  // time each case instead of comparing
  double perf_ms = 20;                // perf: time each case at least this long (and 3 runs)
  int threads = 0;                    // CompileOptions::threads of every backend (0: every core)
  bool verbose = false;               // print every run, not only failures and the summary
  bool list = false;                  // print the cases and stop
};

// Runs the harness, printing to `out`; returns the exit status: 0 when every run passed (or was skipped, saying
// so), 1 when one failed, kNothingRan when none of the backends named can run here. Error for options naming a
// backend, op or case it does not have (CTest's SKIP_RETURN_CODE: the GPU run on a machine without a GPU is reported as
// skipped).
constexpr int kNothingRan = 77;
int run_harness(const HarnessOptions& options, std::ostream& out);

}  // namespace crowdrt::test::ops
