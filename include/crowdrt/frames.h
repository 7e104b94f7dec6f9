// Frames in, network input out: reading a video or images, and the seed's input recipe
// (resize, RGB / 255, DIS optical flow warm-started from the previous frame, NCHW float32).
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "crowdrt/export.h"
#include "crowdrt/tensor.h"

namespace crowdrt {
inline namespace v0 {

// An 8-bit BGR image in caller memory (OpenCV's order, as cv::imread and cv2.imread give it), not copied.
struct FrameView {
  const std::uint8_t* bgr = nullptr;
  int width = 0;
  int height = 0;
  std::ptrdiff_t row_bytes = 0;  // distance between rows; 0 means width * 3 (rows back to back)
};

// An 8-bit BGR image that owns its pixels (rows back to back).
struct Frame {
  int width = 0;
  int height = 0;
  std::vector<std::uint8_t> bgr;

  FrameView view() const { return FrameView{bgr.data(), width, height, 0}; }
  operator FrameView() const { return view(); }  // NOLINT: implicit on purpose
};

// How a FrameSource reads a live source.
struct FrameSourceOptions {
  // When next() is called more slowly than frames come: "oldest" drops the oldest waiting frame (a queue of 2),
  // "none" makes the source wait (a stream then falls behind real time).
  std::string live_drop = "oldest";
  // Attempts to reopen a lost stream (waiting 0.5 s, doubling to 8 s) before next() returns false; 0: none.
  int reconnect = 10;
};

// Frames of a video file, of a folder of images (.jpg, .jpeg, .png, sorted by name), of one image (also as a
// file:// URL), or of a live source: a camera index ("0"), a V4L2 device ("/dev/video0"), a stream URL (rtsp://,
// http://, https:// and FFmpeg's other URLs) or a GStreamer pipeline (elements joined by " ! ", ending in appsink).
class CROWDRT_API FrameSource {
 public:
  // Error when the path does not exist, is a folder without images, or cannot be decoded; for a live source, when
  // it cannot be opened or gives no frame within 5 s (the message names it and what to check).
  explicit FrameSource(const std::string& path);
  FrameSource(const std::string& input, const FrameSourceOptions& options);
  ~FrameSource();
  FrameSource(FrameSource&&) noexcept;
  FrameSource& operator=(FrameSource&&) noexcept;

  // Fills `frame` with the next frame; false (frame untouched) after the last one.
  // Error when an image of a folder cannot be decoded.
  bool next(Frame& frame);
  // Frames returned so far.
  std::int64_t position() const;
  const std::string& path() const;
  bool live() const;
  // Whether the frame last returned follows a gap in a live stream (it was lost and reopened): its optical flow
  // must start afresh, so call Engine::reset() (or Preprocessor::reset()) before counting it.
  bool after_gap() const;
  // Live sources: frames dropped so far (live_drop "oldest") and reconnects; 0 for files.
  std::int64_t dropped() const;
  int reconnects() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

struct PreprocessOptions {
  int width = 608;               // network input width and height
  int height = 608;
  int channels = 5;              // 5: R, G, B, flow x, flow y; 3: R, G, B (no flow is computed)
  std::string flow = "medium";   // DIS preset: ultrafast, fast or medium
  std::string variant = "eval";  // eval: resize, then flow (the seed's eval.py); calib: flow at source size,
                                 // then resize (the seed's calibrator)
};

// Frames of one sequence into network inputs (1 x channels x height x width). Keeps the flow state from
// frame to frame; call reset() between sequences (the seed's eval.py never resets; crowdrt does by choice).
// Calls on one Preprocessor run one at a time.
class CROWDRT_API Preprocessor {
 public:
  // Error for channels other than 3 or 5, an unknown flow preset or variant, or a non-positive size.
  explicit Preprocessor(const PreprocessOptions& options = {});
  ~Preprocessor();
  Preprocessor(Preprocessor&&) noexcept;
  Preprocessor& operator=(Preprocessor&&) noexcept;

  // The network input of the next frame of the sequence. Error for an empty frame or a frame whose size
  // differs from the sequence's earlier frames.
  Tensor process(const FrameView& frame);
  // The next frame starts a new sequence (flow from zero).
  void reset();
  const PreprocessOptions& options() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace v0
}  // namespace crowdrt
