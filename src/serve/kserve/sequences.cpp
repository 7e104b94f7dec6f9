#include "serve/kserve/sequences.h"

#include "core/error.h"
#include "serve/kserve/protocol.h"

namespace crowdrt::serve::kserve {
namespace {
std::string key_of(const std::string& model, const std::string& id) { return model + '\n' + id; }
}  // namespace

void SequenceTable::expire(Clock::time_point now) {
  const auto timeout = std::chrono::duration<double>(limits_.timeout_seconds);
  for (auto it = entries_.begin(); it != entries_.end();) {
    // A sequence whose frame is being processed is in use (the table is not its only owner) and is kept.
    if (now - it->second.last_used > timeout && it->second.sequence.use_count() == 1)
      it = entries_.erase(it);
    else
      ++it;
  }
}

SequenceTable::Handle SequenceTable::start(const std::string& model, const std::string& id,
                                          const std::function<std::shared_ptr<Sequence>()>& make) {
  std::shared_ptr<Sequence> sequence = make();  // outside the lock: it makes the flow's state
  std::lock_guard lock(mutex_);
  const Clock::time_point now = Clock::now();
  expire(now);
  const std::string key = key_of(model, id);
  if (!entries_.count(key) && entries_.size() >= limits_.max_sequences)
    throw ProtocolError(
        429,
        cat(entries_.size(), " sequences are live, the most this server keeps (--max-sequences ", limits_.max_sequences,
            "): end one with sequence_end, or retry once idle ones expire (", limits_.timeout_seconds, " s)"));
  entries_[key] = Entry{model, sequence, now};
  return {sequence, sequence->next_ticket++};
}

SequenceTable::Handle SequenceTable::find(const std::string& model, const std::string& id) {
  std::lock_guard lock(mutex_);
  const Clock::time_point now = Clock::now();
  expire(now);
  auto it = entries_.find(key_of(model, id));
  if (it == entries_.end())
    throw ProtocolError(
        400, cat("sequence ", id, " of model '", model, "' is not live (never started, ended, or idle for more than ",
                 limits_.timeout_seconds, " s): send its first frame with the parameter sequence_start: true"));
  it->second.last_used = now;
  return {it->second.sequence, it->second.sequence->next_ticket++};
}

void SequenceTable::end(const std::string& model, const std::string& id, const std::shared_ptr<Sequence>& sequence) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(key_of(model, id));
  if (it != entries_.end() && it->second.sequence == sequence) entries_.erase(it);
}

void SequenceTable::drop_model(const std::string& model) {
  std::lock_guard lock(mutex_);
  for (auto it = entries_.begin(); it != entries_.end();)
    it = it->second.model == model ? entries_.erase(it) : std::next(it);
}

std::map<std::string, size_t> SequenceTable::live() {
  std::lock_guard lock(mutex_);
  expire(Clock::now());
  std::map<std::string, size_t> out;
  for (const auto& [_, e] : entries_) ++out[e.model];
  return out;
}

}  // namespace crowdrt::serve::kserve
