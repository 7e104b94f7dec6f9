// crowdrt::Builder (public) over the engine module's build_plan.
#include "api/internal.h"

#include <filesystem>

#include "core/file.h"

namespace crowdrt::v0 {
namespace {

// The options the engine's builder takes today. Calibration options that it cannot honour yet are refused,
// so that a caller never gets an uncalibrated plan while believing it calibrated.
internal::PlanBuildOptions plan_options(const BuildOptions& options) {
  internal::PlanBuildOptions out;
  out.device = options.device;
  out.precision = precision_from_name(options.precision);
  if (options.threads < 0) throw Error(cat("BuildOptions::threads is ", options.threads, "; use 0 for all cores"));
  out.threads = options.threads;
  out.timing_cache = options.timing_cache;
  for (const auto& [name, dims] : options.input_shapes) {
    for (std::int64_t d : dims)
      if (d <= 0) throw Error(cat("BuildOptions::input_shapes['", name, "'] is ", dims_str(dims), "; sizes must be positive"));
    out.input_shapes[name] = ::crowdrt::Shape(dims.begin(), dims.end());
  }
  std::string unsupported;
  const auto refuse = [&](bool set, const char* field) {
    if (set) unsupported += cat(unsupported.empty() ? "" : ", ", field);
  };
  const BuildOptions defaults;
  refuse(options.calibrator != defaults.calibrator, "calibrator");
  refuse(!options.calib_dir.empty(), "calib_dir");
  refuse(!options.calib_data.empty(), "calib_data");
  refuse(options.calib_flow != defaults.calib_flow, "calib_flow");
  refuse(options.calib_max != defaults.calib_max, "calib_max");
  refuse(!options.calib_cache.empty(), "calib_cache");
  refuse(!options.keep_fp32.empty(), "keep_fp32");
  refuse(options.count_budget != defaults.count_budget, "count_budget");
  refuse(!options.sensitivity_report.empty(), "sensitivity_report");
  refuse(!options.save_qdq.empty(), "save_qdq");
  if (!unsupported.empty())
    throw Error(cat("BuildOptions: ", unsupported, " cannot be honoured by this build of crowdrt ", CROWDRT_VERSION,
                    " (INT8 calibration and mixed precision are not in its builder yet); leave them unset"));
  return out;
}

BuildSummary summarise(const internal::Plan& plan) {
  BuildSummary s;
  s.layers = static_cast<int>(plan.header["layers"].size());
  s.precision = plan.header["build"]["precision"].get<std::string>();
  s.device = plan.header["backend"].get<std::string>();
  s.macs = plan.header["macs"].get<double>();
  s.arena_bytes = plan.header["arena_bytes"].get<std::int64_t>();
  return s;
}

void check_writable(const std::string& path, bool overwrite) {
  std::error_code ec;
  if (path.empty()) throw Error("Builder::build: the plan path is empty");
  if (std::filesystem::is_directory(path, ec)) throw Error(cat(path, ": is a folder; give the plan a file path"));
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
  const internal::Plan plan = build_plan(onnx_path, options);
  write_plan(plan_path, plan);
  BuildSummary s = summarise(plan);
  s.plan_path = plan_path;
  return s;
}

Engine Builder::build_engine(const std::string& onnx_path, const EngineOptions& engine_options) const {
  const internal::PlanBuildOptions options = plan_options(options_);
  internal::check_flow_preset(engine_options.flow);
  internal::Plan plan = build_plan(onnx_path, options);
  Engine engine;
  engine.impl_ = std::make_unique<Engine::Impl>(
      internal::RuntimeEngine(std::move(plan), internal::RuntimeOptions{engine_options.threads}, onnx_path),
      engine_options);
  return engine;
}

}  // namespace crowdrt::v0
