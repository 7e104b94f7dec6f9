// crowdrt eval: a plan over VisDrone-CC sequences: counts, MAE / RMSE / GAME, per-sequence table, stage timings.
#include <memory>

#include "cli/cli_common.h"
#include "cli/cli_evaluation.h"
#include "eval/device_frames.h"
#include "core/cancel.h"
#include "core/file.h"
#include "core/log.h"
#include "eval/evaluation.h"

namespace crowdrt::cli {

void write_text_file(const std::string& path, const std::string& text) { write_text_atomic(path, text); }

std::vector<eval::SequenceSource> dataset_sequences(const std::string& root, std::string& split) {
  if (split.empty()) {
    const data::DefaultSplit chosen = data::default_split(root);
    split = chosen.split;
    log_info(cat("split ", chosen.split, ": ", chosen.reason, " (choose another with --split)"));
  }
  std::vector<eval::SequenceSource> out;
  for (const std::string& name : data::select_sequences(root, split))
    out.push_back(eval::dataset_sequence(data::read_sequence(root, name)));
  return out;
}

CLI::Validator split_name() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        if (value == "val" || value == "all" || value == "train" || value == "test" || file_exists(value)) return "";
        return cat("'", value, "' is neither val, all, train, test nor a file of sequence names");
      },
      "");
}

void add_pipeline_options(CLI::App* cmd, PipelineArgs& a) {
  cmd->add_option("--flow", a.flow, "DIS preset for 5-channel plans: ultrafast, fast, medium (none: 3-channel plans)")
      ->capture_default_str()
      ->check(one_of({"ultrafast", "fast", "medium", "none"}));
  cmd->add_flag("--serial", a.serial, "Run the seed's serial loop (decode, flow, inference one frame after another)");
  cmd->add_flag("--carry-flow", a.carry_flow,
                "Keep the previous frame and flow across sequences, as the seed's eval.py does (default: restart "
                "the flow at each sequence)");
  cmd->add_option(
         "--flow-device", a.flow_device,
         "Where frames are prepared: cuda (upload, resize, gray, DIS flow and packing on the GPU, straight into "
         "the engine's input; CUDA plans) or cpu (OpenCV); default: the plan's device")
      ->check(one_of({"cpu", "cuda"}));
  cmd->add_option("--lanes", a.lanes,
                  "With frames on the GPU: sequences in flight at once, each on its own CUDA stream")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  cmd->add_option("--workers", a.workers, "Threads preparing frames on the CPU (0: the number of cores)")
      ->check(at_least(0));
  cmd->add_option("--threads", a.threads, "Engine threads (0: all cores; at most 4096)")->check(thread_count());
}

eval::PipelineOptions pipeline_options(const PipelineArgs& a) {
  eval::PipelineOptions o;
  o.flow = vision::parse_flow_preset(a.flow);
  o.serial = a.serial;
  o.carry_flow = a.carry_flow;
  o.workers = a.workers;
  o.lanes = a.lanes;
  return o;
}

void choose_flow_device(eval::PipelineOptions& o, const PipelineArgs& a, Engine& engine, const std::string& plan_path) {
  o.device_frames = eval::use_device_frames(engine, a.flow_device);
  if (o.device_frames) {
    const int threads = a.threads;
    o.more_engines = [plan_path, threads] {
      return std::make_unique<Engine>(Engine::load(plan_path, RuntimeOptions{threads}));
    };
  }
}

nlohmann::json eval_settings(const Engine& engine, const std::string& plan, const eval::PipelineOptions& o) {
  const auto& h = engine.plan().header;
  return {{"plan", plan},
          {"device", h.value("device", "")},
          {"precision", h.contains("build") ? h["build"].value("precision", "") : ""},
          {"input", shape_str(engine.inputs()[0].shape)},
          {"flow", engine.inputs()[0].shape[1] == 5 ? vision::flow_preset_name(o.flow) : "none"},
          {"pipeline", o.serial ? "serial" : "pipelined"},
          {"flow_device", o.device_frames ? "cuda" : "cpu"},
          {"flow_across_sequences", o.carry_flow}};
}

void register_eval(CLI::App& app) {
  struct Args {
    std::string plan, data, split, json, csv;
    PipelineArgs pipeline;
    bool overwrite = false, quiet = false;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd =
      app.add_subcommand("eval", "Evaluate a plan on VisDrone-CC sequences: counts, MAE, RMSE, GAME, timings");
  cmd->add_option("--plan,--loadEngine", a->plan, "Plan file")->required();
  cmd->add_option("--data", a->data, "Dataset root (sequences/, annotations/)")->required();
  cmd->add_option("--split,--dataset", a->split,
                  "val (the seed's: sorted sequences after the first 66), all, train, test, or a file of names "
                  "(default: val where there are more than 66 sequences, else test where testlist.txt exists, "
                  "else all)")
      ->check(split_name());
  add_pipeline_options(cmd, a->pipeline);
  cmd->add_option("--json", a->json, "Write the report (summary, per sequence, per frame) as JSON");
  cmd->add_option("--csv", a->csv, "Write one line per frame as CSV");
  cmd->add_flag("--overwrite", a->overwrite, "Replace the --json / --csv files if they exist");
  cmd->add_flag("-q,--quiet", a->quiet, "Print only the summary line");
  cmd->callback([a] {
    if (!a->json.empty()) check_writable(a->json, a->overwrite);
    if (!a->csv.empty()) check_writable(a->csv, a->overwrite);
    const InterruptResponseScope interrupts(InterruptResponse::cancel);  // Ctrl-C stops within a frame
    eval::PipelineOptions options = pipeline_options(a->pipeline);
    const auto sequences = dataset_sequences(a->data, a->split);
    Engine engine = Engine::load(a->plan, RuntimeOptions{a->pipeline.threads});
    choose_flow_device(options, a->pipeline, engine, a->plan);
    eval::EvalReport report = eval::evaluate(engine, sequences, options);
    report.settings = eval_settings(engine, a->plan, options);
    report.settings["data"] = a->data;
    report.settings["split"] = a->split;
    if (a->quiet) {
      const auto e = report.errors();
      std::printf("frames: %zu   MAE: %.3f   RMSE: %.3f   end-to-end FPS: %.2f\n", report.frames.size(), e.mae, e.rmse,
                  report.end_to_end_fps());
    } else {
      const Shape& input = engine.inputs()[0].shape;
      std::printf("plan %s (%s, %s), input %s (%s), flow %s on the %s, %s, split %s\n\n", a->plan.c_str(),
                  report.settings["device"].get<std::string>().c_str(),
                  report.settings["precision"].get<std::string>().c_str(),
                  report.settings["input"].get<std::string>().c_str(),
                  input.size() == 4 ? size_words(input[3], input[2]).c_str() : "?",
                  report.settings["flow"].get<std::string>().c_str(), options.device_frames ? "GPU" : "CPU",
                  report.settings["pipeline"].get<std::string>().c_str(), a->split.c_str());
      eval::print_report(report, stdout);
    }
    if (!a->json.empty()) write_text_file(a->json, report_json(report).dump(1) + "\n");
    if (!a->csv.empty()) write_text_file(a->csv, eval::report_csv(report));
  });
}

}  // namespace crowdrt::cli
