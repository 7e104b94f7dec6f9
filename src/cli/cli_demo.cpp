// crowdrt demo (`make demo`): the whole chain on the committed demo model, in a few minutes on a small CPU.
// A synthetic dataset is generated, the checkpoint exported and built in each precision, every plan evaluated,
// the benchmark table printed, and overlay pictures and a count-over-time plot written; the folder is named last.
#include <chrono>
#include <filesystem>
#include <memory>

#include "cli/cli_common.h"
#include "cli/cli_evaluation.h"
#include "core/atomic_file.h"
#include "core/cancel.h"
#include "core/log.h"
#include "data/synth.h"
#include "data/visdrone.h"
#include "eval/benchmark.h"
#include "eval/plots.h"
#include "vision/frame.h"

namespace crowdrt::cli {
namespace {

// The committed demo model wherever crowdrt runs from: installed beside the program (<prefix>/share/crowdrt), or
// in the source tree of the build that made this program.
std::string find_demo_checkpoint() {
  namespace fs = std::filesystem;
  const fs::path file = fs::path("models") / "demo" / "demo_unet_mobilenet_v2.pth";
  std::error_code ec;
  const fs::path program = fs::read_symlink("/proc/self/exe", ec);
  std::vector<fs::path> places;
  if (!ec) places.push_back(program.parent_path() / CROWDRT_DATA_FROM_BIN / file);
  places.push_back(fs::path(CROWDRT_SOURCE_DIR) / file);
  for (const fs::path& p : places)
    if (fs::is_regular_file(p, ec)) return p.lexically_normal().string();
  throw Error(cat("the demo model is in none of ", places.front().lexically_normal().string(), " and ",
                  places.back().string(), "; reinstall crowdrt, or pass --checkpoint FILE"));
}

}  // namespace

void register_demo(CLI::App& app) {
  struct Args {
    std::string out = "out/demo", checkpoint, size = "448x256",
                precisions = "fp32,bf16,int8", flows = "medium", device = "cpu";
    int sequences = 3, frames = 12, threads = 0;
    bool overwrite = false;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand(
      "demo", "Synthetic data → export → build (each precision) → eval → benchmark table, overlays and a count plot");
  cmd->add_option("--out", a->out, "Output folder")->capture_default_str();
  cmd->add_option("--checkpoint", a->checkpoint,
                  "The model (smp checkpoint or ONNX; default: the installed demo model)");
  cmd->add_option("--size", a->size, "Network input WIDTHxHEIGHT")->capture_default_str()->check(width_by_height());
  cmd->add_option("--precisions", a->precisions, "Comma-separated precisions to build: fp32, fp16, bf16, int8")
      ->capture_default_str()
      ->check(list_of({"fp32", "fp16", "bf16", "int8"}));
  cmd->add_option("--flows", a->flows, "Comma-separated DIS presets to evaluate: ultrafast, fast, medium")
      ->capture_default_str()
      ->check(list_of({"ultrafast", "fast", "medium"}));
  cmd->add_option("--sequences", a->sequences, "Synthetic sequences to evaluate on")
      ->capture_default_str()
      ->check(CLI::Range(1, 100));
  cmd->add_option("--frames", a->frames, "Frames per sequence")->capture_default_str()->check(CLI::Range(2, 1000));
  cmd->add_option("--threads", a->threads, "Engine threads (0: all cores; at most 4096)")->check(thread_count());
  cmd->add_option("--device", a->device, "Backend the plans are built for: cpu, cuda (where built with CUDA), ref")
      ->capture_default_str()
      ->check(device_name());
  cmd->add_flag("--overwrite", a->overwrite, "Replace the files of an earlier demo in --out");
  cmd->callback([a] {
    namespace fs = std::filesystem;
    const auto start = std::chrono::steady_clock::now();
    const auto step = [&](const std::string& what) {
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::printf("== [%5.1f s] %s\n", s, what.c_str());
      std::fflush(stdout);
    };
    // Everything the demo needs is checked before anything is written.
    const fs::path out(a->out);
    const cv::Size size = vision::parse_frame_size(a->size, "--size");
    const std::string checkpoint = a->checkpoint.empty() ? find_demo_checkpoint() : a->checkpoint;
    if (std::error_code ec; !fs::is_regular_file(checkpoint, ec))
      throw Error(cat("--checkpoint ", checkpoint, ": no such file"));
    eval::BenchOptions options;
    const std::string name = fs::path(checkpoint).stem().string();
    for (const std::string& p : split_list(a->precisions)) options.precisions.push_back(precision_from_name(p));
    for (const std::string& f : split_list(a->flows)) options.flows.push_back(vision::parse_flow_preset(f));
    if (options.precisions.empty() || options.flows.empty())
      throw CLI::ValidationError("--precisions/--flows", "give at least one of each");
    const std::string md = (out / "bench.md").string(), json = (out / "bench.json").string(),
                      plot = (out / "counts.png").string();
    if (std::error_code ec; fs::exists(out, ec)) {  // a new folder holds nothing to overwrite
      for (Precision p : options.precisions)
        check_writable((out / cat(name, "_", precision_name(p), ".plan")).string(), a->overwrite);
      for (const std::string& f : {md, json, plot}) check_writable(f, a->overwrite);
    }
    // Ctrl-C stops within a frame or layer. The data, models and plans are read back as the demo goes, so each
    // file gets its name when complete; a demo that fails removes the files it created.
    const InterruptResponseScope interrupts(InterruptResponse::cancel);
    OutputBatch files(OutputBatch::Rename::at_once);
    create_output_folders(out.string());

    step("1. synthetic VisDrone-CC sequences (640x360, held out from the demo model's training seeds)");
    data::SynthOptions synth;
    synth.sequences = a->sequences;
    synth.frames = a->frames;
    synth.size = cv::Size(640, 360);
    synth.seed = 2027;
    data::write_synth_dataset(synth, (out / "data").string(), a->overwrite);
    std::printf("   %d sequences of %d frames in %s\n", synth.sequences, synth.frames, (out / "data").c_str());
    data::SynthOptions calib = synth;  // int8 calibration frames: other sequences than the evaluated ones
    calib.sequences = 2;
    calib.frames = 16;
    calib.seed = 3033;
    data::write_synth_dataset(calib, (out / "calib").string(), a->overwrite);
    std::printf("   %d sequences of %d frames for int8 calibration in %s\n", calib.sequences, calib.frames,
                (out / "calib").c_str());

    step(cat("2. export ", checkpoint, " to ONNX at ", size.width, "x", size.height, " (",
             size_words(size.width, size.height), ")"));
    options.models.push_back({name, onnx_for_model(checkpoint, size, out.string(), a->overwrite)});
    options.threads = a->threads;
    options.plan_dir = out.string();

    step("3. build each precision and evaluate it (pipelined; flow restarts per sequence)");
    std::string split = "all";
    const auto sequences = dataset_sequences((out / "data").string(), split);
    std::vector<eval::CountSeries> series;
    const auto rows = eval::run_bench(
        sequences, options,
        [&](const eval::BenchModel& m, Precision p) {
          std::printf("   build %s %s\n", m.name.c_str(), precision_name(p));
          std::fflush(stdout);
          CalibrationArgs calibration;
          calibration.data = (out / "calib").string();
          // One ReLU6 layer of the demo's MobileNetV2 loses its signal in int8 under entropy calibration
          // (bench/RESULTS.md); the count budget keeps the few layers that matter fp32.
          calibration.count_budget = 0.01;
          if (p == Precision::int8) calibration.cache = calibration_cache_for(out.string(), m.name, a->overwrite);
          return build_bench_plan(m.onnx, p, a->threads, a->device, calibration);
        },
        [&](const eval::BenchRow& row, const eval::EvalReport& report) {
          std::printf("   eval %-5s flow %-9s MAE %.3f  RMSE %.3f  %.2f FPS end to end\n", row.precision.c_str(),
                      row.flow.c_str(), row.mae, row.rmse, row.end_to_end_fps);
          std::fflush(stdout);
          if (series.empty()) {
            std::vector<double> truth;
            for (const auto& f : report.frames) truth.push_back(f.truth);
            series.push_back({"true count", truth, cv::Scalar(30, 30, 30)});
          }
          if (row.flow == vision::flow_preset_name(options.flows.front())) {
            static const cv::Scalar colours[] = {{40, 40, 220}, {200, 120, 30}, {40, 160, 40}, {160, 40, 160}};
            std::vector<double> pred;
            for (const auto& f : report.frames) pred.push_back(f.predicted);
            series.push_back({cat(row.precision, " prediction"), pred, colours[(series.size() - 1) % 4]});
          }
        });

    step("4. overlays of the first sequence (fp32 plan) and the count-over-time plot");
    const std::string first_plan = (out / cat(name, "_", precision_name(options.precisions.front()), ".plan")).string();
    Engine engine = Engine::load(first_plan, RuntimeOptions{a->threads});
    eval::PipelineOptions pipeline;
    pipeline.flow = options.flows.front();
    pipeline.keep_frames = true;
    int overlays = 0;
    // Named after their source frames: <sequence>_<frame file name>_overlay.png.
    const std::vector<std::string> frame_files =
        data::list_frames((out / "data" / "sequences" / sequences.front().name).string());
    eval::evaluate(engine, {sequences.front()}, pipeline, [&](const eval::FrameOutput& f, const eval::FrameRecord& r) {
      const auto i = static_cast<size_t>(f.frame);  // 0-based; r.frame counts from 1
      const std::string stem = i < frame_files.size() ? fs::path(frame_files[i]).stem().string() : cat(r.frame);
      const std::string path = (out / cat(r.sequence, "_", stem, "_overlay.png")).string();
      check_writable(path, a->overwrite);
      eval::write_image(path, eval::density_overlay(*f.frame_bgr, *f.density, r.predicted, r.truth));
      ++overlays;
    });
    eval::write_image(plot, eval::count_plot(series, cat("demo: true and predicted count per frame (", sequences.size(),
                                                         " sequences, flow ", a->flows, ")")));
    const std::string table = eval::bench_markdown(rows);
    write_text_file(md, table);
    write_text_file(json,
                    nlohmann::json{{"data", (out / "data").string()}, {"rows", eval::bench_json(rows)}}.dump(1) + "\n");

    files.commit();
    step("5. benchmark table");
    std::printf("\n%s\n", table.c_str());
    std::printf("wrote %d overlay PNGs, counts.png, bench.md, bench.json and the plans\n", overlays);
    std::printf("demo output folder: %s\n", fs::absolute(out).lexically_normal().c_str());
  });
}

}  // namespace crowdrt::cli
