// `crowdrt eval`: every frame's true and predicted count, the run's MAE / RMSE / GAME(0-3), a per-sequence
// table and where the time went; written as text, JSON and CSV.
#pragma once
#include <cstdio>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "eval/metrics.h"
#include "eval/pipeline.h"

namespace crowdrt::eval {

struct FrameRecord {
  std::string sequence;
  int64_t frame = 0;  // 1-based, as the annotation files count
  double truth = 0, predicted = 0;
  GameErrors game{};
  StageTimes times;
};

struct SequenceSummary {
  std::string name;
  int64_t frames = 0;
  double mean_true = 0, mean_predicted = 0, mae = 0, rmse = 0;
};

struct EvalReport {
  nlohmann::json settings;  // plan, device, precision, input, flow, pipeline mode...
  std::vector<FrameRecord> frames;
  double wall_seconds = 0;

  CountErrors errors() const;
  GameErrors game() const;  // mean over frames
  std::vector<SequenceSummary> per_sequence() const;
  Summary stage(Stage s) const;
  double inference_fps() const;   // frames / time spent in the engine (the seed's "inference FPS")
  double end_to_end_fps() const;  // frames / wall time of the whole run
};

// Runs the pipeline over annotated sequences. `also` (optional) sees each frame after it is measured (overlays).
EvalReport evaluate(Engine& engine, const std::vector<SequenceSource>& sequences, const PipelineOptions& options,
                    const std::function<void(const FrameOutput&, const FrameRecord&)>& also = {});

nlohmann::json report_json(const EvalReport& report);
std::string report_csv(const EvalReport& report);  // sequence,frame,true,pred,abs_error,game0..3,stage ms...
void print_report(const EvalReport& report, std::FILE* out);

}  // namespace crowdrt::eval
