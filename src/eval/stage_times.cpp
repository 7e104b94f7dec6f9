#include "eval/stage_times.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace crowdrt::eval {

const char* stage_name(Stage stage) {
  switch (stage) {
    case Stage::decode: return "decode";
    case Stage::resize: return "resize";
    case Stage::flow: return "flow";
    case Stage::packing: return "packing";
    case Stage::inference: return "inference";
    case Stage::total: return "total";
  }
  return "?";
}

double percentile_of_sorted(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const double rank = p / 100.0 * static_cast<double>(sorted.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(rank)), hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - static_cast<double>(lo));
}

Summary summarise(std::vector<double> values) {
  if (values.empty()) return {};
  std::sort(values.begin(), values.end());
  const double mean = std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
  return {mean, percentile_of_sorted(values, 50), percentile_of_sorted(values, 90)};
}

}  // namespace crowdrt::eval
