// TensorRT's calibration cache (text): "TRT-<version>-<algorithm>" then "<tensor>: <scale as IEEE-754 float32
// bits, 8 hex digits, most significant first>" per line; scale = amax / 127 (shared/QUANT.md). A cache crowdrt
// writes can be handed to TensorRT (or ONNX Runtime's TensorRT provider) and one TensorRT wrote read back.
#pragma once
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace crowdrt::quant {

struct CalibrationCache {
  std::string version = "8510";                  // the TensorRT version field; users pick it (--calib-cache-version)
  std::string algorithm =
      "EntropyCalibration2";  // EntropyCalibration2, EntropyCalibration, MinMaxCalibration, LegacyCalibration
  std::vector<std::pair<std::string, float>> scales;  // tensor name → scale, in file order

  const float* find(const std::string& tensor) const;
};

std::string format_calibration_cache(const CalibrationCache& cache);
// Error naming `what` and the line for anything malformed (header, missing ':', not 8 hex digits, a scale
// that is not a positive normal float whose amax (scale x 127) is finite, a tensor listed twice).
CalibrationCache parse_calibration_cache(std::string_view text, const std::string& what);

// "3f800000" for 1.0f and back.
std::string scale_to_hex(float scale);
bool hex_to_scale(std::string_view hex, float* scale);

}  // namespace crowdrt::quant
