// The dynamic batcher (serve/kserve/batcher.h) with a fake executor: each item is two floats in and one out (their
// sum); an item whose first float is kFailing makes the executor throw.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "core/error.h"
#include "serve/kserve/batcher.h"

using namespace crowdrt;
using namespace crowdrt::serve::kserve;
using namespace std::chrono_literals;

namespace {

constexpr float kFailing = -1.f;

// What every executor of one batcher saw: the batches' item counts and their items' first floats in order.
struct Record {
  std::mutex mutex;
  std::vector<int> batch_sizes;
  std::vector<std::vector<float>> batches;
};

class SumExecutor final : public BatchExecutor {
 public:
  SumExecutor(Record& record, int max_batch) : record_(record), max_batch_(max_batch) {}
  void run(int items, const std::vector<const float*>& inputs, const std::vector<float*>& outputs) override {
    std::vector<float> firsts;
    for (int i = 0; i < items; ++i) firsts.push_back(inputs[0][2 * i]);
    {
      std::lock_guard lock(record_.mutex);
      record_.batch_sizes.push_back(items);
      record_.batches.push_back(firsts);
    }
    for (int i = items; i < max_batch_; ++i)  // the rest of the batch is zeros
      if (inputs[0][2 * i] != 0.f || inputs[0][2 * i + 1] != 0.f) throw std::logic_error("padding is not zero");
    for (float f : firsts)
      if (f == kFailing) throw Error("an item the executor refuses");
    for (int i = 0; i < max_batch_; ++i) outputs[0][i] = inputs[0][2 * i] + inputs[0][2 * i + 1];
  }

 private:
  Record& record_;
  int max_batch_;
};

BatcherOptions sum_options(int max_batch, std::chrono::microseconds delay) {
  BatcherOptions o;
  o.max_batch = max_batch;
  o.max_queue_delay = delay;
  o.item_input_elements = {2};
  o.item_output_elements = {1};
  return o;
}

Batcher sum_batcher(Record& record, int max_batch, std::chrono::microseconds delay) {
  return Batcher(sum_options(max_batch, delay),
                 [&record, max_batch] { return std::make_unique<SumExecutor>(record, max_batch); });
}

// One item through the batcher: its sum, or NAN when it threw.
float sum_of(Batcher& batcher, float a, float b, Batcher::Result* result = nullptr) {
  const float in[2] = {a, b};
  float out = 0;
  try {
    const Batcher::Result r = batcher.run({in}, {&out});
    if (result) *result = r;
  } catch (const Error&) {
    return NAN;
  }
  return out;
}

}  // namespace

TEST(KServeBatcher, CallersArrivingTogetherShareOneBatchAndEachGetsItsOwnSlice) {
  Record record;
  Batcher batcher = sum_batcher(record, 4, 5s);  // a full batch runs at once, long before the delay
  std::vector<float> sums(4);
  std::vector<Batcher::Result> results(4);
  std::vector<std::thread> callers;
  for (int i = 0; i < 4; ++i)
    callers.emplace_back([&, i] { sums[i] = sum_of(batcher, float(i + 1), 100.f * (i + 1), &results[i]); });
  const auto start = std::chrono::steady_clock::now();
  for (std::thread& t : callers) t.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 4s);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(sums[i], 101.f * (i + 1));
    EXPECT_EQ(results[i].batch_items, 4);
  }
  EXPECT_EQ(record.batch_sizes, std::vector<int>{4});
  int leaders = 0;
  for (const Batcher::Result& r : results) leaders += r.leader;
  EXPECT_EQ(leaders, 1);
}

TEST(KServeBatcher, ALoneRequestWaitsTheDelayAndNoLonger) {
  Record record;
  Batcher batcher = sum_batcher(record, 4, 60ms);
  Batcher::Result r;
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(sum_of(batcher, 1, 2, &r), 3.f);
  const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_GE(waited, 0.06);
  EXPECT_LT(waited, 1.0);  // the delay, plus a loaded machine's slack
  EXPECT_GE(r.queued_seconds, 0.06);
  EXPECT_EQ(r.batch_items, 1);
  EXPECT_TRUE(r.leader);

  Batcher at_once = sum_batcher(record, 4, 0us);  // no delay: the request runs as soon as an executor is free
  const auto start0 = std::chrono::steady_clock::now();
  EXPECT_EQ(sum_of(at_once, 1, 2), 3.f);
  EXPECT_LT(std::chrono::steady_clock::now() - start0, 200ms);
}

TEST(KServeBatcher, ManyCallersNeverExceedTheBatchAndKeepEachCallersOrder) {
  // 6 "sequences" of 15 items each, every caller submitting its next item only after the previous one returned
  // (as a sequence's frames do): batches never hold more than 3, never two items of one caller, and each caller's
  // items run in its order.
  Record record;
  Batcher batcher = sum_batcher(record, 3, 20ms);
  constexpr int kCallers = 6, kItems = 15;
  std::atomic<int> wrong{0};
  std::vector<std::thread> callers;
  for (int c = 0; c < kCallers; ++c)
    callers.emplace_back([&, c] {
      for (int k = 0; k < kItems; ++k) {
        const float first = float(c * 1000 + k + 1);
        if (sum_of(batcher, first, 0.5f) != first + 0.5f) ++wrong;
      }
    });
  for (std::thread& t : callers) t.join();
  EXPECT_EQ(wrong, 0);
  std::map<int, int> last;  // caller -> its last item run
  int items = 0, batched = 0;
  for (const std::vector<float>& batch : record.batches) {
    EXPECT_LE(batch.size(), 3u);
    EXPECT_GE(batch.size(), 1u);
    batched += batch.size() > 1;
    std::map<int, int> in_batch;
    for (float f : batch) {
      const int caller = int(f) / 1000, k = int(f) % 1000;
      EXPECT_EQ(++in_batch[caller], 1) << "two items of caller " << caller << " in one batch";
      EXPECT_EQ(k, last[caller] + 1) << "caller " << caller << "'s items out of order";
      last[caller] = k;
      ++items;
    }
  }
  EXPECT_EQ(items, kCallers * kItems);
  EXPECT_GT(batched, 0);  // six callers at once with room for three: some batches hold several
}

TEST(KServeBatcher, AFailingItemFailsOnlyItsOwnRequest) {
  Record record;
  Batcher batcher = sum_batcher(record, 4, 5s);
  std::vector<float> sums(4);
  std::vector<std::thread> callers;
  for (int i = 0; i < 4; ++i)
    callers.emplace_back([&, i] { sums[i] = sum_of(batcher, i == 2 ? kFailing : float(i + 1), 10.f); });
  for (std::thread& t : callers) t.join();
  EXPECT_EQ(sums[0], 11.f);
  EXPECT_EQ(sums[1], 12.f);
  EXPECT_TRUE(std::isnan(sums[2]));
  EXPECT_EQ(sums[3], 14.f);
  // The batch of four failed, then each ran alone.
  EXPECT_EQ(record.batch_sizes, (std::vector<int>{4, 1, 1, 1, 1}));
  // The batcher serves on afterwards.
  callers.clear();
  for (int i = 0; i < 4; ++i) callers.emplace_back([&, i] { sums[i] = sum_of(batcher, float(i + 1), 20.f); });
  for (std::thread& t : callers) t.join();
  EXPECT_EQ(sums, (std::vector<float>{21.f, 22.f, 23.f, 24.f}));
  EXPECT_EQ(record.batch_sizes.back(), 4);
}

TEST(KServeBatcher, AnExecutorThatCannotBeHadFailsTheLeaderAndTheNextLeads) {
  Record record;
  std::atomic<int> asked{0};
  Batcher batcher(sum_options(2, 0us), [&]() -> std::unique_ptr<BatchExecutor> {
    if (asked++ == 0) throw Error("no engine");
    return std::make_unique<SumExecutor>(record, 2);
  });
  EXPECT_TRUE(std::isnan(sum_of(batcher, 1, 1)));
  EXPECT_EQ(sum_of(batcher, 1, 1), 2.f);
}

TEST(KServeBatcher, BadOptionsAreRefused) {
  Record record;
  auto make = [&](BatcherOptions o) { Batcher b(o, [&] { return std::make_unique<SumExecutor>(record, 1); }); };
  EXPECT_THROW(make(sum_options(0, 0us)), Error);
  EXPECT_THROW(make(sum_options(2, -1us)), Error);
  BatcherOptions empty = sum_options(2, 0us);
  empty.item_input_elements = {0};
  EXPECT_THROW(make(empty), Error);
  Batcher b = sum_batcher(record, 2, 0us);
  float out = 0;
  EXPECT_THROW(b.run({}, {&out}), Error);  // one input per item is needed
}
