#include "eval/evaluation.h"

#include <cmath>
#include <map>
#include <sstream>

#include "core/error.h"
#include "core/printable.h"
#include "core/progress.h"

namespace crowdrt::eval {

CountErrors EvalReport::errors() const {
  std::vector<double> t, p;
  for (const FrameRecord& f : frames) {
    t.push_back(f.truth);
    p.push_back(f.predicted);
  }
  return count_errors(t, p);
}

GameErrors EvalReport::game() const {
  GameErrors sum{};
  for (const FrameRecord& f : frames)
    for (int l = 0; l < kGameLevels; ++l) sum[l] += f.game[l];
  if (!frames.empty())
    for (double& v : sum) v /= static_cast<double>(frames.size());
  return sum;
}

std::vector<SequenceSummary> EvalReport::per_sequence() const {
  std::vector<SequenceSummary> out;
  std::map<std::string, size_t> index;
  std::vector<std::vector<double>> truth, pred;
  for (const FrameRecord& f : frames) {
    auto [it, added] = index.emplace(f.sequence, out.size());
    if (added) {
      out.push_back({f.sequence});
      truth.emplace_back();
      pred.emplace_back();
    }
    truth[it->second].push_back(f.truth);
    pred[it->second].push_back(f.predicted);
  }
  for (size_t i = 0; i < out.size(); ++i) {
    const double n = static_cast<double>(truth[i].size());
    out[i].frames = static_cast<int64_t>(truth[i].size());
    for (size_t k = 0; k < truth[i].size(); ++k) {
      out[i].mean_true += truth[i][k] / n;
      out[i].mean_predicted += pred[i][k] / n;
    }
    const CountErrors e = count_errors(truth[i], pred[i]);
    out[i].mae = e.mae;
    out[i].rmse = e.rmse;
  }
  return out;
}

Summary EvalReport::stage(Stage s) const {
  std::vector<double> v;
  v.reserve(frames.size());
  for (const FrameRecord& f : frames) v.push_back(f.times[s]);
  return summarise(std::move(v));
}

double EvalReport::inference_fps() const {
  double ms = 0;
  for (const FrameRecord& f : frames) ms += f.times[Stage::inference];
  return ms > 0 ? static_cast<double>(frames.size()) / (ms / 1000.0) : 0.0;
}

double EvalReport::end_to_end_fps() const {
  return wall_seconds > 0 ? static_cast<double>(frames.size()) / wall_seconds : 0.0;
}

EvalReport evaluate(Engine& engine, const std::vector<SequenceSource>& sequences, const PipelineOptions& options,
                    const std::function<void(const FrameOutput&, const FrameRecord&)>& also) {
  int64_t total = 0;
  for (const SequenceSource& s : sequences) {
    if (!s.annotated) throw Error(cat("sequence ", s.name, " has no annotations to evaluate against"));
    total += std::max<int64_t>(0, s.frames);
  }
  EvalReport report;
  Progress progress("eval", total);
  const PipelineRun run = run_pipeline(engine, sequences, options, [&](const FrameOutput& out) {
    const SequenceSource& seq = *out.sequence;
    if (out.frame >= static_cast<int64_t>(seq.heads.size()))
      throw Error(cat("sequence ", seq.name, ": frame ", out.frame + 1, " was read but the sequence lists ",
                      seq.heads.size(), " frames"));
    const std::vector<data::Head>& heads = seq.heads[out.frame];
    const Shape& shape = out.density->shape();
    const auto density = out.density->span<float>();
    FrameRecord r;
    r.sequence = seq.name;
    r.frame = out.frame + 1;
    r.truth = static_cast<double>(heads.size());
    r.predicted = count_of_density(density);
    r.game = game_errors(density, static_cast<int>(shape[2]), static_cast<int>(shape[3]), heads,
                         out.source_size.width, out.source_size.height);
    r.times = out.times;
    report.frames.push_back(r);
    if (also) also(out, r);
    progress.advance();
  });
  report.wall_seconds = run.wall_seconds;
  return report;
}

nlohmann::json report_json(const EvalReport& report) {
  nlohmann::json j = report.settings;
  const CountErrors e = report.errors();
  const GameErrors g = report.game();
  j["frames"] = report.frames.size();
  j["mae"] = e.mae;
  j["rmse"] = e.rmse;
  j["game"] = nlohmann::json(std::vector<double>(g.begin(), g.end()));
  j["wall_seconds"] = report.wall_seconds;
  j["inference_fps"] = report.inference_fps();
  j["end_to_end_fps"] = report.end_to_end_fps();
  nlohmann::json timings;
  for (int s = 0; s < kStages; ++s) {
    const Summary m = report.stage(static_cast<Stage>(s));
    timings[stage_name(static_cast<Stage>(s))] = {{"mean_ms", m.mean}, {"median_ms", m.median}, {"p90_ms", m.p90}};
  }
  j["timings"] = timings;
  nlohmann::json seqs = nlohmann::json::array();
  for (const SequenceSummary& s : report.per_sequence())
    seqs.push_back({{"sequence", s.name}, {"frames", s.frames}, {"mean_true", s.mean_true},
                    {"mean_pred", s.mean_predicted}, {"mae", s.mae}, {"rmse", s.rmse}});
  j["per_sequence"] = seqs;
  nlohmann::json frames = nlohmann::json::array();
  for (const FrameRecord& f : report.frames) {
    nlohmann::json ms;
    for (int s = 0; s < kStages; ++s) ms[stage_name(static_cast<Stage>(s))] = f.times.ms[s];
    frames.push_back({{"sequence", f.sequence}, {"frame", f.frame}, {"true", f.truth}, {"pred", f.predicted},
                      {"game", std::vector<double>(f.game.begin(), f.game.end())}, {"ms", ms}});
  }
  j["per_frame"] = frames;
  return j;
}

std::string report_csv(const EvalReport& report) {
  std::ostringstream out;
  out.precision(9);
  out << "sequence,frame,true,pred,abs_error,game0,game1,game2,game3";
  for (int s = 0; s < kStages; ++s) out << "," << stage_name(static_cast<Stage>(s)) << "_ms";
  out << "\n";
  for (const FrameRecord& f : report.frames) {
    out << f.sequence << "," << f.frame << "," << f.truth << "," << f.predicted << ","
        << std::abs(f.truth - f.predicted);
    for (double g : f.game) out << "," << g;
    for (double ms : f.times.ms) out << "," << ms;
    out << "\n";
  }
  return out.str();
}

void print_report(const EvalReport& report, std::FILE* out) {
  const auto seqs = report.per_sequence();
  std::fprintf(out, "%-24s %7s %10s %10s %9s %9s\n", "sequence", "frames", "mean true", "mean pred", "MAE", "RMSE");
  for (const SequenceSummary& s : seqs)
    std::fprintf(out, "%-24s %7lld %10.2f %10.2f %9.3f %9.3f\n", printable(s.name.substr(0, 24)).c_str(),
                 static_cast<long long>(s.frames), s.mean_true, s.mean_predicted, s.mae, s.rmse);
  const CountErrors e = report.errors();
  const GameErrors g = report.game();
  std::fprintf(out, "\nframes: %zu   MAE: %.3f   RMSE: %.3f   GAME(0..3): %.3f %.3f %.3f %.3f\n", report.frames.size(),
               e.mae, e.rmse, g[0], g[1], g[2], g[3]);
  std::fprintf(out, "\n%-10s %10s %10s %10s\n", "stage (ms)", "mean", "median", "p90");
  for (int s = 0; s < kStages; ++s) {
    const Summary m = report.stage(static_cast<Stage>(s));
    std::fprintf(out, "%-10s %10.3f %10.3f %10.3f\n", stage_name(static_cast<Stage>(s)), m.mean, m.median, m.p90);
  }
  std::fprintf(out, "\ninference FPS: %.2f   end-to-end FPS: %.2f (%lld frames in %.2f s)\n", report.inference_fps(),
               report.end_to_end_fps(), static_cast<long long>(report.frames.size()), report.wall_seconds);
}

}  // namespace crowdrt::eval
