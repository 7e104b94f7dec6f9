#include "core/cancel.h"

#include <signal.h>

#include <atomic>
#include <cerrno>
#include <chrono>

#include "core/atomic_file.h"

namespace crowdrt {
namespace {

// Read and written by the signal handler: lock-free atomics only.
std::atomic<int> response_now{static_cast<int>(InterruptResponse::exit)};
std::atomic<int> requested_by{0};
static_assert(std::atomic<int>::is_always_lock_free);

void on_interrupt(int signal) {
  const int saved_errno = errno;
  int none = 0;
  if (response_now.load() != static_cast<int>(InterruptResponse::exit) &&
      requested_by.compare_exchange_strong(none, signal)) {
    errno = saved_errno;
    return;
  }
  remove_live_temporaries();
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  sigemptyset(&default_action.sa_mask);
  ::sigaction(signal, &default_action, nullptr);
  ::raise(signal);  // delivered when the handler returns: the process ends by the signal, as without a handler
  errno = saved_errno;
}

const char* signal_words(int signal) {
  switch (signal) {
    case SIGINT: return "SIGINT (Ctrl-C)";
    case SIGTERM: return "SIGTERM";
    default: return "a signal";
  }
}

thread_local CancelScope* innermost_scope = nullptr;
thread_local std::chrono::steady_clock::time_point last_scope_check{};

}  // namespace

void install_interrupt_handlers() {
  struct sigaction action {};
  action.sa_handler = on_interrupt;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);
  ::signal(SIGXFSZ, SIG_IGN);
}

InterruptResponseScope::InterruptResponseScope(InterruptResponse response)
    : previous_(static_cast<InterruptResponse>(response_now.exchange(static_cast<int>(response)))) {}

InterruptResponseScope::~InterruptResponseScope() { response_now.store(static_cast<int>(previous_)); }

int interrupt_signal() noexcept { return requested_by.load(); }

CancelScope::CancelScope(std::function<bool()> should_stop)
    : should_stop_(std::move(should_stop)), parent_(innermost_scope) {
  innermost_scope = this;
  last_scope_check = {};  // the first check of a new scope asks at once
}

CancelScope::~CancelScope() { innermost_scope = parent_; }

void throw_if_cancelled() {
  if (const int signal = requested_by.load();
      signal != 0 && response_now.load() == static_cast<int>(InterruptResponse::cancel))
    throw Interrupted(cat("interrupted by ", signal_words(signal)), signal);
  if (innermost_scope == nullptr) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_scope_check < std::chrono::milliseconds(20)) return;
  last_scope_check = now;
  for (CancelScope* s = innermost_scope; s != nullptr; s = s->parent_)
    if (s->should_stop_ && s->should_stop_()) throw Interrupted("interrupted: the caller asked to stop", 0);
}

}  // namespace crowdrt
