// libFuzzer target: the calibration cache parser must answer any text with a cache or a crowdrt::Error.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/error.h"
#include "quant/calibration_cache.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    crowdrt::quant::parse_calibration_cache(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz");
  } catch (const crowdrt::Error&) {
  }
  return 0;
}
