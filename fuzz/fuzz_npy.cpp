// libFuzzer target: the .npy parser must answer any bytes with a tensor or a crowdrt::Error.
#include <cstddef>
#include <cstdint>

#include "core/npy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    crowdrt::parse_npy(std::span<const std::byte>(reinterpret_cast<const std::byte*>(data), size), "fuzz");
  } catch (const crowdrt::Error&) {
  }
  return 0;
}
