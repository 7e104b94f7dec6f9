// test_backend_ops: every op's cases (tests/backends/ops/<op>_cases.cpp) on every backend in this program, in
// every precision, against ReferenceBackend in fp32; --perf times them instead. CTest runs it on the CPU (unit) and,
// where the GPU tests are built, on CUDA (gpu).
#include <cstdlib>
#include <iostream>
#include <sstream>

#include "harness.h"

namespace {

const char* const kUsage = R"(usage: test_backend_ops [options]
Runs each op's test cases on the backends built into this program, in each precision, and compares every output
with ReferenceBackend's in fp32 (max|backend - reference| <= the case's bound for the precision x max(1, max|ref|)).
int8 runs take the reference run's exact max|x| of each value as its calibrated range. What a backend does not
support (Backend::supports) is skipped, with one line per backend, precision and op; a layer that ran in another
precision than permitted is noted the same way. Exit status: 0 all runs passed, 1 a run failed, 2 a bad option,
77 none of the backends named can run here (no GPU, or not built in; CTest reports the test as skipped).
  --backend LIST     backends to run, comma-separated: ref, cpu, cuda (default: every one built in)
  --precision LIST   precisions: fp32, fp16, bf16, int8 (default: all four)
  --op LIST          only these ops, by ONNX name (Conv, Resize, ...; default: every op)
  --not-op LIST      every op but these
  --case TEXT        only cases whose name contains TEXT (e.g. "scales 0.5x0.75")
  --perf             time each case (the op on the graph input) per backend and precision instead of comparing,
                     and print a table of median microseconds per run (the GPU's compute time, copies apart; the
                     host backends' wall time); never run by CTest
  --perf-ms MS       --perf: time each cell for at least MS milliseconds and 3 runs (default 20)
  --threads N        threads each backend may use (default 0: every core)
  --list             print the cases (op, name, placements) and stop
  -v, --verbose      print every run, not only failures, skips and the summary
  -h, --help         this text
)";

std::vector<std::string> split(const std::string& list) {
  std::vector<std::string> parts;
  std::stringstream in(list);
  for (std::string part; std::getline(in, part, ',');)
    if (!part.empty()) parts.push_back(part);
  return parts;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace crowdrt;
  test::ops::HarnessOptions options;
  try {
    for (int i = 1; i < argc; ++i) {
      const std::string arg = argv[i];
      auto value = [&]() -> std::string {
        if (i + 1 >= argc) throw Error(cat(arg, " needs a value; see --help"));
        return argv[++i];
      };
      if (arg == "-h" || arg == "--help") {
        std::cout << kUsage;
        return 0;
      } else if (arg == "--backend") {
        options.backends = split(value());
      } else if (arg == "--precision") {
        options.precisions.clear();
        for (const std::string& name : split(value())) options.precisions.push_back(precision_from_name(name));
      } else if (arg == "--op") {
        for (const std::string& name : split(value())) options.ops.insert(name);
      } else if (arg == "--not-op") {
        for (const std::string& name : split(value())) options.not_ops.insert(name);
      } else if (arg == "--case") {
        options.case_contains = value();
      } else if (arg == "--perf") {
        options.perf = true;
      } else if (arg == "--perf-ms") {
        const std::string text = value();
        char* end = nullptr;
        options.perf_ms = std::strtod(text.c_str(), &end);
        if (*end || !(options.perf_ms > 0 && options.perf_ms <= 60000))
          throw Error(cat("--perf-ms is '", text, "'; give more than 0 and at most 60000 milliseconds"));
      } else if (arg == "--threads") {
        const std::string text = value();
        char* end = nullptr;
        const long threads = std::strtol(text.c_str(), &end, 10);
        if (*end || text.empty() || threads < 0 || threads > kMaxThreads)
          throw Error(cat("--threads is '", text, "'; give 0 (every core) or 1 to ", kMaxThreads));
        options.threads = static_cast<int>(threads);
      } else if (arg == "--list") {
        options.list = true;
      } else if (arg == "-v" || arg == "--verbose") {
        options.verbose = true;
      } else {
        throw Error(cat("unknown option '", arg, "'; see --help"));
      }
    }
    if (options.precisions.empty()) throw Error("--precision names no precision; give fp32, fp16, bf16 or int8");
    return test::ops::run_harness(options, std::cout);
  } catch (const Error& e) {
    std::cerr << "test_backend_ops: " << e.what() << "\n";
    return 2;
  }
}
