// `crowdrt bench`: the seed's empty "Benchmark results" table, filled: models x precisions x flow presets, each
// evaluated on the same sequences (MAE, RMSE, inference latency, end-to-end FPS, change against fp32).
#pragma once
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "engine/plan.h"
#include "eval/evaluation.h"

namespace crowdrt::eval {

struct BenchModel {
  std::string name;
  std::string onnx;
};

struct BenchOptions {
  std::vector<BenchModel> models;
  std::vector<Precision> precisions;
  std::vector<vision::FlowPreset> flows;
  PipelineOptions pipeline;  // its flow is replaced by each of `flows`
  int threads = 0;           // engine threads
  std::string plan_dir;      // where plans are written (<model>_<precision>.plan); empty: not written
  std::string flow_device;   // cpu, cuda, or "" for the plan's device (eval::use_device_frames)
};

struct BenchRow {
  std::string model, precision, flow;
  int64_t frames = 0;
  double mae = 0, rmse = 0, delta_mae = 0, delta_rmse = 0;  // deltas against the fp32 row of the same model and flow
  bool has_fp32 = false;
  double inference_mean_ms = 0, inference_median_ms = 0, end_to_end_fps = 0, build_seconds = 0;
  int layers = 0, layers_at_precision = 0;  // layers, and those running in the requested precision
  std::string precision_mix;                // PrecisionMix::text(): "44 int8, 16 bf16, 12 fp32"
};

// Builds each (model, precision) once with `build` (the caller's: it knows calibration), then evaluates it for
// each flow preset. `on_row` (optional) sees each row as soon as it is measured.
std::vector<BenchRow> run_bench(const std::vector<SequenceSource>& sequences, const BenchOptions& options,
                                const std::function<Plan(const BenchModel&, Precision)>& build,
                                const std::function<void(const BenchRow&, const EvalReport&)>& on_row = {});

std::string bench_markdown(const std::vector<BenchRow>& rows);
nlohmann::json bench_json(const std::vector<BenchRow>& rows);

}  // namespace crowdrt::eval
