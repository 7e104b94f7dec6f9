#include <gtest/gtest.h>

#include "core/memory_plan.h"

using namespace crowdrt;

namespace {
bool overlaps(size_t a, size_t an, size_t b, size_t bn) { return a < b + bn && b < a + an; }
}  // namespace

TEST(MemoryPlan, BuffersAliveTogetherNeverOverlap) {
  std::vector<BufferRequest> r = {{100, 0, 2}, {200, 1, 3}, {50, 2, 2}, {300, 3, 5}, {64, 4, 5}, {1000, 0, 0}};
  MemoryPlan plan = plan_memory(r);
  for (size_t i = 0; i < r.size(); ++i) {
    EXPECT_EQ(plan.offsets[i] % 64, 0u);
    EXPECT_LE(plan.offsets[i] + r[i].bytes, plan.total_bytes);
    for (size_t j = i + 1; j < r.size(); ++j) {
      const bool together = !(r[i].last_step < r[j].first_step || r[j].last_step < r[i].first_step);
      if (together) {
        EXPECT_FALSE(overlaps(plan.offsets[i], r[i].bytes, plan.offsets[j], r[j].bytes)) << i << " " << j;
      }
    }
  }
}

TEST(MemoryPlan, BuffersWithDisjointLifetimesShareMemory) {
  std::vector<BufferRequest> r = {{1024, 0, 1}, {1024, 2, 3}, {1024, 4, 5}};
  EXPECT_EQ(plan_memory(r).total_bytes, 1024u);
}
