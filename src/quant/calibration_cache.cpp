#include "quant/calibration_cache.h"

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <set>

#include "core/error.h"

namespace crowdrt::quant {
namespace {
const char* const kAlgorithms[] = {"EntropyCalibration2", "EntropyCalibration", "MinMaxCalibration",
                                   "LegacyCalibration"};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.back() == '\r' || s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}
}  // namespace

const float* CalibrationCache::find(const std::string& tensor) const {
  for (const auto& [name, scale] : scales)
    if (name == tensor) return &scale;
  return nullptr;
}

std::string scale_to_hex(float scale) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", static_cast<unsigned>(std::bit_cast<uint32_t>(scale)));
  return buf;
}

bool hex_to_scale(std::string_view hex, float* scale) {
  if (hex.size() != 8) return false;
  uint32_t bits = 0;
  for (char c : hex) {
    int digit;
    if (c >= '0' && c <= '9') digit = c - '0';
    else if (c >= 'a' && c <= 'f') digit = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') digit = c - 'A' + 10;
    else return false;
    bits = bits << 4 | static_cast<uint32_t>(digit);
  }
  *scale = std::bit_cast<float>(bits);
  return true;
}

std::string format_calibration_cache(const CalibrationCache& cache) {
  std::string out = "TRT-" + cache.version + "-" + cache.algorithm + "\n";
  for (const auto& [name, scale] : cache.scales) out += name + ": " + scale_to_hex(scale) + "\n";
  return out;
}

CalibrationCache parse_calibration_cache(std::string_view text, const std::string& what) {
  CalibrationCache cache;
  std::set<std::string> seen;
  size_t line_number = 0;
  bool header = true;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    const std::string_view line = trim(text.substr(0, end));
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    ++line_number;
    const auto fail = [&](const std::string& why) {
      return Error(cat(what, ":", line_number, ": ", why,
                       "; a TensorRT calibration cache has a TRT-<version>-<algorithm> "
                       "line, then '<tensor>: <8 hex digits>' lines"));
    };
    if (header) {
      if (line.substr(0, 4) != "TRT-") throw fail("not a TensorRT calibration cache (no TRT- header)");
      const size_t dash = line.find('-', 4);
      if (dash == std::string_view::npos) throw fail("header without an algorithm");
      cache.version = std::string(line.substr(4, dash - 4));
      cache.algorithm = std::string(line.substr(dash + 1));
      if (cache.version.empty() || cache.version.find_first_not_of("0123456789") != std::string::npos)
        throw fail(cat("version '", cache.version, "' is not a number"));
      bool known = false;
      for (const char* a : kAlgorithms) known = known || cache.algorithm == a;
      if (!known) throw fail(cat("unknown calibration algorithm '", cache.algorithm, "'"));
      header = false;
      continue;
    }
    if (line.empty()) continue;
    const size_t colon = line.rfind(':');
    if (colon == std::string_view::npos || colon == 0) throw fail("expected '<tensor>: <scale>'");
    const std::string name(trim(line.substr(0, colon)));
    float scale;
    if (!hex_to_scale(trim(line.substr(colon + 1)), &scale))
      throw fail(cat("the scale of '", name, "' is not 8 hex digits"));
    // amax = scale * 127 must be finite too, and zero or subnormal scales quantise every value to zero.
    if (!std::isnormal(scale) || scale < 0.f || scale > std::numeric_limits<float>::max() / 127.f)
      throw Error(cat(what, ":", line_number, ": the scale of tensor '", name, "' is ", scale, " (",
                      trim(line.substr(colon + 1)), "); a scale must be a positive normal float32 with scale x 127 "
                      "finite; the cache is damaged: recalibrate (--recalibrate with --calib-dir or --calib-data) or "
                      "delete it"));
    if (!seen.insert(name).second) throw fail(cat("tensor '", name, "' is listed twice"));
    cache.scales.emplace_back(name, scale);
  }
  if (header) throw Error(cat(what, ": empty file, not a TensorRT calibration cache"));
  return cache;
}

}  // namespace crowdrt::quant
