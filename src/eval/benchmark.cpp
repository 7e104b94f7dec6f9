#include "eval/benchmark.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "core/log.h"
#include "engine/runtime.h"
#include "eval/device_frames.h"

namespace crowdrt::eval {

std::vector<BenchRow> run_bench(const std::vector<SequenceSource>& sequences, const BenchOptions& options,
                                const std::function<Plan(const BenchModel&, Precision)>& build,
                                const std::function<void(const BenchRow&, const EvalReport&)>& on_row) {
  std::vector<BenchRow> rows;
  for (const BenchModel& model : options.models)
    for (Precision precision : options.precisions) {
      const auto start = std::chrono::steady_clock::now();
      Plan plan = build(model, precision);
      const double build_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (!options.plan_dir.empty())
        write_plan((std::filesystem::path(options.plan_dir) / cat(model.name, "_", precision_name(precision), ".plan"))
                       .string(),
                   plan);
      const std::string what = cat(model.name, " (", precision_name(precision), ")");
      const PrecisionMix mix = precision_mix(plan);
      const Plan lane_plan = plan;  // further GPU lanes load the plan again
      Engine engine(std::move(plan), RuntimeOptions{options.threads}, what);
      const bool device_frames = use_device_frames(engine, options.flow_device);
      const bool three_channels = engine.inputs()[0].shape.size() == 4 && engine.inputs()[0].shape[1] == 3;
      std::vector<vision::FlowPreset> flows = options.flows;
      if (three_channels) flows = {vision::FlowPreset::none};
      for (vision::FlowPreset flow : flows) {
        PipelineOptions p = options.pipeline;
        p.flow = flow;
        p.device_frames = device_frames;
        if (device_frames)
          p.more_engines = [&] {
            return std::make_unique<Engine>(Plan(lane_plan), RuntimeOptions{options.threads}, what);
          };
        log_info(cat("bench: ", model.name, " ", precision_name(precision), " flow ", vision::flow_preset_name(flow)));
        const EvalReport report = evaluate(engine, sequences, p);
        BenchRow row;
        row.model = model.name;
        row.precision = precision_name(precision);
        row.flow = vision::flow_preset_name(flow);
        row.frames = static_cast<int64_t>(report.frames.size());
        const CountErrors e = report.errors();
        row.mae = e.mae;
        row.rmse = e.rmse;
        const Summary inference = report.stage(Stage::inference);
        row.inference_mean_ms = inference.mean;
        row.inference_median_ms = inference.median;
        row.end_to_end_fps = report.end_to_end_fps();
        row.build_seconds = build_seconds;
        row.layers = mix.layers;
        row.layers_at_precision = mix.at(precision);
        row.precision_mix = mix.text();
        for (const BenchRow& r : rows)
          if (r.model == row.model && r.flow == row.flow && r.precision == "fp32") {
            row.has_fp32 = true;
            row.delta_mae = row.mae - r.mae;
            row.delta_rmse = row.rmse - r.rmse;
          }
        rows.push_back(row);
        if (on_row) on_row(row, report);
      }
    }
  return rows;
}

std::string bench_markdown(const std::vector<BenchRow>& rows) {
  std::string out =
      "| model | precision | layers by precision | flow | frames | MAE | RMSE | ΔMAE vs fp32 | ΔRMSE vs fp32 | "
      "inference ms "
      "(mean / median) | end-to-end FPS |\n|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|\n";
  char line[512];
  for (const BenchRow& r : rows) {
    char dm[32] = "–", dr[32] = "–";
    if (r.has_fp32 && r.precision != "fp32") {
      // Below the printed resolution a change shows as 0.000, not as a signed zero.
      const auto signed_change = [](char* text, size_t n, double d) {
        if (std::abs(d) < 5e-4) std::snprintf(text, n, "0.000");
        else std::snprintf(text, n, "%+.3f", d);
      };
      signed_change(dm, sizeof(dm), r.delta_mae);
      signed_change(dr, sizeof(dr), r.delta_rmse);
    }
    std::snprintf(line, sizeof(line), "| %s | %s | %s | %s | %lld | %.3f | %.3f | %s | %s | %.1f / %.1f | %.2f |\n",
                  r.model.c_str(), r.precision.c_str(), r.precision_mix.c_str(), r.flow.c_str(),
                  static_cast<long long>(r.frames), r.mae, r.rmse, dm, dr, r.inference_mean_ms, r.inference_median_ms,
                  r.end_to_end_fps);
    out += line;
  }
  return out;
}

nlohmann::json bench_json(const std::vector<BenchRow>& rows) {
  nlohmann::json j = nlohmann::json::array();
  for (const BenchRow& r : rows) {
    nlohmann::json row = {{"model", r.model}, {"precision", r.precision}, {"flow", r.flow}, {"frames", r.frames},
                          {"mae", r.mae}, {"rmse", r.rmse}, {"inference_mean_ms", r.inference_mean_ms},
                          {"inference_median_ms", r.inference_median_ms}, {"end_to_end_fps", r.end_to_end_fps},
                          {"build_seconds", r.build_seconds}, {"layers", r.layers},
                          {"layers_at_precision", r.layers_at_precision}, {"precision_mix", r.precision_mix}};
    if (r.has_fp32) {
      row["delta_mae_vs_fp32"] = r.delta_mae;
      row["delta_rmse_vs_fp32"] = r.delta_rmse;
    }
    j.push_back(row);
  }
  return j;
}

}  // namespace crowdrt::eval
