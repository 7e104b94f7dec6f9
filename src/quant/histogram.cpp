#include "quant/histogram.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "core/error.h"

namespace crowdrt::quant {

void AbsHistogram::collect(std::span<const float> values) {
  float batch_max = 0;
  for (float v : values)
    if (std::isfinite(v)) batch_max = std::max(batch_max, std::abs(v));
  if (counts_.empty()) {
    if (batch_max == 0) {  // nothing but zeros yet: keep them counted once a range exists
      for (float v : values) zeros_pending_ += std::isfinite(v) ? 1 : 0;
      return;
    }
    width_ = static_cast<double>(batch_max) / initial_bins_;
    counts_.assign(initial_bins_, 0);
    counts_[0] += zeros_pending_;
    total_ += zeros_pending_;
    zeros_pending_ = 0;
  }
  if (batch_max > max_) {
    const auto needed = static_cast<size_t>(std::ceil(batch_max / width_));
    if (needed > counts_.size()) counts_.resize(needed, 0);
    max_ = batch_max;
  }
  const size_t last = counts_.size() - 1;
  for (float v : values) {
    if (!std::isfinite(v)) continue;
    const auto bin = static_cast<size_t>(std::abs(v) / width_);
    ++counts_[std::min(bin, last)];
    ++total_;
  }
}

void AbsHistogram::coarsen(int max_bins) {
  if (max_bins <= 0 || counts_.size() <= static_cast<size_t>(max_bins)) return;
  const size_t factor = (counts_.size() + max_bins - 1) / max_bins;
  std::vector<int64_t> merged((counts_.size() + factor - 1) / factor, 0);
  for (size_t i = 0; i < counts_.size(); ++i) merged[i / factor] += counts_[i];
  counts_ = std::move(merged);
  width_ *= static_cast<double>(factor);
}

CalibrationMethod calibration_method_from_name(const std::string& name) {
  if (name == "entropy") return CalibrationMethod::entropy;
  if (name == "minmax") return CalibrationMethod::minmax;
  if (name == "percentile") return CalibrationMethod::percentile;
  throw Error(cat("unknown calibrator '", name, "': use entropy, minmax or percentile"));
}

float minmax_amax(const AbsHistogram& histogram) { return histogram.max_seen(); }

float percentile_amax(const AbsHistogram& histogram, double percentile) {
  const auto& counts = histogram.counts();
  if (counts.empty()) return 0.f;
  const double target = histogram.total() * percentile / 100.0;
  double seen = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    seen += static_cast<double>(counts[i]);
    if (seen >= target) return static_cast<float>((i + 1) * histogram.bin_width());
  }
  return histogram.max_seen();
}

namespace {
// Normalises a distribution and moves a little mass onto its empty bins so that KL(P‖Q) stays finite where
// Q has nothing (ONNX Runtime's smooth_distribution, eps 1e-4). False when it has no mass at all.
bool smooth(std::vector<double>& d, double eps = 1e-4) {
  const double sum = std::accumulate(d.begin(), d.end(), 0.0);
  if (sum <= 0) return false;
  const auto zeros = static_cast<double>(std::count(d.begin(), d.end(), 0.0));
  const double nonzeros = static_cast<double>(d.size()) - zeros;
  const double take = zeros > 0 ? eps * zeros / nonzeros : 0.0;
  for (double& x : d) x = x == 0 ? eps : std::max(x / sum - take, eps / 2);  // a tiny bin must stay positive
  return true;
}
}  // namespace

float entropy_amax(const AbsHistogram& histogram, int levels) {
  const int bins = static_cast<int>(histogram.counts().size());
  if (bins == 0) return 0.f;
  if (bins <= levels) return histogram.max_seen();
  // The zeros of a ReLU output fill bin 0 with half the mass or more; left there, they pull the threshold down
  // to the smallest candidate (128 bins) whatever the rest looks like. Bin 0 takes bin 1's count instead, as
  // NVIDIA's pytorch-quantization does before its entropy search (calib/histogram.py).
  std::vector<int64_t> counts = histogram.counts();
  counts[0] = counts[1];
  // suffix[i] = counts beyond bin i-1 (the outliers clipped into bin i-1 when the threshold is bin i)
  std::vector<double> suffix(bins + 1, 0.0);
  for (int i = bins - 1; i >= 0; --i) suffix[i] = suffix[i + 1] + static_cast<double>(counts[i]);
  double best_divergence = std::numeric_limits<double>::infinity();
  int best = bins;
  std::vector<double> p, q;
  for (int i = levels; i <= bins; ++i) {
    // P: the first i bins, with everything beyond added to the last of them.
    p.assign(counts.begin(), counts.begin() + i);
    p[i - 1] += suffix[i];
    // Q: the first i bins (without the outliers) merged into `levels` groups, each group's mass spread evenly
    // over the bins where P is non-zero (Migacz, GTC 2017; ONNX Runtime's calibrate.py does the same).
    q.assign(i, 0.0);
    for (int level = 0; level < levels; ++level) {
      const int begin = static_cast<int>(static_cast<int64_t>(level) * i / levels);
      const int end = static_cast<int>(static_cast<int64_t>(level + 1) * i / levels);
      double mass = 0;
      int nonzero = 0;
      for (int b = begin; b < end; ++b) {
        mass += static_cast<double>(counts[b]);
        nonzero += p[b] != 0;
      }
      if (nonzero == 0) continue;
      for (int b = begin; b < end; ++b)
        if (p[b] != 0) q[b] = mass / nonzero;
    }
    if (!smooth(p) || !smooth(q)) continue;
    double divergence = 0;
    for (int b = 0; b < i; ++b)
      if (p[b] > 0) divergence += p[b] * std::log(p[b] / q[b]);
    if (divergence < best_divergence) {
      best_divergence = divergence;
      best = i;
    }
  }
  return static_cast<float>((best + 0.5) * histogram.bin_width());
}

float amax_of(const AbsHistogram& histogram, CalibrationMethod method) {
  switch (method) {
    case CalibrationMethod::entropy: return entropy_amax(histogram);
    case CalibrationMethod::minmax: return minmax_amax(histogram);
    case CalibrationMethod::percentile: return percentile_amax(histogram);
  }
  return minmax_amax(histogram);
}

}  // namespace crowdrt::quant
