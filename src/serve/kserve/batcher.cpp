#include "serve/kserve/batcher.h"

#include <algorithm>
#include <exception>

#include "core/error.h"

namespace crowdrt::serve::kserve {

struct Batcher::Pending {
  const std::vector<const float*>* inputs;
  const std::vector<float*>* outputs;
  Clock::time_point arrived;
  Result result;
  std::exception_ptr error;
  bool done = false;
};

Batcher::Batcher(BatcherOptions options, AcquireExecutor acquire)
    : options_(std::move(options)), acquire_(std::move(acquire)) {
  if (options_.max_batch < 1)
    throw Error(cat("dynamic batching: the batch size ", options_.max_batch, " must be at least 1"));
  if (options_.max_queue_delay.count() < 0)
    throw Error(
        cat("dynamic batching: max_queue_delay_microseconds ", options_.max_queue_delay.count(), " is negative"));
  for (const auto* sizes : {&options_.item_input_elements, &options_.item_output_elements})
    for (int64_t n : *sizes)
      if (n < 1)
        throw Error("dynamic batching: every input and output of a batched plan needs at least one element per item");
  if (!acquire_) throw Error("dynamic batching: no executor");
}

Batcher::Result Batcher::run(const std::vector<const float*>& inputs, const std::vector<float*>& outputs) {
  if (inputs.size() != options_.item_input_elements.size() || outputs.size() != options_.item_output_elements.size())
    throw Error(cat("dynamic batching: an item has ", inputs.size(), " inputs and ", outputs.size(),
                    " outputs; the plan has ", options_.item_input_elements.size(), " and ",
                    options_.item_output_elements.size()));
  Pending me{&inputs, &outputs, Clock::now(), {}, nullptr, false};
  std::unique_lock lock(mutex_);
  queue_.push_back(&me);
  changed_.notify_all();  // a leader waiting for its batch to fill counts this one
  while (!me.done) {
    if (leading_ || queue_.empty() || queue_.front() != &me) {  // taken by a leader, or not first
      changed_.wait(lock);
      continue;
    }
    // The oldest waiting request leads: the batch fills or its delay passes, then an executor comes free (more may
    // arrive meanwhile), then it takes up to max_batch requests from the front, itself first.
    leading_ = true;
    const size_t max_batch = static_cast<size_t>(options_.max_batch);
    changed_.wait_until(lock, me.arrived + options_.max_queue_delay, [&] { return queue_.size() >= max_batch; });
    lock.unlock();
    std::unique_ptr<BatchExecutor> executor;
    try {
      executor = acquire_();
    } catch (...) {
      lock.lock();
      queue_.pop_front();  // `me`: nobody takes from the queue while a request leads
      leading_ = false;
      changed_.notify_all();
      throw;
    }
    lock.lock();
    const auto started = Clock::now();
    std::vector<Pending*> batch;
    while (!queue_.empty() && batch.size() < max_batch) {
      batch.push_back(queue_.front());
      queue_.pop_front();
    }
    leading_ = false;
    changed_.notify_all();  // the next request in line may lead the next batch
    lock.unlock();
    for (Pending* p : batch)
      p->result = {std::chrono::duration<double>(started - p->arrived).count(), 0, static_cast<int>(batch.size()),
                   p == &me};
    execute(batch, *executor);
    executor.reset();
    lock.lock();
    for (Pending* p : batch) p->done = true;
    changed_.notify_all();
  }
  lock.unlock();
  if (me.error) std::rethrow_exception(me.error);
  return me.result;
}

void Batcher::execute(const std::vector<Pending*>& batch, BatchExecutor& executor) const {
  const size_t max_batch = static_cast<size_t>(options_.max_batch);
  const auto run_items = [&](const std::vector<Pending*>& items) {
    std::vector<std::vector<float>> in(options_.item_input_elements.size()), out(options_.item_output_elements.size());
    std::vector<const float*> in_ptrs;
    std::vector<float*> out_ptrs;
    for (size_t t = 0; t < in.size(); ++t) {
      const size_t n = static_cast<size_t>(options_.item_input_elements[t]);
      in[t].assign(n * max_batch, 0.f);
      for (size_t i = 0; i < items.size(); ++i) std::copy_n((*items[i]->inputs)[t], n, in[t].data() + i * n);
      in_ptrs.push_back(in[t].data());
    }
    for (size_t t = 0; t < out.size(); ++t) {
      out[t].assign(static_cast<size_t>(options_.item_output_elements[t]) * max_batch, 0.f);
      out_ptrs.push_back(out[t].data());
    }
    const auto start = Clock::now();
    executor.run(static_cast<int>(items.size()), in_ptrs, out_ptrs);
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    for (Pending* p : items) p->result.compute_seconds = seconds;
    for (size_t t = 0; t < out.size(); ++t) {
      const size_t n = static_cast<size_t>(options_.item_output_elements[t]);
      for (size_t i = 0; i < items.size(); ++i) std::copy_n(out[t].data() + i * n, n, (*items[i]->outputs)[t]);
    }
  };
  try {
    run_items(batch);
  } catch (...) {
    if (batch.size() == 1) {
      batch[0]->error = std::current_exception();
      return;
    }
    for (Pending* p : batch) {  // alone, each request gets its own result or error
      try {
        run_items({p});
        p->result.batch_items = 1;
      } catch (...) {
        p->error = std::current_exception();
      }
    }
  }
}

}  // namespace crowdrt::serve::kserve
