// The counting model's streams, as Triton's sequence batcher keeps them: a frame with sequence_start opens a
// sequence (its optical flow starts from zero), later frames of the same sequence_id continue its flow chain, and
// sequence_end closes it after that frame. A sequence idle longer than the timeout is forgotten.
#pragma once
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "eval/device_frames.h"
#include "serve/zones.h"
#include "vision/network_input.h"

namespace crowdrt::serve::kserve {

// One stream's state. Its mutex is held while one of its frames is processed, so frames run one at a time, and in
// the order their requests reached the table: each takes a ticket there and waits for its turn.
struct Sequence {
  explicit Sequence(const vision::NetworkInputOptions& options) : input(options) {}
  std::mutex mutex;
  std::condition_variable turn;
  uint64_t next_ticket = 0;  // under the table's lock
  uint64_t now_serving = 0;  // under `mutex`
  vision::NetworkInput input;                           // frames prepared on the CPU
  std::unique_ptr<eval::DeviceStreamInput> device_input;  // or on the GPU (CUDA plans), when set
  std::vector<Zone> zones;
  std::optional<ZoneMasks> masks;
  std::optional<ZoneAlerts> alerts;
  int frame_width = 0, frame_height = 0;  // the size the zones were bound to
  int64_t frames = 0;
  bool ended = false;  // set under `mutex` by the frame with sequence_end; later frames are refused
};

// Waits for a ticket's turn and holds the sequence until destroyed, then gives the turn to the next ticket.
class Turn {
 public:
  Turn(Sequence& sequence, uint64_t ticket) : sequence_(sequence), lock_(sequence.mutex) {
    sequence_.turn.wait(lock_, [&] { return sequence_.now_serving == ticket; });
  }
  ~Turn() {
    ++sequence_.now_serving;
    sequence_.turn.notify_all();
  }
  Turn(const Turn&) = delete;
  Turn& operator=(const Turn&) = delete;

 private:
  Sequence& sequence_;
  std::unique_lock<std::mutex> lock_;
};

struct SequenceLimits {
  size_t max_sequences = 64;
  double timeout_seconds = 60;
};

class SequenceTable {
 public:
  explicit SequenceTable(SequenceLimits limits) : limits_(limits) {}

  // A sequence and the ticket of one frame's turn in it; the holder must take its turn (Turn) at once.
  struct Handle {
    std::shared_ptr<Sequence> sequence;
    uint64_t ticket = 0;
  };
  // sequence_start: a fresh sequence for (model, id), replacing a live one of that id. ProtocolError 429 when
  // max_sequences others are live.
  Handle start(const std::string& model, const std::string& id, const std::function<std::shared_ptr<Sequence>()>& make);
  // A live sequence: ProtocolError 400 saying how to start one when it is unknown, ended or expired.
  Handle find(const std::string& model, const std::string& id);
  // Forgets the sequence if it is still this one (after its last frame, or a failed first frame).
  void end(const std::string& model, const std::string& id, const std::shared_ptr<Sequence>& sequence);
  // Forgets every sequence of a model (it was unloaded or reloaded).
  void drop_model(const std::string& model);
  // Live sequences per model, after forgetting the expired ones.
  std::map<std::string, size_t> live();
  const SequenceLimits& limits() const { return limits_; }

 private:
  using Clock = std::chrono::steady_clock;
  struct Entry {
    std::string model;
    std::shared_ptr<Sequence> sequence;
    Clock::time_point last_used;
  };
  void expire(Clock::time_point now);  // with mutex_ held
  SequenceLimits limits_;
  std::mutex mutex_;
  std::map<std::string, Entry> entries_;  // key: model + '\n' + id
};

}  // namespace crowdrt::serve::kserve
