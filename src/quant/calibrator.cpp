#include "quant/calibrator.h"

#include <cmath>

#include "core/error.h"
#include "quant/scheme.h"

namespace crowdrt::quant {

Calibrator::Calibrator(CalibrationMethod method, std::vector<std::string> tensors, std::vector<bool> bounded)
    : method_(method), tensors_(std::move(tensors)), bounded_(std::move(bounded)), histograms_(tensors_.size()) {
  if (bounded_.empty()) bounded_.assign(tensors_.size(), false);
  if (bounded_.size() != tensors_.size())
    throw Error(cat("calibrator: ", bounded_.size(), " bounded flags for ", tensors_.size(), " tensors"));
}

void Calibrator::collect(size_t index, std::span<const float> values) { histograms_.at(index).collect(values); }

std::vector<std::pair<std::string, float>> Calibrator::amax() const {
  std::vector<std::pair<std::string, float>> out;
  for (size_t i = 0; i < tensors_.size(); ++i) {
    const AbsHistogram& collected = histograms_[i];
    if (collected.counts().empty()) continue;
    float a = 0.f;
    if (method_ != CalibrationMethod::entropy) {
      a = amax_of(collected, method_);
    } else if (bounded_[i]) {
      a = minmax_amax(collected);  // a bounded Clip's output keeps its observed range (see the constructor)
    } else {
      AbsHistogram coarse = collected;
      coarse.coarsen(2048);
      a = entropy_amax(coarse);
    }
    // A tensor without a usable range (all zero, or so small that amax / 127 is not a normal float) is left out,
    // as calibration caches refuse such scales (calibration_cache.h).
    if (std::isnormal(activation_scale(a)) && a > 0 && std::isfinite(a)) out.emplace_back(tensors_[i], a);
  }
  return out;
}

const char* cache_algorithm(CalibrationMethod method) {
  switch (method) {
    case CalibrationMethod::entropy: return "EntropyCalibration2";
    case CalibrationMethod::minmax: return "MinMaxCalibration";
    case CalibrationMethod::percentile: return "LegacyCalibration";
  }
  return "?";
}

CalibrationCache cache_from_amax(const std::vector<std::pair<std::string, float>>& amax, CalibrationMethod method,
                                 const std::string& version) {
  CalibrationCache cache;
  cache.version = version;
  cache.algorithm = cache_algorithm(method);
  for (const auto& [name, a] : amax) cache.scales.emplace_back(name, activation_scale(a));
  return cache;
}

std::map<std::string, float> amax_from_cache(const CalibrationCache& cache, CalibrationMethod method,
                                             const std::string& what) {
  const std::string expected = cache_algorithm(method);
  const bool legacy_entropy = method == CalibrationMethod::entropy && cache.algorithm == "EntropyCalibration";
  if (cache.algorithm != expected && !legacy_entropy)
    throw Error(cat(what, ": the calibration cache was made by ", cache.algorithm, ", not ", expected,
                    " (the calibrator asked for); pass the matching --calibrator, or another --calib-cache to "
                    "calibrate again"));
  std::map<std::string, float> out;
  for (const auto& [name, scale] : cache.scales) out[name] = amax_of_scale(scale);
  return out;
}

}  // namespace crowdrt::quant
