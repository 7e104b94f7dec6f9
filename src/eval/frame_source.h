// Where frames come from: a VisDrone-CC sequence (with its annotations), a folder of images, one image, a
// video file, or a live source (eval/live_source.h). Each source is read frame after frame, once, by one thread.
#pragma once
#include <chrono>
#include <functional>
#include <memory>
#include <opencv2/core.hpp>
#include <opencv2/videoio.hpp>
#include <string>
#include <vector>

#include "data/visdrone.h"
#include "eval/live_source.h"

namespace crowdrt::eval {

class FrameReader {
 public:
  virtual ~FrameReader() = default;
  // The next BGR uint8 frame; false after the last one. Error naming the file on a broken frame.
  virtual bool read(cv::Mat& bgr) = 0;
  // Whether the frame last read follows a break in the source (a live stream reconnected): the optical flow
  // restarts at it.
  virtual bool follows_gap() const { return false; }
  // read() returns false from `deadline` on, also while it waits for a frame (only live sources wait).
  virtual void end_at(std::chrono::steady_clock::time_point /*deadline*/) {}
};

struct SequenceSource {
  std::string name;
  std::function<std::unique_ptr<FrameReader>()> open;
  std::vector<std::vector<data::Head>> heads;  // per frame; empty when the source has no annotations
  bool annotated = false;
  int64_t frames = -1;                          // -1: unknown until read (some videos, live sources)
  double fps = 0;                               // the frame rate the source states; 0: unknown
  cv::Size frame_size;                          // known before reading (live sources); empty: read a frame
  std::shared_ptr<LiveSource> live;             // live sources: what was read, dropped and reconnected
};

SequenceSource dataset_sequence(const data::Sequence& sequence);
SequenceSource image_sequence(std::string name, std::vector<std::string> paths);
// A video file, probed now: Error naming it when it is not a regular file, cannot be opened, or yields no frame
// (an empty or damaged file).
SequenceSource video_sequence(const std::string& path);

// Opens a video file (not a live source) with OpenCV's FFmpeg backend, its logs quietened; Error naming the
// file, in one line, when it is not a regular file or cannot be opened.
void open_video_file(cv::VideoCapture& capture, const std::string& path);

// A live source, opened now (Error naming it and what to check when it cannot be).
SequenceSource live_sequence(const std::string& input, const LiveOptions& options);

// `crowdrt run --input`: a video file, a folder of images (sorted by name), one image, a file:// URL of one of
// these, or a live source (eval::is_live_input). Error saying which kinds are accepted when it is none of them.
SequenceSource input_sequence(const std::string& input, const LiveOptions& live = {});

// The source cut to its first max_frames frames and to max_seconds from its first read (0: no bound).
SequenceSource bounded_sequence(SequenceSource source, int64_t max_frames, double max_seconds);

}  // namespace crowdrt::eval
