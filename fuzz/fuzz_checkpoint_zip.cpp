// libFuzzer target: read_pytorch_zip must answer any bytes with a state_dict or a crowdrt::Error.
#include <cstddef>
#include <cstdint>

#include "checkpoint/checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    crowdrt::checkpoint::read_pytorch_zip(std::span<const std::byte>(reinterpret_cast<const std::byte*>(data), size),
                                          "fuzz");
  } catch (const crowdrt::Error&) {
  }
  return 0;
}
