// crowdrt perf: a plan's latency measured as trtexec measures it (TensorRT's trtexec documentation, "Inference
// options"): --warmUp milliseconds of untimed runs, then timed runs until both --duration seconds and --iterations
// runs are reached; latency min / mean / median / p90 / p95 / p99 / max, stdev and coefficient of variation,
// throughput; --exportTimes writes every iteration, --exportProfile the per-layer profile, --json the summary.
#include <sched.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <numeric>
#include <random>
#include <thread>

#include <nlohmann/json.hpp>

#include "cli/cli_common.h"
#include "core/cancel.h"
#include "core/file.h"
#include "core/log.h"
#include "core/npy.h"
#include "engine/runtime.h"
#include "ir/graph_stats.h"

namespace crowdrt::cli {
namespace {

// Above this coefficient of variation (stdev / mean) the latencies are too spread to be one number: warn.
constexpr double kHighVariation = 0.10;

struct LatencySummary {
  double min = 0, mean = 0, median = 0, p90 = 0, p95 = 0, p99 = 0, max = 0, stdev = 0, cv = 0;
};

double percentile(const std::vector<double>& sorted, double p) {
  const double rank = p / 100.0 * (sorted.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(rank)), hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
}

// `values` is not empty. stdev is the population's (divided by n), as numpy.std gives.
LatencySummary summarize(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  LatencySummary s;
  s.min = values.front();
  s.max = values.back();
  s.mean = std::accumulate(values.begin(), values.end(), 0.0) / values.size();
  s.median = percentile(values, 50);
  s.p90 = percentile(values, 90);
  s.p95 = percentile(values, 95);
  s.p99 = percentile(values, 99);
  double squares = 0;
  for (double v : values) squares += (v - s.mean) * (v - s.mean);
  s.stdev = std::sqrt(squares / values.size());
  s.cv = s.mean > 0 ? s.stdev / s.mean : 0;
  return s;
}

nlohmann::json summary_json(const LatencySummary& s) {
  return {{"min_ms", s.min},       {"mean_ms", s.mean},   {"median_ms", s.median},
          {"p90_ms", s.p90},       {"p95_ms", s.p95},     {"p99_ms", s.p99},
          {"max_ms", s.max},       {"stdev_ms", s.stdev}, {"cv_percent", 100 * s.cv}};
}

// The threads the CPU backend runs with: the given number, or for 0 every core this process may run on (what
// omp_get_num_procs counts).
int threads_used(int requested) {
  if (requested > 0) return requested;
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return CPU_COUNT(&set);
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

// A number option's check whose message names the value as given, so that a usage error says what was wrong:
// "--duration: 0 is out of range: give more than 0 (seconds)" (CLI11's own range check prints DBL_MAX in full).
// `lowest` and `highest` are whole numbers; the highest keeps a run bounded (every timed run is kept in memory).
CLI::Validator number_at_least(double lowest, bool lowest_allowed, bool integer, const std::string& unit,
                               double highest = 1e9) {
  const std::string bound = cat(lowest_allowed ? "at least " : "more than ", static_cast<long long>(lowest),
                                " and at most ", static_cast<long long>(highest));
  return CLI::Validator(
      [=](std::string& text) -> std::string {
        double value = 0;
        size_t used = 0;
        try {
          value = std::stod(text, &used);
        } catch (const std::exception&) {
          used = 0;
        }
        if (used == 0 || used != text.size() || !std::isfinite(value) || (integer && value != std::floor(value)))
          return cat("'", text, "' is not ", integer ? "a whole number" : "a number", " of ", unit);
        if (value < lowest || (!lowest_allowed && value == lowest) || value > highest)
          return cat(text, " is out of range: give ", bound, " (", unit, ")");
        return {};
      },
      "");
}

struct Iteration {
  double start_ms = 0, end_ms = 0;  // since the first timed iteration started
  bool has_device = false;
  DeviceTimes device;
};

// "-" writes to stdout; a file is written whole through a temporary (never half a file).
void write_json(const std::string& path, const nlohmann::json& j) {
  const std::string text = j.dump(2) + "\n";
  if (path == "-") {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
    return;
  }
  write_text_atomic(path, text);
}

// --loadInputs name:file.npy[,name:file.npy] (trtexec's syntax; a name with ':' in it may be quoted: 'input:0').
std::map<std::string, std::string> parse_load_inputs(const std::vector<std::string>& specs) {
  std::map<std::string, std::string> files;
  for (const std::string& spec : specs) {
    std::string name, file;
    if (spec.size() > 1 && spec[0] == '\'') {
      const size_t close = spec.find('\'', 1);
      if (close != std::string::npos && close + 1 < spec.size() && spec[close + 1] == ':') {
        name = spec.substr(1, close - 1);
        file = spec.substr(close + 2);
      }
    } else if (const size_t colon = spec.rfind(':'); colon != std::string::npos) {
      name = spec.substr(0, colon);
      file = spec.substr(colon + 1);
    }
    if (name.empty() || file.empty())
      throw CLI::ValidationError("--loadInputs", cat("'", spec, "': expected NAME:FILE.npy such as input:x.npy"));
    files[name] = file;
  }
  return files;
}

}  // namespace

void register_perf(CLI::App& app) {
  struct Args {
    std::string plan, json, export_times, export_profile;
    std::vector<std::string> load_inputs;
    int iterations = 10, threads = 0;
    double warmup_ms = 200, duration_s = 3;
    bool profile = false, overwrite = false, cuda_graph = true;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand(
      "perf", "Measure a plan's latency (min/mean/median/p90/p95/p99/max, stdev, CV) and throughput, as trtexec: "
              "--warmUp ms untimed, then timed runs until both --duration s and --iterations runs are reached");
  cmd->add_option("--plan,--loadEngine", args->plan, "Plan file")->required();
  cmd->add_option("--warmUp,--warmup", args->warmup_ms, "Milliseconds of untimed runs first (0: none; at most 3600000)")
      ->type_name("MS")->capture_default_str()->check(number_at_least(0, true, false, "milliseconds", 3'600'000));
  cmd->add_option("--duration", args->duration_s, "Minimum seconds of timed runs (more than 0, at most 86400)")
      ->type_name("SECONDS")->capture_default_str()->check(number_at_least(0, false, false, "seconds", 86'400));
  cmd->add_option("--iterations", args->iterations, "Minimum number of timed runs (1 to 10000000)")
      ->type_name("N")->capture_default_str()->check(number_at_least(1, true, true, "iterations", 10'000'000));
  cmd->add_option("--threads", args->threads, "CPU threads (0: every core this process may use; at most 4096)")
      ->type_name("N")->check(thread_count());
  cmd->add_option("--loadInputs", args->load_inputs,
                  "Inputs from .npy files, NAME:FILE.npy comma-separated (others random, as trtexec)")
      ->delimiter(',');
  cmd->add_option("--json", args->json, "Write the statistics (and per-layer profile) as JSON; '-': stdout only");
  cmd->add_option("--exportTimes", args->export_times,
                  "Write every timed iteration as JSON, as trtexec (startMs, endMs, latencyMs, ...; '-': stdout)");
  cmd->add_option("--exportProfile", args->export_profile,
                  "Write the per-layer profile as JSON, as trtexec (name, timeMs, averageMs, percentage; '-': stdout)");
  cmd->add_flag("--dumpProfile", args->profile, "Print the mean time of each layer");
  cmd->add_flag("--overwrite", args->overwrite, "Replace the JSON files if they exist");
  cmd->add_flag("--useCudaGraph", args->cuda_graph,
                "Accepted for trtexec users: GPU plans always replay one CUDA graph");
  cmd->callback([args] {
    const std::vector<std::string> outputs = {args->json, args->export_times, args->export_profile};
    if (std::count(outputs.begin(), outputs.end(), "-") > 1)
      throw CLI::ValidationError("--json", "only one of --json, --exportTimes and --exportProfile may be '-' (stdout)");
    for (const std::string& path : outputs)
      if (!path.empty() && path != "-") check_writable(path, args->overwrite);
    const std::map<std::string, std::string> input_files = parse_load_inputs(args->load_inputs);
    // With JSON on stdout, the report goes to stderr so that stdout is the JSON alone.
    FILE* report = std::count(outputs.begin(), outputs.end(), "-") > 0 ? stderr : stdout;

    Engine engine = Engine::load(args->plan, RuntimeOptions{args->threads});
    for (const auto& [name, file] : input_files) {
      const bool known = std::any_of(engine.inputs().begin(), engine.inputs().end(),
                                     [&](const TensorInfo& t) { return t.name == name; });
      if (!known) {
        std::string names;
        for (const TensorInfo& t : engine.inputs()) names += cat(names.empty() ? "" : ", ", t.name);
        throw CLI::ValidationError("--loadInputs", cat("the plan has no input '", name, "' (its inputs: ", names, ")"));
      }
    }
    std::mt19937 rng(1234);
    std::uniform_real_distribution<float> uniform(0.f, 1.f);
    std::vector<Tensor> inputs, outputs_t;
    std::vector<const float*> in_ptrs;
    std::vector<float*> out_ptrs;
    for (const TensorInfo& t : engine.inputs()) {
      if (const auto it = input_files.find(t.name); it != input_files.end()) {
        inputs.push_back(read_npy(it->second));
        if (inputs.back().shape() != t.shape)
          throw Error(cat(it->second, ": shape ", shape_str(inputs.back().shape()), ", but input '", t.name, "' is ",
                          shape_str(t.shape)));
      } else {
        inputs.emplace_back(DType::f32, t.shape);
        for (float& x : inputs.back().span<float>()) x = uniform(rng);
      }
      in_ptrs.push_back(inputs.back().data<float>());
    }
    for (const TensorInfo& t : engine.outputs()) {
      outputs_t.emplace_back(DType::f32, t.shape);
      out_ptrs.push_back(outputs_t.back().data<float>());
    }

    using Clock = std::chrono::steady_clock;
    const auto ms_since = [](Clock::time_point t) {
      return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
    };
    int warmup_iterations = 0;
    const InterruptResponseScope interrupts(InterruptResponse::cancel);  // Ctrl-C stops within an iteration
    for (const auto warm_start = Clock::now(); ms_since(warm_start) < args->warmup_ms; ++warmup_iterations) {
      throw_if_cancelled();
      engine.infer(in_ptrs, out_ptrs);
    }
    std::vector<Iteration> runs;
    const auto start = Clock::now();
    while (static_cast<int>(runs.size()) < args->iterations || ms_since(start) < 1000 * args->duration_s) {
      throw_if_cancelled();
      Iteration it;
      it.start_ms = ms_since(start);
      engine.infer(in_ptrs, out_ptrs);
      it.end_ms = ms_since(start);
      it.has_device = engine.last_device_times(&it.device);
      runs.push_back(it);
    }
    const double wall_s = ms_since(start) / 1000;

    std::vector<double> latency, gpu_compute, h2d, d2h;
    for (const Iteration& it : runs) {
      latency.push_back(it.end_ms - it.start_ms);
      if (it.has_device) {
        gpu_compute.push_back(it.device.compute_ms);
        h2d.push_back(it.device.h2d_ms);
        d2h.push_back(it.device.d2h_ms);
      }
    }
    const LatencySummary s = summarize(latency);
    const int threads = threads_used(args->threads);
    const double throughput = runs.size() / wall_s;
    nlohmann::json stats = {{"plan", args->plan},
                            {"device", engine.plan().header.value("device", "")},
                            {"precision", engine.plan().header["build"].value("precision", "")},
                            {"threads", threads},
                            {"iterations", runs.size()},
                            {"min_iterations", args->iterations},
                            {"duration_s", args->duration_s},
                            {"walltime_s", wall_s},
                            {"warmup_ms", args->warmup_ms},
                            {"warmup_iterations", warmup_iterations},
                            {"throughput_ips", throughput}};
    stats.update(summary_json(s));
    std::fprintf(report,
                 "plan %s on %s, %d threads: %zu iterations in %.3f s (at least %d and %g s) after %g ms warm-up (%d "
                 "iterations)\n",
                 args->plan.c_str(), stats["device"].get<std::string>().c_str(), threads, runs.size(), wall_s,
                 args->iterations, args->duration_s, args->warmup_ms, warmup_iterations);
    std::fprintf(report,
                 "latency: min = %.3f ms, mean = %.3f ms, median = %.3f ms, p90 = %.3f ms, p95 = %.3f ms, "
                 "p99 = %.3f ms, max = %.3f ms\n",
                 s.min, s.mean, s.median, s.p90, s.p95, s.p99, s.max);
    std::fprintf(report, "latency: stdev = %.3f ms, coefficient of variation = %.1f%%\n", s.stdev, 100 * s.cv);
    std::fprintf(report, "throughput: %.2f inferences/s\n", throughput);
    if (s.cv > kHighVariation)
      log_warn(cat("perf: latency varies too much to be one number: coefficient of variation ",
                   std::lround(100 * s.cv), "% (min ", s.min, " ms, max ", s.max,
                   " ms); stop other work on this machine, or measure longer with --duration"));
    // As trtexec: the GPU's compute time apart from the host-to-device and device-to-host copies.
    const auto device_stats = [&](const char* name, const std::vector<double>& v) {
      const LatencySummary d = summarize(v);
      std::fprintf(report,
                   "%s: min = %.4f ms, mean = %.4f ms, median = %.4f ms, p90 = %.4f ms, p99 = %.4f ms, max = %.4f ms\n",
                   name, d.min, d.mean, d.median, d.p90, d.p99, d.max);
      return summary_json(d);
    };
    if (!gpu_compute.empty()) {
      stats["gpu_compute"] = device_stats("GPU compute time", gpu_compute);
      stats["h2d"] = device_stats("H2D latency", h2d);
      stats["d2h"] = device_stats("D2H latency", d2h);
    }
    if (args->profile || !args->json.empty() || !args->export_profile.empty()) {
      const auto& layers = engine.layers();
      std::vector<double> total(layers.size(), 0.0), one;
      const int profile_runs = std::max(5, std::min(static_cast<int>(runs.size()), 20));
      for (int r = 0; r < profile_runs; ++r) {
        throw_if_cancelled();
        engine.infer(in_ptrs, out_ptrs, &one);
        for (size_t i = 0; i < one.size() && i < total.size(); ++i) total[i] += one[i] / profile_runs;
      }
      const double sum = std::accumulate(total.begin(), total.end(), 0.0);
      // Each layer's work and its memory floor (inputs, weights and output read or written once, in the
      // plan's storage precision), to set its time against what the device can do.
      const ir::Graph& graph = engine.plan().graph;
      const std::string precision = stats["precision"].get<std::string>();
      const double element_bytes = precision == "fp32" ? 4 : precision == "int8" ? 1 : 2;
      std::map<std::string, const ir::Node*> by_name;
      for (const ir::Node& n : graph.nodes()) by_name[n.name] = &n;
      nlohmann::json profile = nlohmann::json::array();
      for (size_t i = 0; i < layers.size(); ++i) {
        double macs = 0, bytes = 0;
        if (const auto it = by_name.find(layers[i].node); it != by_name.end()) {
          const ir::Node& n = *it->second;
          macs = static_cast<double>(ir::node_macs(graph, n));
          for (ir::ValueId v : n.inputs)
            if (v != ir::kNoValue) bytes += element_bytes * static_cast<double>(shape_numel(graph.value(v).shape));
          for (ir::ValueId v : n.outputs)
            bytes += element_bytes * static_cast<double>(shape_numel(graph.value(v).shape));
        }
        profile.push_back({{"layer", layers[i].node}, {"op", layers[i].op}, {"kernel", layers[i].kernel},
                           {"mean_ms", total[i]}, {"percent", sum > 0 ? 100.0 * total[i] / sum : 0.0},
                           {"macs", macs}, {"bytes", bytes}});
      }
      stats["profile"] = profile;
      if (!args->export_profile.empty()) {
        // trtexec's --exportProfile layout (Profiler::exportJSONProfile): {"count": runs}, then one record per layer.
        nlohmann::json layers_json = nlohmann::json::array({{{"count", profile_runs}}});
        for (const auto& p : profile)
          layers_json.push_back({{"name", p["layer"]}, {"timeMs", p["mean_ms"].get<double>() * profile_runs},
                                 {"averageMs", p["mean_ms"]}, {"percentage", p["percent"]}, {"op", p["op"]},
                                 {"kernel", p["kernel"]}, {"macs", p["macs"]}, {"bytes", p["bytes"]}});
        write_json(args->export_profile, layers_json);
      }
      if (args->profile) {
        std::fprintf(report, "\nper-layer profile (mean of %d runs, synchronised per layer)\n%-48s %-22s %9s %6s\n",
                     profile_runs, "layer", "op", "ms", "%");
        for (const auto& p : profile)
          std::fprintf(report, "%-48s %-22s %9.3f %5.1f%%\n", p["layer"].get<std::string>().substr(0, 48).c_str(),
                       p["op"].get<std::string>().substr(0, 22).c_str(), p["mean_ms"].get<double>(),
                       p["percent"].get<double>());
        std::fprintf(report, "%-48s %-22s %9.3f\n", "total", "", sum);
      }
    }
    if (!args->export_times.empty()) {
      // trtexec's --exportTimes record (samples/common/sampleReporting.cpp, exportJSONTrace), one per timed iteration:
      // times in ms from the first one's start on the host clock; latency and end to end are the host's time around
      // one inference; on the CPU there are no copies and compute is the whole latency.
      nlohmann::json times = nlohmann::json::array();
      for (const Iteration& it : runs) {
        const double latency_ms = it.end_ms - it.start_ms;
        times.push_back({{"startMs", it.start_ms},
                         {"endMs", it.end_ms},
                         {"h2dMs", it.has_device ? it.device.h2d_ms : 0.0},
                         {"computeMs", it.has_device ? it.device.compute_ms : latency_ms},
                         {"d2hMs", it.has_device ? it.device.d2h_ms : 0.0},
                         {"latencyMs", latency_ms},
                         {"endToEndMs", latency_ms}});
      }
      write_json(args->export_times, times);
    }
    if (!args->json.empty()) write_json(args->json, stats);
  });
}

}  // namespace crowdrt::cli
