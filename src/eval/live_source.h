// Live frames: a camera (its index), a V4L2 device (/dev/video0), a network stream (rtsp://, http://, https:// and
// FFmpeg's other URLs) or a GStreamer pipeline (text with " ! "), read through OpenCV's videoio by a thread of its
// own into a small queue. When the consumer falls behind, the drop policy decides: `oldest` discards the oldest
// queued frame (live counting wants the newest), `none` makes the reader wait. A lost stream is reopened with
// back-off (0.5 s doubling to 8 s); the first frame after it is marked, since the optical flow must restart there.
// Every frame read is counted, and so is every frame dropped, so nothing is lost silently.
#pragma once
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <opencv2/core.hpp>
#include <opencv2/videoio.hpp>
#include <string>
#include <thread>

namespace crowdrt::eval {

enum class LiveDrop { oldest, none };
// "oldest" or "none"; Error naming the word otherwise.
LiveDrop parse_live_drop(const std::string& word);
const char* live_drop_name(LiveDrop drop);

struct LiveOptions {
  LiveDrop drop = LiveDrop::oldest;
  int queue = 2;                 // frames read ahead of the consumer
  int reconnect_attempts = 10;   // after a lost stream, before giving up (0: the run ends when the stream does)
  double open_timeout_s = 5;     // connecting (FFmpeg URLs)
  double read_timeout_s = 5;     // a stream silent this long counts as lost (FFmpeg URLs)
  double first_backoff_s = 0.5;  // wait before the first reconnect attempt, doubled after each failure
  double max_backoff_s = 8;
  // Polled (every 0.2 s while waiting): true ends the source as if it had ended (a program's Ctrl-C).
  std::function<bool()> interrupted;
};

// What a live source did so far. read = delivered + dropped + queued (frames still waiting in the queue).
struct LiveCounters {
  int64_t read = 0;
  int64_t delivered = 0;
  int64_t dropped = 0;
  int64_t queued = 0;
  int reconnects = 0;
  double gap_seconds = 0;  // time between losing the stream and its next frame, summed over the reconnects
  bool gave_up = false;    // the stream was lost and could not be reopened
  bool interrupted = false;  // LiveOptions::interrupted ended it
};

// Whether `input` names a live source: digits only (a camera index), /dev/video*, a URL other than file://
// (scheme://...), or a GStreamer pipeline (contains " ! ").
bool is_live_input(const std::string& input);
// The path of a file:// URL (percent escapes decoded); `input` unchanged when it is no file:// URL.
std::string file_url_path(const std::string& input);
// `input` with the password of a URL's user:password@ replaced by ***, for messages.
std::string redact_url(const std::string& input);
// FFmpeg, GStreamer and OpenCV print their own lines when a video or stream fails to open or breaks; crowdrt says
// what happened in one line of its own, so theirs are kept for -v (OPENCV_FFMPEG_LOGLEVEL, when set, still wins).
// Called before OpenCV opens any video or stream.
void quiet_video_backends();

class LiveSource {
 public:
  // Opens the source, reads its first frame and starts reading; Error (one line naming the source and what to
  // check) when that fails within the open and read timeouts.
  LiveSource(std::string input, LiveOptions options);
  ~LiveSource();
  LiveSource(const LiveSource&) = delete;
  LiveSource& operator=(const LiveSource&) = delete;

  // The next frame (BGR uint8), waiting for it; false once the stream ended for good or after stop().
  // after_gap: the frame follows a reconnect (the optical flow restarts at it).
  bool next(cv::Mat& bgr, bool& after_gap);
  // Stops reading (joins the reader); frames still queued stay counted as `queued`.
  void stop();
  // next() returns false from `deadline` on, also while it waits for a frame (--duration).
  void end_at(std::chrono::steady_clock::time_point deadline);

  LiveCounters counters() const;
  const std::string& name() const { return name_; }  // for messages (a URL's password hidden)
  cv::Size frame_size() const { return frame_size_; }
  double fps() const { return fps_; }  // 0 when the source does not say
  const LiveOptions& options() const { return options_; }

 private:
  struct Item {
    cv::Mat bgr;
    bool after_gap = false;
  };
  bool open_capture(cv::VideoCapture& capture) const;
  bool read_frame(cv::VideoCapture& capture, cv::Mat& bgr) const;
  void push(cv::Mat bgr, bool after_gap);
  void read_loop();
  bool reconnect();              // on the reader thread; false: gave up or stopping
  bool wait_stopping(double s);  // sleeps up to s seconds; true when stop() was called meanwhile

  std::string input_, name_;
  LiveOptions options_;
  cv::VideoCapture capture_;
  cv::Size frame_size_;
  double fps_ = 0;
  std::thread reader_;
  mutable std::mutex mutex_;
  std::condition_variable ready_, space_, stopping_changed_;
  std::deque<Item> queue_;
  std::optional<std::chrono::steady_clock::time_point> deadline_;
  LiveCounters counters_;
  bool ended_ = false, stopping_ = false;
  std::exception_ptr error_;
};

}  // namespace crowdrt::eval
