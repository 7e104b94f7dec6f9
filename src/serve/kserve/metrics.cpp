#include "serve/kserve/metrics.h"

#include <sstream>

namespace crowdrt::serve::kserve {
namespace {

// A label value with backslash, quote and line feed escaped, as the text format asks.
std::string escaped(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

void Metrics::Histogram::observe(double seconds) {
  for (size_t b = 0; b < kBuckets.size(); ++b)
    if (seconds <= kBuckets[b]) {
      ++counts[b];
      break;
    }
  ++count;
  sum += seconds;
}

void Metrics::request(const std::string& model, const std::string& endpoint, const std::string& protocol, bool failed,
                      double seconds) {
  std::lock_guard lock(mutex_);
  const RequestLabels labels{model, endpoint, protocol};
  ++requests_[labels];
  if (failed) ++failures_[labels];
  request_seconds_[labels].observe(seconds);
}

void Metrics::frame(const std::string& model) {
  std::lock_guard lock(mutex_);
  ++frames_[model];
}

void Metrics::stage(const std::string& model, const std::string& stage, double seconds) {
  std::lock_guard lock(mutex_);
  stage_seconds_[{model, stage}].observe(seconds);
}

void Metrics::batch(const std::string& model, int items) {
  std::lock_guard lock(mutex_);
  ++batches_[{model, items}];
}

std::string Metrics::text(const std::map<std::string, size_t>& live_sequences) const {
  std::lock_guard lock(mutex_);
  std::ostringstream out;
  out.precision(9);
  const auto request_labels = [](const RequestLabels& l) {
    return "model=\"" + escaped(l.model) + "\",endpoint=\"" + l.endpoint + "\",protocol=\"" + l.protocol + "\"";
  };
  const auto stage_labels = [](const StageLabels& l) {
    return "model=\"" + escaped(l.first) + "\",stage=\"" + l.second + "\"";
  };
  auto counter = [&](const char* name, const char* help, const std::map<RequestLabels, uint64_t>& values) {
    out << "# HELP " << name << " " << help << "\n# TYPE " << name << " counter\n";
    for (const auto& [labels, v] : values) out << name << "{" << request_labels(labels) << "} " << v << "\n";
  };
  auto histogram = [&](const char* name, const char* help, const auto& values, const auto& label_text) {
    out << "# HELP " << name << " " << help << "\n# TYPE " << name << " histogram\n";
    for (const auto& [labels, h] : values) {
      const std::string l = label_text(labels);
      uint64_t cumulative = 0;
      for (size_t b = 0; b < kBuckets.size(); ++b) {
        cumulative += h.counts[b];
        out << name << "_bucket{" << l << ",le=\"" << kBuckets[b] << "\"} " << cumulative << "\n";
      }
      out << name << "_bucket{" << l << ",le=\"+Inf\"} " << h.count << "\n";
      out << name << "_sum{" << l << "} " << h.sum << "\n" << name << "_count{" << l << "} " << h.count << "\n";
    }
  };
  counter("crowdrt_requests_total",
          "Requests by model, endpoint and protocol (http, grpc; model \"\" for server-wide endpoints).", requests_);
  counter("crowdrt_request_failures_total", "Requests answered with an error status, by model, endpoint and protocol.",
          failures_);
  out << "# HELP crowdrt_frames_total Frames counted by the counting models.\n# TYPE crowdrt_frames_total counter\n";
  for (const auto& [model, v] : frames_)
    out << "crowdrt_frames_total{model=\"" << escaped(model) << "\"} " << v << "\n";
  histogram("crowdrt_request_duration_seconds", "Time from a request's arrival to its answer.", request_seconds_,
            request_labels);
  histogram("crowdrt_stage_duration_seconds",
            "Inference requests' time per stage: queue (waiting for the sequence, for a batch to fill and for an "
            "engine), preprocess (frame to network input), infer (the engine).",
            stage_seconds_, stage_labels);
  if (!batches_.empty()) {
    out << "# HELP crowdrt_batches_total Engine runs of the dynamic batcher (plans with a batch dimension), by "
           "requests per run.\n# TYPE crowdrt_batches_total counter\n";
    for (const auto& [labels, v] : batches_)
      out << "crowdrt_batches_total{model=\"" << escaped(labels.first) << "\",size=\"" << labels.second << "\"} " << v
          << "\n";
  }
  out << "# HELP crowdrt_live_sequences Sequences of the counting models that are live.\n"
         "# TYPE crowdrt_live_sequences gauge\n";
  std::map<std::string, size_t> live = live_sequences;
  for (const auto& [model, _] : frames_)
    live.emplace(model, 0);  // a counting model that has served frames: 0, not absent
  for (const auto& [model, n] : live) out << "crowdrt_live_sequences{model=\"" << escaped(model) << "\"} " << n << "\n";
  return out.str();
}

}  // namespace crowdrt::serve::kserve
