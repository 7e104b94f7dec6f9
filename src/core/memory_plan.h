// Places buffers with known lifetimes in one arena so that buffers alive at the same step never overlap.
#pragma once
#include <cstddef>
#include <span>
#include <vector>

namespace crowdrt {

struct BufferRequest {
  size_t bytes = 0;
  int first_step = 0;  // first step that writes it
  int last_step = 0;   // last step that reads it (inclusive)
};

struct MemoryPlan {
  std::vector<size_t> offsets;  // one per request, multiples of the alignment
  size_t total_bytes = 0;
};

// Greedy best fit, largest buffers first; deterministic for the same requests.
MemoryPlan plan_memory(std::span<const BufferRequest> requests, size_t alignment = 64);

}  // namespace crowdrt
