// Progress of long work (frames done, rate, time left) redrawn on one line when stderr is a terminal;
// silent otherwise, so that logs and pipes stay clean.
#pragma once
#include <chrono>
#include <cstdint>
#include <string>

namespace crowdrt {

class Progress {
 public:
  // total <= 0: unknown, no time left shown.
  Progress(std::string what, int64_t total, std::string unit = "frames");
  ~Progress();  // ends the line it drew, if any
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;
  void advance(int64_t done = 1);
  int64_t done() const { return done_; }
  double seconds() const;

 private:
  void draw(bool final_line);
  std::string what_, unit_;
  int64_t total_, done_ = 0;
  bool terminal_;
  bool drew_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace crowdrt
