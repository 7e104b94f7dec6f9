// crowdrt build: ONNX → plan (trtexec spellings accepted: --saveEngine, --fp16, --bf16, --int8, --calib,
// --verbose). int8 calibration frames come from src/data (the engine reads no images).
#include <chrono>
#include <memory>

#include "cli/cli_common.h"
#include "core/atomic_file.h"
#include "core/cancel.h"
#include "core/log.h"
#if CROWDRT_WITH_FRAMES
#include "eval/calibration_input.h"
#endif
#include "engine/builder.h"

namespace crowdrt::cli {

void register_build(CLI::App& app) {
  struct Args {
    std::string onnx, output, precision = "fp32", device = "cpu", timing_cache;
    int threads = 0;
    bool verbose = false, overwrite = false, fp16 = false, bf16 = false, int8 = false;
    std::vector<std::string> input_shapes, keep_fp32;
    BuildOptions build;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("build", "Build a plan (engine) from an ONNX model");
  cmd->add_option("--onnx,onnx", args->onnx, "ONNX model to build from")->required();
  cmd->add_option("-o,--output,--saveEngine", args->output, "Plan file to write (default: the model path with .plan)");
  cmd->add_option("--precision", args->precision, "Lowest precision layers may run in: fp32, fp16, bf16, int8")
      ->capture_default_str()
      ->check(one_of({"fp32", "fp16", "bf16", "int8"}));
  cmd->add_flag("--fp16", args->fp16, "Same as --precision fp16");
  cmd->add_flag("--bf16", args->bf16, "Same as --precision bf16");
  cmd->add_flag("--int8", args->int8, "Same as --precision int8");
  cmd->add_option("--device", args->device,
                  "Backend: cpu (oneDNN), cuda (NVIDIA GPU, where built) or ref (reference loops)")
      ->capture_default_str()
      ->check(device_name());
  cmd->add_option("--timing-cache,--timingCacheFile", args->timing_cache,
                  "GPU: file of timed convolution tactics, read and updated, so rebuilds skip the timing");
  BuildOptions& b = args->build;
  cmd->add_option("--calibrator", b.calibrator, "int8 calibration method: entropy (TensorRT's EntropyCalibration2; "
                                                "outputs of a bounded Clip such as ReLU6 keep their observed range), "
                                                "minmax, percentile (99.99%)")
      ->check(one_of({"entropy", "minmax", "percentile"}))
      ->capture_default_str();
  cmd->add_option("--calib-dir", b.calib_dir, "Calibration folder as the seed makes it (imgs/, imgs_flows/)");
  cmd->add_option("--calib-data", b.calib_data,
                  "Or a VisDrone root to calibrate on (trainlist.txt sequences if present)");
  cmd->add_option("--flow", b.calib_flow, "DIS preset for --calib-data: ultrafast, fast, medium")
      ->check(one_of({"ultrafast", "fast", "medium"}))
      ->capture_default_str();
  cmd->add_option("--calib-recipe", b.calib_recipe,
                  "int8 with --calib-data: where the flow is computed: network (at the network's input size, as "
                  "inference computes it; the default, measured closer to fp32) or seed (at the source resolution, "
                  "then the stack resized with the vectors unscaled, as the seed's prepare_calibration_data.py). A "
                  "--calib-dir folder holds the flow its maker computed (calib-data --calib-recipe)")
      ->check(one_of({"seed", "network"}))
      ->capture_default_str();
  cmd->add_option("--calib-max", b.calib_max, "At most N calibration frames (0: all)")
      ->check(at_least(0))
      ->capture_default_str();
  cmd->add_option("--calib-cache,--calib", b.calib_cache,
                  "TensorRT-format calibration cache: read if it exists, else written after calibrating "
                  "(default <model>_calib.bin)");
  cmd->add_flag("--recalibrate", b.recalibrate,
                "Calibrate on --calib-dir / --calib-data even if the calibration cache exists, and replace the cache");
  cmd->add_option("--calib-cache-version", b.calib_cache_version, "TensorRT version written in the cache header")
      ->capture_default_str();
  cmd->add_option("--keep-fp32", args->keep_fp32, "Layers (node names, comma-separated) kept out of reduced precision")
      ->delimiter(',');
  cmd->add_option("--count-budget", b.count_budget,
                  "Keep the most count-sensitive int8 layers fp32 until the count error on the calibration frames "
                  "(mean |count - fp32 count| / mean fp32 count) is at most X, e.g. 0.01")
      ->check(at_least(0));
  cmd->add_option("--sensitivity", b.sensitivity_report, "Write each layer's int8 count sensitivity (JSON)");
  cmd->add_option("--save-qdq", b.save_qdq, "Write the model with QuantizeLinear/DequantizeLinear at the calibrated "
                                            "scales (TensorRT explicit quantisation)");
  cmd->add_option("--threads", args->threads,
                  "CPU threads used to time and check the build (0: all cores; at most 4096)")
      ->check(thread_count());
  cmd->add_option(
         "--input-shape", args->input_shapes,
         "Fix an input's shape: NAME:1x5x608x608 (repeatable); a first dimension B > 1 (input:4x5x608x608 "
         "on a batch-1 ONNX) builds a batch-B plan, which crowdrt serve fills with requests (dynamic batching)")
      ->check(CLI::Validator(
          [](std::string& value) -> std::string {
            try {
              parse_input_shape(value);
            } catch (const CLI::ValidationError& e) {
              return std::string(e.what()).substr(std::string("--input-shape: ").size());
            }
            return "";
          },
          ""));
  cmd->add_flag("!--no-tactic-timing", b.time_tactics,
                "Do not time kernels: every layer runs the lowest permitted precision that has a kernel "
                "(reproducible builds)");
  cmd->add_flag("--overwrite", args->overwrite, "Replace the output file if it exists");
  cmd->add_flag("-v,--verbose", args->verbose, "Print each layer's kernel, precision and layout");
  cmd->callback([args] {
    if (args->verbose) set_log_level(LogLevel::verbose);
    BuildOptions options = args->build;
    options.overwrite = args->overwrite;
    options.keep_fp32 = args->keep_fp32;
    options.device = args->device;
    options.precision =
        precision_from_name(args->int8 ? "int8" : args->bf16 ? "bf16" : args->fp16 ? "fp16" : args->precision);
    options.threads = args->threads;
    options.timing_cache = args->timing_cache;
    for (const std::string& s : args->input_shapes) options.input_shapes.insert(parse_input_shape(s));
    std::string output = args->output;
    if (output.empty()) {
      const size_t dot = args->onnx.rfind('.');
      output =
          (dot == std::string::npos || args->onnx.find('/', dot) != std::string::npos ? args->onnx
                                                                                      : args->onnx.substr(0, dot)) +
          ".plan";
    }
    check_writable(output, args->overwrite);
    // Ctrl-C stops the build within a second; the plan, calibration cache, --sensitivity and --save-qdq files get
    // their names only when all of them are complete.
    const InterruptResponseScope interrupts(InterruptResponse::cancel);
    OutputBatch outputs;
    const auto start = std::chrono::steady_clock::now();
    for (const std::string& path : {options.sensitivity_report, options.save_qdq})
      if (!path.empty()) check_writable(path, args->overwrite);
    // Calibration frames are read with src/data (OpenCV); an engine-only build calibrates from a cache only.
    CalibrationInputFactory frames;
#if CROWDRT_WITH_FRAMES
    frames = eval::calibration_input();
#endif
    const Plan plan = build_plan(args->onnx, options, frames);
    write_plan(output, plan);
    outputs.commit();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const PrecisionMix mix = precision_mix(plan);
    std::printf("built %s: %d layers, %s: %s; device %s, %.2f GMACs, %.1f MB activations, %.1f s\n", output.c_str(),
                mix.layers, plan.header["build"]["precision"].get<std::string>().c_str(), mix.text().c_str(),
                plan.header["device"].get<std::string>().c_str(), plan.header["macs"].get<double>() / 1e9,
                plan.header["arena_bytes"].get<double>() / 1e6, seconds);
    if (plan.header.contains("calibration") && plan.header["calibration"].contains("frames_not_used"))
      std::printf("int8 ranges read from the calibration cache %s; %s was not used (--recalibrate calibrates on it and "
                  "replaces the cache)\n",
                  plan.header["calibration"].value("cache", "?").c_str(),
                  plan.header["calibration"]["frames_not_used"].get<std::string>().c_str());
  });
}

}  // namespace crowdrt::cli
