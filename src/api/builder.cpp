// crowdrt::Builder (public) over the engine module's build_plan.
#include "api/internal.h"

#include <filesystem>

#include "core/atomic_file.h"
#include "core/cancel.h"
#include "core/file.h"

namespace crowdrt::v0 {
namespace {

// The public options as the engine's builder takes them (int8 calibration included).
internal::PlanBuildOptions plan_options(const BuildOptions& options) {
  internal::PlanBuildOptions out;
  out.device = options.device;
  out.precision = precision_from_name(options.precision);
  check_thread_count(options.threads, "BuildOptions::threads");
  out.threads = options.threads;
  out.timing_cache = options.timing_cache;
  for (const auto& [name, dims] : options.input_shapes) {
    for (std::int64_t d : dims)
      if (d <= 0)
        throw Error(cat("BuildOptions::input_shapes['", name, "'] is ", dims_str(dims), "; sizes must be positive"));
    out.input_shapes[name] = ::crowdrt::Shape(dims.begin(), dims.end());
  }
  out.calibrator = options.calibrator;
  out.calib_dir = options.calib_dir;
  out.calib_data = options.calib_data;
  out.calib_flow = options.calib_flow;
  out.calib_recipe = options.calib_recipe;
  out.recalibrate = options.recalibrate;
  if (options.calib_max < 0)
    throw Error(cat("BuildOptions::calib_max is ", options.calib_max, "; use 0 for all frames"));
  out.calib_max = options.calib_max;
  out.calib_cache = options.calib_cache;
  out.keep_fp32 = options.keep_fp32;
  if (options.count_budget < 0)
    throw Error(
        cat("BuildOptions::count_budget is ", options.count_budget, "; use 0 for none or a fraction like 0.01"));
  out.count_budget = options.count_budget;
  out.sensitivity_report = options.sensitivity_report;
  out.save_qdq = options.save_qdq;
  return out;
}

BuildSummary summarise(const internal::Plan& plan) {
  BuildSummary s;
  const internal::PrecisionMix mix = internal::precision_mix(plan);
  s.layers = mix.layers;
  s.precision = plan.header["build"]["precision"].get<std::string>();
  s.precision_mix = mix.text();
  s.device = plan.header["backend"].get<std::string>();
  s.macs = plan.header["macs"].get<double>();
  s.arena_bytes = plan.header["arena_bytes"].get<std::int64_t>();
  return s;
}

void check_writable(const std::string& path, bool overwrite) {
  std::error_code ec;
  if (path.empty()) throw Error("Builder::build: the plan path is empty");
  if (std::filesystem::is_directory(path, ec)) throw Error(cat(path, ": is a folder; give the plan a file path"));
  check_output_path(path);  // a device, FIFO or socket: refused whatever overwrite says
  if (!overwrite && file_exists(path))
    throw Error(cat(path, ": already exists; pass overwrite = true to replace it, or choose another path"));
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty() && !std::filesystem::is_directory(parent, ec))
    throw Error(cat(path, ": folder ", parent.string(), " does not exist"));
}

}  // namespace

Builder::Builder(const BuildOptions& options) : options_(options) {}

BuildSummary Builder::build(const std::string& onnx_path, const std::string& plan_path, bool overwrite) const {
  const internal::PlanBuildOptions options = plan_options(options_);
  check_writable(plan_path, overwrite);
  for (const std::string& path : {options.sensitivity_report, options.save_qdq})
    if (!path.empty()) check_writable(path, overwrite);
  internal::PlanBuildOptions with_overwrite = options;
  with_overwrite.overwrite = overwrite;
  const CancelScope cancel(options_.should_stop);
  OutputBatch outputs;  // the plan and whatever the build writes beside it appear together, or not at all
  const internal::Plan plan = build_plan(onnx_path, with_overwrite, internal::calibration_frames());
  write_plan(plan_path, plan);
  outputs.commit();
  BuildSummary s = summarise(plan);
  s.plan_path = plan_path;
  return s;
}

Engine Builder::build_engine(const std::string& onnx_path, const EngineOptions& engine_options) const {
  const internal::PlanBuildOptions options = plan_options(options_);
  internal::check_engine_options(engine_options);
  const CancelScope cancel(options_.should_stop);
  OutputBatch outputs;  // a calibration cache, sensitivity report or Q/DQ model
  internal::Plan plan = build_plan(onnx_path, options, internal::calibration_frames());
  Engine engine;
  engine.impl_ = std::make_unique<Engine::Impl>(
      internal::RuntimeEngine(std::move(plan), internal::RuntimeOptions{engine_options.threads}, onnx_path),
      engine_options);
  outputs.commit();
  return engine;
}

}  // namespace crowdrt::v0
