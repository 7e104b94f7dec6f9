// Dynamic batching, as Triton's dynamic_batching: requests of one plan whose batch dimension is B > 1 (each with
// one item: a 1xCxHxW input) wait at most max_queue_delay for others to fill a batch of up to B, run once, and each
// gets its own slice of the outputs. No thread of its own: the oldest waiting request leads its batch (it waits for
// the batch to fill or its delay to pass, then for a free executor, then takes up to B waiting requests, oldest
// first, and runs them); the others wait for their results. Requests leave in the order they came, so a caller that
// submits its next item only after the previous one returned (a sequence's frames) keeps its order.
#pragma once
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace crowdrt::serve::kserve {

// What runs a whole batch (an engine lease): inputs and outputs hold max_batch items each, of which the first
// `items` are requests' (the rest are zeros, their outputs dropped). Throws on failure.
class BatchExecutor {
 public:
  virtual ~BatchExecutor() = default;
  virtual void run(int items, const std::vector<const float*>& inputs, const std::vector<float*>& outputs) = 0;
};
// Waits for a free executor (an engine of the pool) and hands it over for one batch.
using AcquireExecutor = std::function<std::unique_ptr<BatchExecutor>()>;

struct BatcherOptions {
  int max_batch = 1;
  std::chrono::microseconds max_queue_delay{0};
  std::vector<int64_t> item_input_elements, item_output_elements;  // floats per item of each input and output
};

class Batcher {
 public:
  // Error when max_batch < 1, the delay is negative or an input / output has no elements.
  Batcher(BatcherOptions options, AcquireExecutor acquire);

  struct Result {
    double queued_seconds = 0;   // from submit to its batch's start (filling the batch and waiting for an executor)
    double compute_seconds = 0;  // the executor's run of its batch
    int batch_items = 0;         // requests in the batch that ran it
    bool leader = false;         // this request led its batch: one per batch, for counting batches
  };
  // Runs one item (one pointer per input and output, item_*_elements floats each) as part of a batch; returns when
  // its outputs are written. Rethrows what the executor threw for this item: when a batch of several fails, each of
  // its items is run again alone, so that an error reaches only the requests it belongs to.
  Result run(const std::vector<const float*>& inputs, const std::vector<float*>& outputs);

  const BatcherOptions& options() const { return options_; }

 private:
  struct Pending;
  using Clock = std::chrono::steady_clock;
  void execute(const std::vector<Pending*>& batch, BatchExecutor& executor) const;

  BatcherOptions options_;
  AcquireExecutor acquire_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Pending*> queue_;
  bool leading_ = false;  // a request is forming the next batch
};

}  // namespace crowdrt::serve::kserve
