#include "core/progress.h"

#include <unistd.h>

#include <cstdio>

#include "core/log.h"

namespace crowdrt {
namespace {
std::string minutes_seconds(double seconds) {
  const long s = static_cast<long>(seconds + 0.5);
  char text[32];
  std::snprintf(text, sizeof text, "%ld:%02ld", s / 60, s % 60);
  return text;
}
}  // namespace

Progress::Progress(std::string what, int64_t total, std::string unit)
    : what_(std::move(what)), unit_(std::move(unit)), total_(total),
      terminal_(::isatty(STDERR_FILENO) == 1 && log_level() >= LogLevel::info),
      start_(std::chrono::steady_clock::now()), last_draw_(start_) {}

Progress::~Progress() { finish(); }

void Progress::finish() {
  if (finished_) return;
  finished_ = true;
  if (!drew_) return;
  draw(true);
  std::fputc('\n', stderr);
  std::fflush(stderr);
  set_progress_line_open(false);
}

double Progress::seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Progress::advance(int64_t done) {
  done_ += done;
  if (!terminal_ || finished_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ < std::chrono::milliseconds(200) && done_ != total_) return;  // redraw 5 times a second at most
  last_draw_ = now;
  draw(false);
}

void Progress::draw(bool final_line) {
  const double elapsed = seconds();
  const double rate = elapsed > 0 ? done_ / elapsed : 0.0;
  std::string line = what_ + ": " + std::to_string(done_);
  if (total_ > 0) line += " of " + std::to_string(total_);
  line += " " + unit_ + ", " + minutes_seconds(elapsed) + " elapsed";
  if (total_ > 0 && rate > 0 && !final_line && done_ < total_)
    line += ", " + minutes_seconds((total_ - done_) / rate) + " left";
  char speed[64];
  std::snprintf(speed, sizeof speed, ", %.1f %s/s", rate, unit_.c_str());
  line += speed;
  std::fprintf(stderr, "\r%s\033[K", line.c_str());
  std::fflush(stderr);
  drew_ = true;
  set_progress_line_open(true);
}

}  // namespace crowdrt
