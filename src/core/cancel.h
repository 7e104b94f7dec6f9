// Stopping long work when asked (issue 18): SIGINT / SIGTERM in the crowdrt program, and a caller's own stop
// condition in the library (BuildOptions::should_stop) and in Python (Ctrl-C as KeyboardInterrupt). Long loops
// call throw_if_cancelled() between units of work (a frame, a layer, a round of kernel timing), so a stop takes
// effect within a second; the Interrupted exception then unwinds through the AtomicFile / OutputBatch of the work,
// which remove what it was writing.
#pragma once
#include <functional>

#include "core/error.h"

namespace crowdrt {

// What a SIGINT or SIGTERM does to the crowdrt program (install_interrupt_handlers):
enum class InterruptResponse {
  exit,    // remove this process's temporary files and end by the signal (the default: commands that never check)
  cancel,  // ask to stop: the next throw_if_cancelled() throws Interrupted
  finish,  // ask to stop, and the command ends its own way (a live `run` ends its stream and writes what it counted)
};
// A second signal always exits (the temporaries removed). Installed once by the program's main(); it also ignores
// SIGXFSZ, so that a file-size limit (ulimit -f) fails the write (EFBIG), naming the file, instead of killing.
void install_interrupt_handlers();

// Sets the response while it lives; the previous one comes back after.
class InterruptResponseScope {
 public:
  explicit InterruptResponseScope(InterruptResponse response);
  ~InterruptResponseScope();
  InterruptResponseScope(const InterruptResponseScope&) = delete;
  InterruptResponseScope& operator=(const InterruptResponseScope&) = delete;

 private:
  InterruptResponse previous_;
};

// The signal that asked this process to stop (SIGINT, SIGTERM), or 0.
int interrupt_signal() noexcept;

// A caller's stop condition for the calls this thread makes while the scope lives (scopes nest; any may stop).
// It runs on this thread, from throw_if_cancelled(): at its first check, then at most every 20 ms.
class CancelScope {
 public:
  explicit CancelScope(std::function<bool()> should_stop);
  ~CancelScope();
  CancelScope(const CancelScope&) = delete;
  CancelScope& operator=(const CancelScope&) = delete;

 private:
  friend void throw_if_cancelled();
  std::function<bool()> should_stop_;
  CancelScope* parent_;
};

// What a stopped call throws; its message, "<cause>; <outcome>", starts with "interrupted".
class Interrupted : public Error {
 public:
  Interrupted(const std::string& cause, int signal,
              const std::string& outcome = "stopped before finishing, nothing written")
      : Error(cause + "; " + outcome), cause(cause), signal(signal) {}
  std::string cause;  // "interrupted by SIGINT (Ctrl-C)", "interrupted: the caller asked to stop"
  int signal;         // the signal that asked; 0: a caller (CancelScope)
};

// Throws Interrupted when a signal asked to cancel (InterruptResponse::cancel) or a CancelScope of this thread says
// stop. Cheap enough for every frame, layer or timing round.
void throw_if_cancelled();

}  // namespace crowdrt
