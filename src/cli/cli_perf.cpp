// crowdrt perf: latency statistics of a plan on random input, reported as trtexec does.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <map>
#include <memory>
#include <numeric>
#include <random>

#include <nlohmann/json.hpp>

#include "cli/cli_common.h"
#include "core/file.h"
#include "engine/runtime.h"
#include "ir/graph_stats.h"

namespace crowdrt::cli {
namespace {
double percentile(const std::vector<double>& sorted, double p) {
  const double rank = p / 100.0 * (sorted.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(rank)), hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
}
}  // namespace

void register_perf(CLI::App& app) {
  struct Args {
    std::string plan, json;
    int iterations = 50, warmup = 5, threads = 0;
    bool profile = false, overwrite = false, cuda_graph = true;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("perf", "Measure a plan's latency (min/mean/median/p90/p95/p99/max) and throughput");
  cmd->add_option("--plan,--loadEngine", args->plan, "Plan file")->required();
  cmd->add_option("--iterations", args->iterations, "Timed inferences")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--warmup,--warmUp", args->warmup, "Untimed inferences first")->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--threads", args->threads, "CPU threads (0: all cores)")->check(CLI::NonNegativeNumber);
  cmd->add_option("--json,--exportTimes", args->json, "Write the statistics (and per-layer profile) as JSON");
  cmd->add_flag("--dumpProfile", args->profile, "Print the mean time of each layer");
  cmd->add_flag("--overwrite", args->overwrite, "Replace the JSON file if it exists");
  cmd->add_flag("--useCudaGraph", args->cuda_graph, "Accepted for trtexec users: GPU plans always replay one CUDA graph");
  cmd->callback([args] {
    if (!args->json.empty()) check_writable(args->json, args->overwrite);
    Engine engine = Engine::load(args->plan, RuntimeOptions{args->threads});
    std::mt19937 rng(1234);
    std::uniform_real_distribution<float> uniform(0.f, 1.f);
    std::vector<Tensor> inputs, outputs;
    std::vector<const float*> in_ptrs;
    std::vector<float*> out_ptrs;
    for (const TensorInfo& t : engine.inputs()) {
      inputs.emplace_back(DType::f32, t.shape);
      for (float& x : inputs.back().span<float>()) x = uniform(rng);
      in_ptrs.push_back(inputs.back().data<float>());
    }
    for (const TensorInfo& t : engine.outputs()) {
      outputs.emplace_back(DType::f32, t.shape);
      out_ptrs.push_back(outputs.back().data<float>());
    }
    for (int i = 0; i < args->warmup; ++i) engine.infer(in_ptrs, out_ptrs);
    std::vector<double> ms, gpu_compute, h2d, d2h;
    ms.reserve(args->iterations);
    const auto wall_start = std::chrono::steady_clock::now();
    for (int i = 0; i < args->iterations; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      engine.infer(in_ptrs, out_ptrs);
      ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
      DeviceTimes times;
      if (engine.last_device_times(&times)) {
        gpu_compute.push_back(times.compute_ms);
        h2d.push_back(times.h2d_ms);
        d2h.push_back(times.d2h_ms);
      }
    }
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
    std::vector<double> sorted = ms;
    std::sort(sorted.begin(), sorted.end());
    const double mean = std::accumulate(ms.begin(), ms.end(), 0.0) / ms.size();
    nlohmann::json stats = {
        {"plan", args->plan}, {"device", engine.plan().header.value("device", "")},
        {"precision", engine.plan().header["build"].value("precision", "")}, {"threads", args->threads},
        {"iterations", args->iterations}, {"warmup", args->warmup}, {"min_ms", sorted.front()}, {"mean_ms", mean},
        {"median_ms", percentile(sorted, 50)}, {"p90_ms", percentile(sorted, 90)}, {"p95_ms", percentile(sorted, 95)},
        {"p99_ms", percentile(sorted, 99)}, {"max_ms", sorted.back()}, {"throughput_ips", args->iterations / wall}};
    std::printf("plan %s on %s, %d iterations after %d warm-up\n", args->plan.c_str(),
                stats["device"].get<std::string>().c_str(), args->iterations, args->warmup);
    std::printf("latency: min = %.3f ms, mean = %.3f ms, median = %.3f ms, p90 = %.3f ms, p95 = %.3f ms, "
                "p99 = %.3f ms, max = %.3f ms\n",
                sorted.front(), mean, percentile(sorted, 50), percentile(sorted, 90), percentile(sorted, 95),
                percentile(sorted, 99), sorted.back());
    std::printf("throughput: %.2f inferences/s\n", args->iterations / wall);
    // As trtexec: the GPU's compute time apart from the host-to-device and device-to-host copies.
    const auto device_stats = [&](const char* name, std::vector<double> v) {
      std::sort(v.begin(), v.end());
      const double m = std::accumulate(v.begin(), v.end(), 0.0) / v.size();
      std::printf("%s: min = %.4f ms, mean = %.4f ms, median = %.4f ms, p90 = %.4f ms, p99 = %.4f ms, max = %.4f ms\n",
                  name, v.front(), m, percentile(v, 50), percentile(v, 90), percentile(v, 99), v.back());
      return nlohmann::json{{"min_ms", v.front()}, {"mean_ms", m}, {"median_ms", percentile(v, 50)},
                            {"p90_ms", percentile(v, 90)}, {"p99_ms", percentile(v, 99)}, {"max_ms", v.back()}};
    };
    if (!gpu_compute.empty()) {
      stats["gpu_compute"] = device_stats("GPU compute time", gpu_compute);
      stats["h2d"] = device_stats("H2D latency", h2d);
      stats["d2h"] = device_stats("D2H latency", d2h);
    }
    if (args->profile || !args->json.empty()) {
      const auto& layers = engine.layers();
      std::vector<double> total(layers.size(), 0.0), one;
      const int runs = std::max(5, std::min(args->iterations, 20));
      for (int r = 0; r < runs; ++r) {
        engine.infer(in_ptrs, out_ptrs, &one);
        for (size_t i = 0; i < one.size() && i < total.size(); ++i) total[i] += one[i] / runs;
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
          for (ir::ValueId v : n.outputs) bytes += element_bytes * static_cast<double>(shape_numel(graph.value(v).shape));
        }
        profile.push_back({{"layer", layers[i].node}, {"op", layers[i].op}, {"kernel", layers[i].kernel},
                           {"mean_ms", total[i]}, {"percent", sum > 0 ? 100.0 * total[i] / sum : 0.0},
                           {"macs", macs}, {"bytes", bytes}});
      }
      stats["profile"] = profile;
      if (args->profile) {
        std::printf("\nper-layer profile (mean of %d runs, synchronised per layer)\n%-48s %-22s %9s %6s\n", runs,
                    "layer", "op", "ms", "%");
        for (const auto& p : profile)
          std::printf("%-48s %-22s %9.3f %5.1f%%\n", p["layer"].get<std::string>().substr(0, 48).c_str(),
                      p["op"].get<std::string>().substr(0, 22).c_str(), p["mean_ms"].get<double>(),
                      p["percent"].get<double>());
        std::printf("%-48s %-22s %9.3f\n", "total", "", sum);
      }
    }
    if (!args->json.empty()) {
      const std::string text = stats.dump(2) + "\n";
      write_file_atomic(args->json, std::span<const std::byte>(reinterpret_cast<const std::byte*>(text.data()), text.size()));
    }
  });
}

}  // namespace crowdrt::cli
