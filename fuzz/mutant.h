// What the structure-aware mutators (onnx_mutator.h, fuzz_plan_graph.cpp) share: libFuzzer's byte mutator, and
// handing a mutant back to libFuzzer.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size);

namespace crowdrt::fuzz {

// Copies `mutant` into libFuzzer's buffer and returns its size; a mutant larger than max_size is dropped for a
// byte mutation of the input instead.
inline size_t write_mutant(const std::string& mutant, uint8_t* data, size_t size, size_t max_size) {
  if (mutant.size() > max_size) return LLVMFuzzerMutate(data, size, max_size);
  std::memcpy(data, mutant.data(), mutant.size());
  return mutant.size();
}

}  // namespace crowdrt::fuzz
