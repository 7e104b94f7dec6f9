// crowdrt bench: models x precisions x flow presets on one dataset, as the Markdown table the seed left empty
// (MAE, RMSE, inference latency, end-to-end FPS, change against fp32) and as JSON.
#include <filesystem>
#include <memory>
#include <sstream>

#include "checkpoint/checkpoint.h"
#include "cli/cli_common.h"
#include "cli/cli_evaluation.h"
#include "core/atomic_file.h"
#include "core/cancel.h"
#include "core/log.h"
#include "eval/calibration_input.h"
#include "engine/builder.h"
#include "eval/benchmark.h"
#include "models/detect_model.h"
#include "models/smp_model.h"
#include "onnx/export.h"
#include "vision/frame.h"

namespace crowdrt::cli {

std::string onnx_for_model(const std::string& model, cv::Size size, const std::string& out_dir, bool overwrite) {
  namespace fs = std::filesystem;
  const std::string ext = fs::path(model).extension().string();
  if (ext == ".onnx") return model;
  if (ext != ".pth" && ext != ".pt" && ext != ".safetensors")
    throw Error(cat(model, ": give an ONNX model (.onnx) or an smp checkpoint (.pth, .pt, .safetensors)"));
  const checkpoint::StateDict weights = checkpoint::read_checkpoint(model);
  models::ModelSpec spec;
  spec.height = size.height;
  spec.width = size.width;
  check_network_size(size.width, size.height, "--size");
  const auto arch = models::detect_arch(weights);
  const auto encoder = models::detect_encoder(weights);
  if (!arch || !encoder)
    throw Error(cat(model, ": not an smp Unet / UnetPlusPlus state_dict that crowdrt can recognise; export it with "
                           "`crowdrt export` (which takes --arch / --encoder) and pass the .onnx"));
  spec.arch = *arch;
  spec.encoder = *encoder;
  const auto channels = models::detect_in_channels(weights, spec.encoder);
  if (!channels)
    throw Error(cat(model, ": the first convolution's weight is missing; export it with `crowdrt export`"));
  spec.in_channels = *channels;
  const std::string out = (fs::path(out_dir) / (fs::path(model).stem().string() + ".onnx")).string();
  check_writable(out, overwrite);
  onnx_export::write_onnx(models::build_smp_model(spec, weights), out, onnx_export::ExportOptions{});
  log_info(cat("exported ", model, " to ", out, " (", models::arch_name(spec.arch), " ", spec.encoder, ", ",
               spec.in_channels, " channels, ", size_words(size.width, size.height), ")"));
  return out;
}

void add_calibration_options(CLI::App* cmd, CalibrationArgs& a) {
  cmd->add_option("--calib-data", a.data, "int8: a VisDrone-CC root to calibrate on (not the one evaluated)");
  cmd->add_option("--calib-dir", a.dir, "int8: or a calibration folder as the seed makes it (imgs/, imgs_flows/)");
  cmd->add_option("--calib-max", a.max, "int8: at most N calibration frames (0: all)")
      ->capture_default_str()
      ->check(at_least(0));
  cmd->add_option("--calibrator", a.calibrator, "int8: entropy, minmax or percentile")
      ->capture_default_str()
      ->check(one_of({"entropy", "minmax", "percentile"}));
  cmd->add_option("--calib-recipe", a.recipe,
                  "int8 with --calib-data: where the flow is computed: network (at the network's input size, as "
                  "inference computes it) or seed (at the source resolution, then the stack resized with the vectors "
                  "unscaled, as the seed's prepare_calibration_data.py)")
      ->check(one_of({"seed", "network"}))
      ->capture_default_str();
  cmd->add_option("--count-budget", a.count_budget,
                  "int8: keep the most count-sensitive layers fp32 until the count error on the calibration frames "
                  "is within this fraction (0: none)")
      ->check(at_least(0));
}

Plan build_bench_plan(const std::string& onnx, Precision precision, int threads, const std::string& device,
                      const CalibrationArgs& calibration) {
  BuildOptions options;
  options.device = device;
  options.precision = precision;
  options.threads = threads;
  if (precision == Precision::int8) {
    if (calibration.data.empty() && calibration.dir.empty())
      throw Error("int8 needs calibration frames: pass --calib-data ROOT (a VisDrone-CC root other than the one "
                  "evaluated) or --calib-dir DIR");
    options.calib_data = calibration.data;
    options.calib_dir = calibration.dir;
    options.calib_max = calibration.max;
    options.calib_recipe = calibration.recipe;
    options.calibrator = calibration.calibrator;
    options.calib_cache = calibration.cache;
    options.count_budget = calibration.count_budget;
  }
  return build_plan(onnx, options, eval::calibration_input());
}

std::string calibration_cache_for(const std::string& out_dir, const std::string& model, bool overwrite) {
  namespace fs = std::filesystem;
  // A cache is read instead of calibrating when it exists (as TensorRT does); --overwrite replaces the one an
  // earlier run left here, so that new calibration frames are used.
  const std::string cache = (fs::path(out_dir) / (model + "_calib.bin")).string();
  if (overwrite && fs::exists(cache)) fs::remove(cache);
  return cache;
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

void register_bench(CLI::App& app) {
  struct Args {
    std::vector<std::string> models;
    std::string data, split, precisions = "fp32,bf16,int8", flows = "ultrafast,fast,medium", out = "out/bench",
                      size = "608x608", device = "cpu";
    PipelineArgs pipeline;
    CalibrationArgs calibration;
    bool overwrite = false;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand(
      "bench", "Build and evaluate models x precisions x flow presets; write the benchmark table (Markdown, JSON)");
  cmd->add_option("--model", a->models, "An ONNX model or smp checkpoint (.pth / .safetensors); repeatable")
      ->required();
  cmd->add_option("--data", a->data, "Dataset root (sequences/, annotations/)")->required();
  cmd->add_option("--split,--dataset", a->split,
                  "val, all, train, test, or a file of sequence names (default: val where there are more than 66 "
                  "sequences, else test where testlist.txt exists, else all)")
      ->check(split_name());
  cmd->add_option("--precisions", a->precisions, "Comma-separated: fp32, fp16, bf16, int8")
      ->capture_default_str()
      ->check(list_of({"fp32", "fp16", "bf16", "int8"}));
  cmd->add_option("--flows", a->flows, "Comma-separated DIS presets: ultrafast, fast, medium")
      ->capture_default_str()
      ->check(list_of({"ultrafast", "fast", "medium"}));
  cmd->add_option("--size", a->size, "Network input WIDTHxHEIGHT for checkpoints (ONNX models keep their own)")
      ->capture_default_str()
      ->check(width_by_height());
  cmd->add_option("--out", a->out, "Folder for bench.md, bench.json, the plans and exported models")
      ->capture_default_str();
  cmd->add_option("--device", a->device, "Backend the plans are built for: cpu, cuda (where built with CUDA), ref")
      ->capture_default_str()
      ->check(device_name());
  add_pipeline_options(cmd, a->pipeline);
  add_calibration_options(cmd, a->calibration);
  cmd->add_flag("--overwrite", a->overwrite, "Replace files of an earlier bench in --out (a calibration cache too)");
  cmd->callback([a] {
    namespace fs = std::filesystem;
    // Ctrl-C stops within a frame or layer. The exported models and plans are read back as the bench goes, so
    // each file gets its name when complete; a bench that fails removes the files it created.
    const InterruptResponseScope interrupts(InterruptResponse::cancel);
    OutputBatch files(OutputBatch::Rename::at_once);
    create_output_folders(a->out);
    const std::string md = (fs::path(a->out) / "bench.md").string(), json = (fs::path(a->out) / "bench.json").string();
    check_writable(md, a->overwrite);
    check_writable(json, a->overwrite);
    eval::BenchOptions options;
    options.pipeline = pipeline_options(a->pipeline);
    options.threads = a->pipeline.threads;
    options.flow_device = a->pipeline.flow_device;
    for (const std::string& p : split_list(a->precisions)) options.precisions.push_back(precision_from_name(p));
    for (const std::string& f : split_list(a->flows)) options.flows.push_back(vision::parse_flow_preset(f));
    if (options.precisions.empty() || options.flows.empty())
      throw CLI::ValidationError("--precisions/--flows", "give at least one of each");
    const auto sequences = dataset_sequences(a->data, a->split);
    const cv::Size size = vision::parse_frame_size(a->size, "--size");
    for (const std::string& m : a->models)
      options.models.push_back({fs::path(m).stem().string(), onnx_for_model(m, size, a->out, a->overwrite)});
    options.plan_dir = a->out;
    for (const auto& m : options.models)
      for (Precision p : options.precisions)
        check_writable((fs::path(a->out) / cat(m.name, "_", precision_name(p), ".plan")).string(), a->overwrite);
    const auto rows = eval::run_bench(sequences, options, [&](const eval::BenchModel& m, Precision p) {
      CalibrationArgs calibration = a->calibration;
      if (p == Precision::int8) calibration.cache = calibration_cache_for(a->out, m.name, a->overwrite);
      return build_bench_plan(m.onnx, p, a->pipeline.threads, a->device, calibration);
    });
    const std::string table = eval::bench_markdown(rows);
    const nlohmann::json j = {{"data", a->data},
                              {"split", a->split},
                              {"pipeline", a->pipeline.serial ? "serial" : "pipelined"},
                              {"rows", eval::bench_json(rows)}};
    write_text_file(md, table);
    write_text_file(json, j.dump(1) + "\n");
    files.commit();
    std::printf("%s\nwrote %s and %s\n", table.c_str(), md.c_str(), json.c_str());
  });
}

}  // namespace crowdrt::cli
