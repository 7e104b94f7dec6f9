// libFuzzer target: the VisDrone-CC annotation parser must answer any bytes with heads or a crowdrt::Error.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/error.h"
#include "data/annotations.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    crowdrt::data::parse_annotations(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.txt");
  } catch (const crowdrt::Error&) {
  }
  return 0;
}
