#include "eval/live_source.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <opencv2/core/utils/logger.hpp>
#include <opencv2/imgproc.hpp>

#include "core/error.h"
#include "core/log.h"

namespace crowdrt::eval {
namespace {

using Clock = std::chrono::steady_clock;

bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
}

// The scheme of "scheme://...", lower case; empty when `input` is no URL.
std::string url_scheme(const std::string& input) {
  const size_t end = input.find("://");
  if (end == std::string::npos || end == 0) return "";
  std::string scheme = input.substr(0, end);
  if (!std::isalpha(static_cast<unsigned char>(scheme[0]))) return "";
  for (char& c : scheme) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (!std::isalnum(u) && c != '+' && c != '-' && c != '.') return "";
    c = static_cast<char>(std::tolower(u));
  }
  return scheme;
}

bool is_gstreamer_pipeline(const std::string& input) { return input.find(" ! ") != std::string::npos; }
bool is_device_path(const std::string& input) { return input.rfind("/dev/", 0) == 0; }

std::string seconds_text(double s) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.1f", s);
  return text;
}

}  // namespace

LiveDrop parse_live_drop(const std::string& word) {
  if (word == "oldest") return LiveDrop::oldest;
  if (word == "none") return LiveDrop::none;
  throw Error(
      cat("--live-drop '", word, "': choose oldest (drop the oldest waiting frame when behind) or none (wait)"));
}

const char* live_drop_name(LiveDrop drop) { return drop == LiveDrop::oldest ? "oldest" : "none"; }

bool is_live_input(const std::string& input) {
  if (all_digits(input) || is_gstreamer_pipeline(input)) return true;
  if (input.rfind("/dev/video", 0) == 0) return true;
  const std::string scheme = url_scheme(input);
  return !scheme.empty() && scheme != "file";
}

std::string file_url_path(const std::string& input) {
  if (url_scheme(input) != "file") return input;
  std::string rest = input.substr(input.find("://") + 3);
  if (rest.rfind("localhost/", 0) == 0) rest = rest.substr(9);  // file://localhost/path
  std::string path;
  for (size_t i = 0; i < rest.size(); ++i) {
    if (rest[i] == '%' && i + 2 < rest.size() && std::isxdigit(static_cast<unsigned char>(rest[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(rest[i + 2]))) {
      path += static_cast<char>(std::stoi(rest.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      path += rest[i];
    }
  }
  return path;
}

std::string redact_url(const std::string& input) {
  if (url_scheme(input).empty()) return input;
  const size_t start = input.find("://") + 3;
  const size_t at = input.find('@', start), slash = input.find('/', start);
  if (at == std::string::npos || (slash != std::string::npos && slash < at)) return input;
  const size_t colon = input.find(':', start);
  if (colon == std::string::npos || colon > at) return input;
  return input.substr(0, colon + 1) + "***" + input.substr(at);
}

void quiet_video_backends() {
  if (log_level() >= LogLevel::verbose) return;
  setenv("OPENCV_FFMPEG_LOGLEVEL", "-8", 0);  // AV_LOG_QUIET, read when OpenCV first opens something with FFmpeg
  cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_ERROR);
}

LiveSource::LiveSource(std::string input, LiveOptions options)
    : input_(std::move(input)), name_(redact_url(input_)), options_(options) {
  if (options_.queue < 1)
    throw Error(cat("live input: the queue holds ", options_.queue, " frames; it needs at least 1"));
  if (options_.reconnect_attempts < 0)
    throw Error(cat("--reconnect ", options_.reconnect_attempts, ": give 0 (never) or a number of attempts"));
  if (is_device_path(input_) && !std::filesystem::exists(input_))
    throw Error(cat(input_, ": no such device; check that the camera is connected (ls /dev/video*)"));
  quiet_video_backends();
  if (!open_capture(capture_)) {
    if (all_digits(input_))
      throw Error(cat("camera ", input_, ": cannot open it; check that a camera is connected (ls /dev/video*) and that "
                      "you may use it (the video group)"));
    if (is_gstreamer_pipeline(input_))
      throw Error(cat("GStreamer pipeline '", input_, "': cannot start it; check its elements (gst-inspect-1.0) and "
                      "that it ends in appsink"));
    if (is_device_path(input_))
      throw Error(cat(input_, ": cannot open it as a V4L2 camera; check that it captures video (v4l2-ctl "
                      "--list-devices) and that you may use it (the video group)"));
    throw Error(cat(name_, ": cannot open the stream (refused, no answer within ",
                    seconds_text(options_.open_timeout_s),
                    " s, or no video in it); check the address and port, that the server is running and that it "
                    "sends video"));
  }
  cv::Mat first;
  if (!read_frame(capture_, first))
    throw Error(cat(name_, ": opened, but no frame came within ", seconds_text(options_.read_timeout_s),
                    " s; check that the source is sending video"));
  frame_size_ = first.size();
  const double fps = capture_.get(cv::CAP_PROP_FPS);
  fps_ = fps > 0 && fps < 1000 ? fps : 0;
  queue_.push_back({std::move(first), false});
  counters_.read = 1;
  // Reading starts now: a camera or an RTSP stream over UDP that is not read loses frames unseen, while frames read
  // and dropped here are counted.
  reader_ = std::thread([this] { read_loop(); });
}

LiveSource::~LiveSource() { stop(); }

bool LiveSource::open_capture(cv::VideoCapture& capture) const {
  capture.release();
  try {
    if (all_digits(input_)) {
      if (input_.size() > 6) return false;
      return capture.open(std::stoi(input_), cv::CAP_ANY);
    }
    if (is_gstreamer_pipeline(input_)) return capture.open(input_, cv::CAP_GSTREAMER);
    if (is_device_path(input_)) return capture.open(input_, cv::CAP_V4L2);
    const int open_ms = static_cast<int>(options_.open_timeout_s * 1000),
              read_ms = static_cast<int>(options_.read_timeout_s * 1000);
    return capture.open(input_, cv::CAP_FFMPEG,
                        {cv::CAP_PROP_OPEN_TIMEOUT_MSEC, open_ms, cv::CAP_PROP_READ_TIMEOUT_MSEC, read_ms});
  } catch (const cv::Exception&) {  // a backend that refuses the source: the same as failing to open it
    return false;
  }
}

// A frame as 8-bit BGR (cameras may give gray or BGRA); false when the source gave none.
bool LiveSource::read_frame(cv::VideoCapture& capture, cv::Mat& bgr) const {
  cv::Mat frame;
  try {
    if (!capture.read(frame) || frame.empty()) return false;
  } catch (const cv::Exception&) {
    return false;
  }
  if (frame.type() == CV_8UC3) {
    bgr = frame;
  } else if (frame.type() == CV_8UC1) {
    cv::cvtColor(frame, bgr, cv::COLOR_GRAY2BGR);
  } else if (frame.type() == CV_8UC4) {
    cv::cvtColor(frame, bgr, cv::COLOR_BGRA2BGR);
  } else {
    throw Error(cat(name_, ": frames of OpenCV type ", frame.type(), ", not 8-bit colour; convert them in the source "
                    "(a GStreamer pipeline: videoconvert ! video/x-raw,format=BGR ! appsink)"));
  }
  return true;
}

bool LiveSource::next(cv::Mat& bgr, bool& after_gap) {
  std::unique_lock lock(mutex_);
  const auto ready = [&] { return !queue_.empty() || ended_ || stopping_; };
  for (;;) {
    auto until = Clock::now() + std::chrono::milliseconds(200);
    if (deadline_ && *deadline_ < until) until = *deadline_;
    if (ready_.wait_until(lock, until, ready)) break;
    if (options_.interrupted && options_.interrupted()) {
      counters_.interrupted = true;
      return false;
    }
    if (deadline_ && Clock::now() >= *deadline_) return false;
  }
  if (options_.interrupted && options_.interrupted()) {
    counters_.interrupted = true;
    return false;
  }
  if (stopping_ || queue_.empty()) {
    if (error_) std::rethrow_exception(error_);
    return false;
  }
  bgr = std::move(queue_.front().bgr);
  after_gap = queue_.front().after_gap;
  queue_.pop_front();
  ++counters_.delivered;
  space_.notify_one();
  return true;
}

void LiveSource::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  ready_.notify_all();
  space_.notify_all();
  stopping_changed_.notify_all();
  if (reader_.joinable()) reader_.join();
}

void LiveSource::end_at(Clock::time_point deadline) {
  {
    std::lock_guard lock(mutex_);
    deadline_ = deadline;
  }
  ready_.notify_all();
}

LiveCounters LiveSource::counters() const {
  std::lock_guard lock(mutex_);
  LiveCounters c = counters_;
  c.queued = c.read - c.delivered - c.dropped;
  return c;
}

void LiveSource::push(cv::Mat bgr, bool after_gap) {
  std::unique_lock lock(mutex_);
  ++counters_.read;
  const size_t capacity = static_cast<size_t>(options_.queue);
  if (options_.drop == LiveDrop::none) {
    space_.wait(lock, [&] { return queue_.size() < capacity || stopping_; });
    if (stopping_) return;  // read, never delivered: counted as queued
  }
  while (queue_.size() >= capacity) {
    after_gap = after_gap || queue_.front().after_gap;  // the flow still restarts after a gap whose frame was dropped
    queue_.pop_front();
    ++counters_.dropped;
  }
  queue_.push_back({std::move(bgr), after_gap});
  ready_.notify_one();
}

bool LiveSource::wait_stopping(double seconds) {
  std::unique_lock lock(mutex_);
  const auto until = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  while (!stopping_changed_.wait_until(lock, std::min(until, Clock::now() + std::chrono::milliseconds(200)),
                                       [&] { return stopping_; })) {
    if (options_.interrupted && options_.interrupted()) return true;
    if (Clock::now() >= until) return false;
  }
  return true;
}

void LiveSource::read_loop() {
  try {
    for (;;) {
      {
        std::lock_guard lock(mutex_);
        if (stopping_) break;
      }
      cv::Mat bgr;
      if (read_frame(capture_, bgr)) {
        push(std::move(bgr), false);
        continue;
      }
      {
        std::lock_guard lock(mutex_);
        if (stopping_) break;
      }
      if (!reconnect()) break;
    }
  } catch (...) {
    std::lock_guard lock(mutex_);
    error_ = std::current_exception();
  }
  capture_.release();
  {
    std::lock_guard lock(mutex_);
    ended_ = true;
  }
  ready_.notify_all();
}

bool LiveSource::reconnect() {
  const auto lost = Clock::now();
  const int attempts = options_.reconnect_attempts;
  const int64_t read = counters().read;
  if (attempts == 0) {
    log_warn(cat(name_, ": the stream ended after ", read, " frames; not reopened (reconnect attempts: 0)"));
    std::lock_guard lock(mutex_);
    counters_.gave_up = true;
    return false;
  }
  log_warn(cat(name_, ": stream lost after ", read, " frames; reconnecting (up to ", attempts, " attempts)"));
  double wait = options_.first_backoff_s;
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    if (wait_stopping(wait)) return false;
    cv::Mat first;
    if (open_capture(capture_) && read_frame(capture_, first)) {
      const double gap = std::chrono::duration<double>(Clock::now() - lost).count();
      log_warn(cat(name_, ": reconnected after ", seconds_text(gap), " s (attempt ", attempt, " of ", attempts,
                   "); the optical flow restarts"));
      {
        std::lock_guard lock(mutex_);
        ++counters_.reconnects;
        counters_.gap_seconds += gap;
      }
      push(std::move(first), true);
      return true;
    }
    wait = std::min(wait * 2, options_.max_backoff_s);
  }
  log_warn(cat(name_, ": gave up after ", attempts, " reconnect attempts in ",
               seconds_text(std::chrono::duration<double>(Clock::now() - lost).count()), " s; no more frames"));
  std::lock_guard lock(mutex_);
  counters_.gave_up = true;
  return false;
}

}  // namespace crowdrt::eval
