// Engines of one plan shared by concurrent requests: an engine runs one inference at a time (one arena), so each
// request borrows one for its inference and waits while all are busy, as Triton's model instances do.
#pragma once
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/runtime.h"

namespace crowdrt::serve::kserve {

class EnginePool {
 public:
  // Loads the plan `instances` times (Error as Engine::load).
  EnginePool(const std::string& plan_path, int instances, const RuntimeOptions& options);

  // An engine for the lease's lifetime; waited_seconds is how long the request queued for it.
  class Lease {
   public:
    Lease(EnginePool& pool, Engine& engine, double waited_seconds)
        : pool_(&pool), engine_(&engine), waited_(waited_seconds) {}
    Lease(Lease&& other) noexcept : pool_(other.pool_), engine_(other.engine_), waited_(other.waited_) {
      other.pool_ = nullptr;
    }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (pool_) pool_->give_back(engine_);
    }
    Engine& engine() { return *engine_; }
    double waited_seconds() const { return waited_; }

   private:
    EnginePool* pool_;
    Engine* engine_;
    double waited_;
  };
  Lease acquire();

  const Engine& first() const { return *engines_.front(); }
  Engine& first() { return *engines_.front(); }
  size_t size() const { return engines_.size(); }

 private:
  void give_back(Engine* engine);
  std::vector<std::unique_ptr<Engine>> engines_;
  std::vector<Engine*> idle_;
  std::mutex mutex_;
  std::condition_variable available_;
};

}  // namespace crowdrt::serve::kserve
