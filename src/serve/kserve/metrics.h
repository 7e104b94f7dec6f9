// The server's counters and latency histograms in the Prometheus text exposition format (version 0.0.4):
//   crowdrt_requests_total{model, endpoint, protocol}, crowdrt_request_failures_total{model, endpoint, protocol},
//   crowdrt_frames_total{model}, crowdrt_request_duration_seconds{model, endpoint, protocol} and
//   crowdrt_stage_duration_seconds{model, stage} histograms (stage: queue, preprocess, infer),
//   crowdrt_live_sequences{model}, and for plans with a batch dimension crowdrt_batches_total{model, size}: the dynamic
//   batcher's engine runs by requests per run.
// protocol: http or grpc; endpoint: the protocol's operation (infer, model_metadata, ...), named alike for both.
#pragma once
#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

namespace crowdrt::serve::kserve {

class Metrics {
 public:
  void request(const std::string& model, const std::string& endpoint, const std::string& protocol, bool failed,
               double seconds);
  void frame(const std::string& model);
  void stage(const std::string& model, const std::string& stage, double seconds);
  void batch(const std::string& model, int items);  // one engine run of the dynamic batcher with `items` requests
  // The exposition; live sequences per model are given by the caller (the sequence table owns them).
  std::string text(const std::map<std::string, size_t>& live_sequences) const;

  static constexpr std::array<double, 14> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                      0.1,    0.25,  0.5,    1,     2.5,   5,     10};

 private:
  struct Histogram {
    std::array<uint64_t, kBuckets.size()> counts{};  // observations <= each bound (not cumulative here)
    uint64_t count = 0;
    double sum = 0;
    void observe(double seconds);
  };
  struct RequestLabels {
    std::string model, endpoint, protocol;
    auto operator<=>(const RequestLabels&) const = default;
  };
  using StageLabels = std::pair<std::string, std::string>;
  mutable std::mutex mutex_;
  std::map<RequestLabels, uint64_t> requests_, failures_;
  std::map<std::pair<std::string, int>, uint64_t> batches_;
  std::map<std::string, uint64_t> frames_;
  std::map<RequestLabels, Histogram> request_seconds_;
  std::map<StageLabels, Histogram> stage_seconds_;
};

}  // namespace crowdrt::serve::kserve
