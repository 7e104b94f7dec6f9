#include "serve/kserve/engine_pool.h"

#include "core/error.h"

namespace crowdrt::serve::kserve {

EnginePool::EnginePool(const std::string& plan_path, int instances, const RuntimeOptions& options) {
  if (instances < 1) throw Error(cat(plan_path, ": instance_count ", instances, " must be at least 1"));
  for (int i = 0; i < instances; ++i) {
    engines_.push_back(std::make_unique<Engine>(Engine::load(plan_path, options)));
    idle_.push_back(engines_.back().get());
  }
}

EnginePool::Lease EnginePool::acquire() {
  const auto start = std::chrono::steady_clock::now();
  std::unique_lock lock(mutex_);
  available_.wait(lock, [&] { return !idle_.empty(); });
  Engine* engine = idle_.back();
  idle_.pop_back();
  return Lease(*this, *engine, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
}

void EnginePool::give_back(Engine* engine) {
  {
    std::lock_guard lock(mutex_);
    idle_.push_back(engine);
  }
  available_.notify_one();
}

}  // namespace crowdrt::serve::kserve
