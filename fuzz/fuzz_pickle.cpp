// libFuzzer target: the restricted unpickler must answer any bytes with a value tree or a crowdrt::Error
// (zip framing and CRCs would hide most pickle mutations from fuzz_checkpoint_zip).
#include <cstddef>
#include <cstdint>

#include "checkpoint/unpickler.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    crowdrt::checkpoint::pickle::unpickle(std::span<const std::byte>(reinterpret_cast<const std::byte*>(data), size),
                                          "fuzz");
  } catch (const crowdrt::Error&) {
  }
  return 0;
}
