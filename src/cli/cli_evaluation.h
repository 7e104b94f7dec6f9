// What the frame-reading subcommands eval, run, bench and demo share (defined in cli_eval.cpp and
// cli_bench.cpp). Kept apart from cli_common.h, which engine-only builds (no OpenCV) include too.
#pragma once
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/runtime.h"
#include "eval/frame_source.h"
#include "eval/pipeline.h"

namespace crowdrt::cli {

struct PipelineArgs {
  std::string flow = "medium";
  std::string flow_device;  // cpu, cuda, or "" for the plan's device
  bool serial = false, carry_flow = false;
  int workers = 0, threads = 0, lanes = 8;
};
void add_pipeline_options(CLI::App* cmd, PipelineArgs& args);
eval::PipelineOptions pipeline_options(const PipelineArgs& args);
// --flow-device for this engine: the whole frame on the GPU for CUDA plans (more lanes load the plan again).
void choose_flow_device(eval::PipelineOptions& options, const PipelineArgs& args, Engine& engine,
                        const std::string& plan_path);
nlohmann::json eval_settings(const Engine& engine, const std::string& plan, const eval::PipelineOptions& options);
// The sequences of a split (data::select_sequences); split "" chooses data::default_split and says which on
// stderr, and is replaced by the split chosen.
std::vector<eval::SequenceSource> dataset_sequences(const std::string& root, std::string& split);
// --split: val, all, train, test or an existing file of names.
CLI::Validator split_name();
void write_text_file(const std::string& path, const std::string& text);

// An .onnx model is returned as is; an smp checkpoint is exported for the network size `size` (WxH) into out_dir.
std::string onnx_for_model(const std::string& model, cv::Size size, const std::string& out_dir, bool overwrite);
// int8 calibration of bench / demo builds (BuildOptions' calib_* fields, `crowdrt build`'s flags).
struct CalibrationArgs {
  std::string dir, data, cache, calibrator = "entropy", recipe = "network";
  int64_t max = 500;
  double count_budget = 0;  // > 0: the builder keeps the most count-sensitive int8 layers fp32 within this budget
};
void add_calibration_options(CLI::App* cmd, CalibrationArgs& args);
Plan build_bench_plan(const std::string& onnx, Precision precision, int threads, const std::string& device,
                      const CalibrationArgs& calibration);
std::vector<std::string> split_list(const std::string& text);
// <out_dir>/<model>_calib.bin; with overwrite, an earlier run's cache there is removed first.
std::string calibration_cache_for(const std::string& out_dir, const std::string& model, bool overwrite);

}  // namespace crowdrt::cli
