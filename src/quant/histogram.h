// Histograms of |x| over calibration batches, and the amax each calibration method reads off them.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace crowdrt::quant {

// 2048 bins over [0, max|x|) of the first batch; later batches with a larger max add bins of the same width
// (so earlier counts stay where they were), as NVIDIA's pytorch-quantization HistogramCalibrator does.
class AbsHistogram {
 public:
  explicit AbsHistogram(int bins = 2048) : initial_bins_(bins) {}
  void collect(std::span<const float> values);  // NaN and inf are skipped
  const std::vector<int64_t>& counts() const { return counts_; }
  double bin_width() const { return width_; }
  float max_seen() const { return max_; }
  int64_t total() const { return total_; }
  // Merges runs of adjacent bins so that at most `max_bins` remain (the same counts a histogram of the
  // coarser width would have collected). Entropy calibration over a histogram that grew far past its first
  // range costs O(bins^2); TensorRT searches 2048 bins.
  void coarsen(int max_bins);

 private:
  int initial_bins_;
  std::vector<int64_t> counts_;
  double width_ = 0;
  float max_ = 0;
  int64_t total_ = 0;
  int64_t zeros_pending_ = 0;  // finite values seen before any non-zero one
};

enum class CalibrationMethod { entropy, minmax, percentile };
CalibrationMethod calibration_method_from_name(const std::string& name);  // Error listing the valid names

float minmax_amax(const AbsHistogram& histogram);
// The smallest amax below which `percentile` percent of |x| lie (upper edge of that bin).
float percentile_amax(const AbsHistogram& histogram, double percentile = 99.99);
// TensorRT's EntropyCalibration2 threshold (shared/QUANT.md): the bin i in [128, bins] minimising KL(P‖Q),
// amax = (i + 0.5) · bin width.
float entropy_amax(const AbsHistogram& histogram, int levels = 128);
float amax_of(const AbsHistogram& histogram, CalibrationMethod method);

}  // namespace crowdrt::quant
