// The op harness: builds each case's graph in each placement, runs it once on ReferenceBackend (the expected outputs,
// and the exact max|x| of every value, which int8 engines take as calibrated ranges), then on every backend in every
// precision it supports, and compares; what a backend does not support is skipped and said once per backend,
// precision and op.
#include "harness.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <tuple>

#include "backends/cpu/reference/reference_backend.h"
#include "op_case.h"
#if CROWDRT_WITH_ONEDNN
#include "backends/cpu/cpu_backend.h"
#endif
#if CROWDRT_BACKEND_OPS_CUDA
#include "backends/cuda/cuda_backend.h"
#include "backends/cuda/cuda_resources.h"
#endif

namespace crowdrt::test::ops {

std::vector<BackendUnderTest> backends_in_this_program() {
  std::vector<BackendUnderTest> backends;
  backends.push_back({"ref", std::make_unique<ReferenceBackend>(), ""});
#if CROWDRT_WITH_ONEDNN
  BackendUnderTest cpu{"cpu", std::make_unique<CpuBackend>(), ""};
  cpu.check_layer = [](const ir::Node& node, const LayerInfo& layer, Precision permitted) -> std::string {
    if (node.op == ir::Op::Conv && permitted == Precision::fp32 && layer.kernel.find("onednn:ref") != std::string::npos)
      return cat(node.name, " ran oneDNN's slow reference kernel ", layer.kernel,
                 "; a jit or brgemm kernel was expected; ");
    return "";
  };
  backends.push_back(std::move(cpu));
#else
  backends.push_back({"cpu", nullptr, "not built into this program (configured with -DCROWDRT_WITH_ONEDNN=OFF)"});
#endif
#if CROWDRT_BACKEND_OPS_CUDA
  std::string why;
  if (cuda::device_available(&why))
    backends.push_back({"cuda", std::make_unique<CudaBackend>(), "", 10.f,
                        "cuDNN's fp32 algorithms sum in other orders than the reference (the GPU tests' 1e-3)"});
  else
    backends.push_back({"cuda", nullptr, why});
#else
  backends.push_back({"cuda", nullptr,
                      "not built into this program (configure with -DCROWDRT_WITH_CUDA=ON -DCROWDRT_GPU_TESTS=ON)"});
#endif
  return backends;
}

namespace {

using Clock = std::chrono::steady_clock;

// A case in one placement: its graph, which nodes are the op under test, its inputs, and what the reference made of it.
struct BuiltCase {
  ir::Graph graph;
  std::vector<std::string> op_nodes;
  std::vector<Tensor> inputs;
  std::vector<Tensor> expected;            // one per graph output
  std::map<std::string, float> amax;       // every value's max|x| on these inputs
};

ir::ValueId pointwise_conv(GraphMaker& g, ir::ValueId x, int64_t in_channels, int64_t out_channels) {
  ir::Attributes pointwise;
  pointwise.set("kernel_shape", ints({1, 1}));
  return g.node(ir::Op::Conv, {x, g.weight({out_channels, in_channels, 1, 1})}, pointwise);
}

std::vector<Tensor> run_graph(const Backend& backend, const ir::Graph& graph, const std::vector<Tensor>& inputs,
                              const CompileOptions& options, std::vector<LayerInfo>* layers) {
  const std::unique_ptr<CompiledGraph> compiled = backend.compile(graph, options);
  std::vector<Tensor> outputs;
  std::vector<const float*> in_ptrs;
  std::vector<float*> out_ptrs;
  for (const Tensor& t : inputs) in_ptrs.push_back(t.data<float>());
  for (ir::ValueId v : graph.outputs()) outputs.emplace_back(DType::f32, graph.value(v).shape);
  for (Tensor& t : outputs) {
    std::fill(t.span<float>().begin(), t.span<float>().end(), std::nanf(""));  // an element not written fails
    out_ptrs.push_back(t.data<float>());
  }
  compiled->run(in_ptrs, out_ptrs);
  if (layers) *layers = compiled->layers();
  return outputs;
}

float max_abs(const Tensor& t) {
  float m = 0.f;
  for (float v : t.span<float>()) m = std::max(m, std::abs(v));
  return m;
}

// The case's graph in this placement, with its inputs; the reference run comes apart (run_reference), only where a
// backend runs the case.
BuiltCase build_case(const OpCase& c, Placement placement) {
  BuiltCase built;
  GraphMaker g;
  ir::ValueId x = g.input(c.input);
  Shape shape = c.input;
  if (placement == Placement::after_conv) x = pointwise_conv(g, x, shape[1], shape[1]);
  if (placement == Placement::between_convs) {
    x = pointwise_conv(g, x, shape[1], 16);
    shape[1] = 16;
  }
  const size_t first = g.graph.nodes().size();
  ir::ValueId y = c.build(g, x, shape);
  for (size_t i = first; i < g.graph.nodes().size(); ++i)
    if (g.graph.nodes()[i].op == c.op) built.op_nodes.push_back(g.graph.nodes()[i].name);
  if (placement == Placement::between_convs && g.graph.value(y).shape.size() == 4)
    y = pointwise_conv(g, y, g.graph.value(y).shape[1], 16);
  g.output(y);
  built.graph = std::move(g.graph);
  for (size_t i = 0; i < built.graph.inputs().size(); ++i)
    built.inputs.push_back(
        random_tensor(built.graph.value(built.graph.inputs()[i]).shape, 7 + static_cast<uint32_t>(i)));
  return built;
}

// One reference run of a copy of the graph whose every value is an output: the expected outputs (the first ones),
// and every value's max|x|.
void run_reference(BuiltCase& built) {
  ir::Graph every_value = built.graph;
  for (const ir::Node& n : every_value.nodes())
    for (ir::ValueId v : n.outputs)
      if (std::find(every_value.outputs().begin(), every_value.outputs().end(), v) == every_value.outputs().end())
        every_value.outputs().push_back(v);
  std::vector<Tensor> values = run_graph(ReferenceBackend(), every_value, built.inputs, CompileOptions{}, nullptr);
  for (size_t i = 0; i < values.size(); ++i)
    built.amax[every_value.value(every_value.outputs()[i]).name] = max_abs(values[i]);
  for (size_t i = 0; i < built.inputs.size(); ++i)
    built.amax[built.graph.value(built.graph.inputs()[i]).name] = max_abs(built.inputs[i]);
  values.resize(built.graph.outputs().size());
  built.expected = std::move(values);
}

// Whether the backend runs every node of the op under test in this precision.
bool backend_supports(const Backend& backend, const BuiltCase& built, Precision precision) {
  for (const ir::Node& n : built.graph.nodes())
    if (std::count(built.op_nodes.begin(), built.op_nodes.end(), n.name) &&
        !backend.supports(built.graph, n, precision))
      return false;
  return true;
}

// The precision a layer ran in: the GPU's int8 engine stores values int8 around ops that report fp16.
Precision ran_in(const LayerInfo& layer) {
  return layer.layout.find("int8") != std::string::npos ? Precision::int8 : layer.precision;
}

// `what`: the run's description (case name, shape and placement), which case_contains is looked for in.
const KnownFailure* known_failure(const std::string& backend, Precision precision, const OpCase& c,
                                  const std::string& what) {
  for (const KnownFailure& k : known_failures())
    if (k.backend == backend && (k.precision.empty() || k.precision == precision_name(precision)) &&
        k.op == ir::op_name(c.op) && what.find(k.case_contains) != std::string::npos)
      return &k;
  return nullptr;
}

// Runs of one backend, precision and op that were skipped or ran in another precision: one line each at the end.
struct Tally {
  int runs = 0, skipped = 0, fell_back = 0;
  std::string fell_back_example;
};

std::string describe_layers(const std::vector<LayerInfo>& layers) {
  std::string text;
  for (const LayerInfo& l : layers)
    text += cat("\n      ", l.node, " ", l.op, " ", l.kernel, " ", precision_name(l.precision), " ", l.layout,
                l.tactic.empty() ? "" : " tactic " + l.tactic.text(), l.note.empty() ? "" : " (" + l.note + ")");
  return text;
}

bool selected(const HarnessOptions& options, const OpCase& c) {
  return (options.ops.empty() || options.ops.count(ir::op_name(c.op))) && !options.not_ops.count(ir::op_name(c.op)) &&
         c.name.find(options.case_contains) != std::string::npos;
}

std::string fixed(double value, int digits) {
  char text[32];
  std::snprintf(text, sizeof text, "%.*f", digits, value);
  return text;
}

// --perf: the median time of each case's run (graph input placement) per backend and precision: the device's compute
// time where the backend measures it (the GPU: copies to and from the host apart), else the run's wall time.
int run_perf(const HarnessOptions& options, const std::vector<OpCase>& cases,
             const std::vector<const BackendUnderTest*>& backends, std::ostream& out) {
  std::vector<std::pair<const BackendUnderTest*, Precision>> columns;
  for (const BackendUnderTest* b : backends)
    for (Precision p : options.precisions)
      if (b->name != "ref" || p == Precision::fp32) columns.emplace_back(b, p);
  out << "median time of one run in µs ('-' not supported, 'x' failed; on the GPU the compute alone, copies apart), "
         "the "
         "op on the graph input; "
      << options.perf_ms << " ms and at least 3 runs per cell\n";
  bool any_failed = false;
  out << "op                  ";
  for (const auto& [b, p] : columns)
    out << " " << std::string(12 - std::min<size_t>(12, b->name.size() + 5), ' ') << b->name << " "
        << precision_name(p);
  out << "  case\n";
  for (const OpCase& c : cases) {
    BuiltCase built = build_case(c, Placement::graph_input);
    run_reference(built);  // the ranges of int8 runs
    std::string row = ir::op_name(c.op);
    row.resize(20, ' ');
    for (const auto& [b, p] : columns) {
      std::string cell = "-";
      if (backend_supports(*b->backend, built, p)) {
        try {
          CompileOptions compile;
          compile.threads = options.threads;
          compile.precision = p;
          if (p == Precision::int8) compile.activation_amax = built.amax;
          const std::unique_ptr<CompiledGraph> compiled = b->backend->compile(built.graph, compile);
          std::vector<Tensor> outputs;
          std::vector<const float*> in_ptrs;
          std::vector<float*> out_ptrs;
          for (const Tensor& t : built.inputs) in_ptrs.push_back(t.data<float>());
          for (ir::ValueId v : built.graph.outputs()) outputs.emplace_back(DType::f32, built.graph.value(v).shape);
          for (Tensor& t : outputs) out_ptrs.push_back(t.data<float>());
          compiled->run(in_ptrs, out_ptrs);  // warm-up
          std::vector<double> times;
          const auto start = Clock::now();
          while (times.size() < 3 ||
                 std::chrono::duration<double, std::milli>(Clock::now() - start).count() < options.perf_ms) {
            const auto t0 = Clock::now();
            compiled->run(in_ptrs, out_ptrs);
            DeviceTimes device;
            times.push_back(compiled->last_device_times(&device)
                                ? device.compute_ms * 1000
                                : std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
          }
          std::nth_element(times.begin(), times.begin() + times.size() / 2, times.end());
          cell = fixed(times[times.size() / 2], 1);
        } catch (const Error& e) {
          cell = "x";
          any_failed = true;
          out << "  " << b->name << " " << precision_name(p) << " " << ir::op_name(c.op) << " " << c.name << ": "
              << e.what() << "\n";
        }
      }
      row += " " + std::string(12 - std::min<size_t>(12, cell.size()), ' ') + cell;
    }
    out << row << "  " << c.name << "\n";
  }
  return any_failed ? 1 : 0;
}

}  // namespace

int run_harness(const HarnessOptions& options, std::ostream& out) {
  const auto start = Clock::now();
  std::vector<OpCase> cases;
  std::set<std::string> ops_present;
  for (OpCase& c : all_op_cases()) {
    ops_present.insert(ir::op_name(c.op));
    if (selected(options, c)) cases.push_back(std::move(c));
  }
  std::set<std::string> named = options.ops;
  named.insert(options.not_ops.begin(), options.not_ops.end());
  for (const std::string& op : named)
    if (!ops_present.count(op)) {
      std::string names;
      for (const std::string& name : ops_present) names += (names.empty() ? "" : ", ") + name;
      throw Error(cat("no cases for op '", op, "'; the ops with cases are ", names));
    }
  if (cases.empty()) {
    throw Error(cat("no case matches '", options.case_contains, "'; --list shows the cases"));
  }
  if (options.list) {
    for (const OpCase& c : cases) {
      out << ir::op_name(c.op) << ": " << c.name << " (";
      for (size_t i = 0; i < c.placements.size(); ++i) out << (i ? ", " : "") << placement_name(c.placements[i]);
      out << ")\n";
    }
    out << cases.size() << " cases\n";
    return 0;
  }

  std::vector<BackendUnderTest> all = backends_in_this_program();
  for (const std::string& name : options.backends)
    if (std::none_of(all.begin(), all.end(), [&](const BackendUnderTest& b) { return b.name == name; }))
      throw Error(cat("no backend '", name, "'; give ref, cpu or cuda"));
  std::vector<const BackendUnderTest*> backends;
  for (const BackendUnderTest& b : all)
    if (options.backends.empty() || std::count(options.backends.begin(), options.backends.end(), b.name)) {
      if (!b.backend) out << "skip  " << b.name << ": " << b.unavailable << "\n";
      else backends.push_back(&b);
    }
  if (backends.empty()) {
    out << "test_backend_ops: none of the backends named can run here; nothing was tested\n";
    return kNothingRan;
  }
  if (options.perf) return run_perf(options, cases, backends, out);

  for (const BackendUnderTest* b : backends)
    if (b->name == "ref") out << "ref: the reference the other backends are compared with (--perf times it)\n";
  std::map<std::tuple<std::string, Precision, std::string>, Tally> tallies;
  int passed = 0, failed = 0, known = 0, known_passed = 0, skipped = 0;
  for (const OpCase& c : cases)
    for (Placement placement : c.placements) {
      const bool int8_only = placement == Placement::between_convs;
      if (int8_only && std::find(options.precisions.begin(), options.precisions.end(), Precision::int8) ==
                           options.precisions.end())
        continue;
      BuiltCase built = build_case(c, placement);
      bool referenced = false;
      for (const BackendUnderTest* b : backends) {
        if (b->name == "ref") continue;
        for (Precision p : options.precisions) {
          if (int8_only && p != Precision::int8) continue;
          Tally& tally = tallies[{b->name, p, ir::op_name(c.op)}];
          ++tally.runs;
          const std::string what = cat(b->name, " ", precision_name(p), " ", ir::op_name(c.op), " ", c.name, " ",
                                       placement_name(placement));
          if (!backend_supports(*b->backend, built, p)) {
            ++tally.skipped;
            ++skipped;
            if (options.verbose) out << "skip  " << what << ": not supported\n";
            continue;
          }
          if (!referenced) {
            run_reference(built);
            referenced = true;
          }
          CompileOptions compile;
          compile.threads = options.threads;
          compile.precision = p;
          if (p == Precision::int8) compile.activation_amax = built.amax;
          std::vector<LayerInfo> layers;
          std::string problem;
          try {
            const std::vector<Tensor> actual = run_graph(*b->backend, built.graph, built.inputs, compile, &layers);
            const float bound_fraction = c.tolerance.of(p) * (p == Precision::fp32 ? b->fp32_factor : 1.f);
            for (size_t o = 0; o < built.expected.size(); ++o) {
              float reference_max = 0.f, error = 0.f;
              for (int64_t i = 0; i < built.expected[o].numel(); ++i) {
                const float r = built.expected[o].data<float>()[i], a = actual[o].data<float>()[i];
                reference_max = std::max(reference_max, std::abs(r));
                if (std::isnan(a) != std::isnan(r)) error = INFINITY;
                else if (!std::isnan(r)) error = std::max(error, std::abs(a - r));
              }
              const float bound = bound_fraction * std::max(1.f, reference_max);
              if (!(error <= bound))
                problem += cat("output ", o, " ", shape_str(built.expected[o].shape()), ": max|Δ| ", error, " > ",
                               bound, " (", bound_fraction, " x max(1, max|ref| ", reference_max, ")); ");
            }
          } catch (const Error& e) {
            problem = cat("error: ", e.what());
          }
          bool fell_back = false;
          for (const ir::Node& n : built.graph.nodes()) {
            if (!std::count(built.op_nodes.begin(), built.op_nodes.end(), n.name)) continue;
            for (const LayerInfo& l : layers) {
              if (l.node != n.name) continue;
              if (b->check_layer) problem += b->check_layer(n, l, p);
              if (ran_in(l) != p && !fell_back) {
                fell_back = true;
                if (tally.fell_back++ == 0)
                  tally.fell_back_example = cat("ran ", precision_name(ran_in(l)), l.note.empty() ? "" : ": " + l.note);
              }
            }
          }
          const KnownFailure* k = known_failure(b->name, p, c, what);
          if (problem.empty() && k) {
            ++known_passed;
            out << "known failure now passes (remove it from known_failures.cpp): " << what << "\n";
          }
          if (problem.empty()) {
            ++passed;
            if (options.verbose) out << "ok    " << what << "\n";
          } else if (k) {
            ++known;
            out << "known failure  " << what << ": " << k->reason << "; " << problem << "\n";
          } else {
            ++failed;
            out << "FAIL  " << what << ": " << problem << describe_layers(layers) << "\n";
          }
        }
      }
    }
  int skip_lines = 0;
  for (const auto& [key, tally] : tallies) {
    const auto& [backend, precision, op] = key;
    if (tally.skipped) {
      ++skip_lines;
      out << "skip  " << backend << " " << precision_name(precision) << " " << op << ": " << tally.skipped << " of "
          << tally.runs << " runs, the backend does not support "
          << (tally.skipped == tally.runs ? "it" : "those cases") << "\n";
    }
    if (tally.fell_back)
      out << "note  " << backend << " " << precision_name(precision) << " " << op << ": " << tally.fell_back << " of "
          << tally.runs << " runs " << tally.fell_back_example << " (compared within the " << precision_name(precision)
          << " bound)\n";
  }
  for (const BackendUnderTest* b : backends)
    if (b->fp32_factor != 1.f)
      out << "note  " << b->name << " fp32 bounds are " << b->fp32_factor << "x the cases': " << b->fp32_factor_reason
          << "\n";
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  out << "test_backend_ops: " << cases.size() << " cases of " << ops_present.size() << " ops; " << passed
      << " runs passed, " << failed << " failed, " << known << " known failures, " << skipped << " skipped ("
      << skip_lines << " skip lines above); " << fixed(seconds, 1) << " s\n";
  return failed ? 1 : 0;
}

}  // namespace crowdrt::test::ops
