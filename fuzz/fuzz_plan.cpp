// libFuzzer target: the plan parser must answer any bytes with a plan or a crowdrt::Error. The checksum is
// recomputed over the input first, so the fuzzer reaches the header and weights parsing behind it.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/hash.h"
#include "engine/plan.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::byte> bytes(reinterpret_cast<const std::byte*>(data),
                               reinterpret_cast<const std::byte*>(data) + size);
  const uint64_t sum = crowdrt::hash_bytes(bytes);
  for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<std::byte>((sum >> (8 * i)) & 0xff));
  try {
    crowdrt::parse_plan(bytes, "fuzz");
  } catch (const crowdrt::Error&) {
  }
  return 0;
}
