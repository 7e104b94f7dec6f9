// The calibrator: |x| histograms of named tensors over calibration batches, read off as one amax per tensor by
// the chosen method, and the bridge to TensorRT's cache (scale = amax / 127, algorithm names as TensorRT's).
#pragma once
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "quant/calibration_cache.h"
#include "quant/histogram.h"

namespace crowdrt::quant {

class Calibrator {
 public:
  // The tensors to collect, in the order the cache lists them (network input first, then layer outputs).
  // `bounded` (empty, or one flag per tensor) marks outputs of a Clip with finite bounds (ReLU6): the entropy
  // method keeps their whole observed range. Their values are already limited by the Clip, and the largest ones
  // pile up at the bound; the KL search, which weighs bins by how many values they hold, would cut those few
  // large values off (MobileNetV2's first ReLU6: a threshold of 0.68 for values reaching 6 zeroed the count).
  Calibrator(CalibrationMethod method, std::vector<std::string> tensors, std::vector<bool> bounded = {});
  // One batch of values of tensor `index` (the constructor's order). Different tensors may be collected from
  // different threads at once; one tensor from one thread at a time.
  void collect(size_t index, std::span<const float> values);
  const std::vector<std::string>& tensors() const { return tensors_; }
  int64_t batches() const { return batches_; }
  void batch_done() { ++batches_; }
  // Tensor name → amax, in the constructor's order; tensors that were all zero (no range) are left out.
  std::vector<std::pair<std::string, float>> amax() const;

 private:
  CalibrationMethod method_;
  std::vector<std::string> tensors_;
  std::vector<bool> bounded_;
  std::vector<AbsHistogram> histograms_;
  int64_t batches_ = 0;
};

// The algorithm a cache names for a method: EntropyCalibration2 (entropy), MinMaxCalibration (minmax) and
// LegacyCalibration (percentile: TensorRT's legacy calibrator is its quantile one).
const char* cache_algorithm(CalibrationMethod method);
CalibrationCache cache_from_amax(const std::vector<std::pair<std::string, float>>& amax, CalibrationMethod method,
                                 const std::string& version);
// Tensor name → amax (scale * 127). Error naming `what` when the cache was made by another algorithm than the
// method's (TensorRT: "Calibration table does not match calibrator algorithm type"); EntropyCalibration (the
// legacy entropy calibrator) is accepted for entropy.
std::map<std::string, float> amax_from_cache(const CalibrationCache& cache, CalibrationMethod method,
                                             const std::string& what);

}  // namespace crowdrt::quant
