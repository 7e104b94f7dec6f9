// Where frames come from: a VisDrone-CC sequence (with its annotations), a folder of images, one image, or a
// video file. Each source is read frame after frame, once, by one thread.
#pragma once
#include <functional>
#include <memory>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "data/visdrone.h"

namespace crowdrt::eval {

class FrameReader {
 public:
  virtual ~FrameReader() = default;
  // The next BGR uint8 frame; false after the last one. Error naming the file on a broken frame.
  virtual bool read(cv::Mat& bgr) = 0;
};

struct SequenceSource {
  std::string name;
  std::function<std::unique_ptr<FrameReader>()> open;
  std::vector<std::vector<data::Head>> heads;  // per frame; empty when the source has no annotations
  bool annotated = false;
  int64_t frames = -1;                          // -1: unknown until read (some videos)
};

SequenceSource dataset_sequence(const data::Sequence& sequence);
SequenceSource image_sequence(std::string name, std::vector<std::string> paths);
SequenceSource video_sequence(const std::string& path);

// `crowdrt run --input`: a video file, a folder of images (sorted by name) or one image. Error saying which
// kinds are accepted when the path is none of them.
SequenceSource input_sequence(const std::string& path);

}  // namespace crowdrt::eval
