#include "core/memory_plan.h"

#include <algorithm>
#include <cstdint>
#include <numeric>

namespace crowdrt {

MemoryPlan plan_memory(std::span<const BufferRequest> requests, size_t alignment) {
  MemoryPlan plan;
  plan.offsets.assign(requests.size(), 0);
  std::vector<size_t> order(requests.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return requests[a].bytes > requests[b].bytes; });
  auto round_up = [&](size_t n) { return (n + alignment - 1) / alignment * alignment; };
  std::vector<size_t> placed;
  for (size_t r : order) {
    const BufferRequest& req = requests[r];
    // Intervals [offset, end) of placed buffers whose lifetimes meet this one, sorted by offset.
    std::vector<std::pair<size_t, size_t>> busy;
    for (size_t p : placed) {
      const BufferRequest& o = requests[p];
      if (o.last_step < req.first_step || req.last_step < o.first_step) continue;
      busy.emplace_back(plan.offsets[p], plan.offsets[p] + round_up(o.bytes));
    }
    std::sort(busy.begin(), busy.end());
    const size_t need = round_up(req.bytes);
    size_t best = SIZE_MAX, best_gap = SIZE_MAX, cursor = 0;
    for (const auto& [begin, end] : busy) {
      if (begin > cursor && begin - cursor >= need && begin - cursor < best_gap) {
        best = cursor;
        best_gap = begin - cursor;
      }
      cursor = std::max(cursor, end);
    }
    plan.offsets[r] = best != SIZE_MAX ? best : cursor;
    plan.total_bytes = std::max(plan.total_bytes, plan.offsets[r] + need);
    placed.push_back(r);
  }
  return plan;
}

}  // namespace crowdrt
