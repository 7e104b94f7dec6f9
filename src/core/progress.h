// Progress of long work ("eval: 120 of 500 frames, 0:41 elapsed, 2:10 left, 2.9 frames/s") redrawn on one line
// when stderr is a terminal and the log level shows information; silent otherwise, so that logs and pipes stay
// clean.
#pragma once
#include <chrono>
#include <cstdint>
#include <string>

namespace crowdrt {

class Progress {
 public:
  // total <= 0: unknown, no time left shown. unit: what is counted, plural ("frames", "layers").
  Progress(std::string what, int64_t total, std::string unit = "frames");
  ~Progress();  // finish()
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;
  void advance(int64_t done = 1);
  // Draws the final state and ends the line, so that what is printed next starts on a line of its own.
  void finish();
  int64_t done() const { return done_; }
  double seconds() const;

 private:
  void draw(bool final_line);
  std::string what_, unit_;
  int64_t total_, done_ = 0;
  bool terminal_;
  bool drew_ = false, finished_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace crowdrt
