#include "core/progress.h"

#include <unistd.h>

#include <cstdio>

#include "core/log.h"

namespace crowdrt {

Progress::Progress(std::string what, int64_t total, std::string unit)
    : what_(std::move(what)), unit_(std::move(unit)), total_(total),
      terminal_(::isatty(STDERR_FILENO) == 1 && log_level() >= LogLevel::warn),
      start_(std::chrono::steady_clock::now()), last_draw_(start_) {}

Progress::~Progress() {
  if (drew_) {
    draw(true);
    std::fputc('\n', stderr);
  }
}

double Progress::seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Progress::advance(int64_t done) {
  done_ += done;
  if (!terminal_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ < std::chrono::milliseconds(200) && done_ != total_) return;  // redraw 5 times a second at most
  last_draw_ = now;
  draw(false);
}

void Progress::draw(bool final_line) {
  const double elapsed = seconds();
  const double rate = elapsed > 0 ? done_ / elapsed : 0.0;
  char left[32] = "";
  if (total_ > 0 && rate > 0 && !final_line) {
    const long s = static_cast<long>((total_ - done_) / rate + 0.5);
    std::snprintf(left, sizeof left, ", %ld:%02ld left", s / 60, s % 60);
  }
  if (total_ > 0)
    std::fprintf(stderr, "\r%s: %lld/%lld %s, %.1f/s%s\033[K", what_.c_str(), static_cast<long long>(done_),
                 static_cast<long long>(total_), unit_.c_str(), rate, left);
  else
    std::fprintf(stderr, "\r%s: %lld %s, %.1f/s\033[K", what_.c_str(), static_cast<long long>(done_), unit_.c_str(), rate);
  std::fflush(stderr);
  drew_ = true;
}

}  // namespace crowdrt
