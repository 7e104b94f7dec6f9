// crowdrt build: ONNX → plan (trtexec spellings accepted: --saveEngine, --fp16, --int8, --verbose).
#include <chrono>
#include <memory>

#include "cli/cli_common.h"
#include "core/log.h"
#include "engine/builder.h"

namespace crowdrt::cli {

void register_build(CLI::App& app) {
  struct Args {
    std::string onnx, output, precision = "fp32", device = "cpu", timing_cache;
    int threads = 0;
    bool verbose = false, overwrite = false, fp16 = false, int8 = false;
    std::vector<std::string> input_shapes;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("build", "Build a plan (engine) from an ONNX model");
  cmd->add_option("--onnx,onnx", args->onnx, "ONNX model to build from")->required();
  cmd->add_option("-o,--output,--saveEngine", args->output, "Plan file to write (default: the model path with .plan)");
  cmd->add_option("--precision", args->precision, "Lowest precision layers may run in: fp32, fp16, bf16, int8")
      ->capture_default_str();
  cmd->add_flag("--fp16", args->fp16, "Same as --precision fp16");
  cmd->add_flag("--int8", args->int8, "Same as --precision int8");
  cmd->add_option("--device", args->device, "Backend: cpu (oneDNN), cuda (NVIDIA GPU, where built) or ref (reference loops)")
      ->capture_default_str();
  cmd->add_option("--timing-cache,--timingCacheFile", args->timing_cache,
                  "GPU: file of timed convolution tactics, read and updated, so rebuilds skip the timing");
  cmd->add_option("--threads", args->threads, "CPU threads used to time and check the build (0: all cores)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--input-shape", args->input_shapes, "Fix an input's shape: NAME:1x5x608x608 (repeatable)");
  cmd->add_flag("--overwrite", args->overwrite, "Replace the output file if it exists");
  cmd->add_flag("-v,--verbose", args->verbose, "Print each layer's kernel, precision and layout");
  cmd->callback([args] {
    if (args->verbose) set_log_level(LogLevel::verbose);
    BuildOptions options;
    options.device = args->device;
    options.precision = precision_from_name(args->int8 ? "int8" : args->fp16 ? "fp16" : args->precision);
    options.threads = args->threads;
    options.timing_cache = args->timing_cache;
    for (const std::string& s : args->input_shapes) options.input_shapes.insert(parse_input_shape(s));
    std::string output = args->output;
    if (output.empty()) {
      const size_t dot = args->onnx.rfind('.');
      output = (dot == std::string::npos || args->onnx.find('/', dot) != std::string::npos ? args->onnx
                                                                                             : args->onnx.substr(0, dot)) +
               ".plan";
    }
    check_writable(output, args->overwrite);
    const auto start = std::chrono::steady_clock::now();
    const Plan plan = build_plan(args->onnx, options);
    write_plan(output, plan);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("built %s: %zu layers, %s, device %s, %.2f GMACs, %.1f MB activations, %.1f s\n", output.c_str(),
                plan.header["layers"].size(), plan.header["build"]["precision"].get<std::string>().c_str(),
                plan.header["device"].get<std::string>().c_str(), plan.header["macs"].get<double>() / 1e9,
                plan.header["arena_bytes"].get<double>() / 1e6, seconds);
  });
}

}  // namespace crowdrt::cli
