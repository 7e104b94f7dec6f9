#include "eval/frame_source.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <opencv2/videoio.hpp>

#include "core/error.h"
#include "vision/frame.h"

namespace crowdrt::eval {
namespace {

class ImageFiles final : public FrameReader {
 public:
  explicit ImageFiles(const std::vector<std::string>* paths) : paths_(paths) {}
  bool read(cv::Mat& bgr) override {
    if (next_ >= paths_->size()) return false;
    bgr = vision::decode_frame((*paths_)[next_++]);
    return true;
  }

 private:
  const std::vector<std::string>* paths_;
  size_t next_ = 0;
};

class VideoFile final : public FrameReader {
 public:
  explicit VideoFile(const std::string& path) : path_(path), capture_(path) {
    if (!capture_.isOpened())
      throw Error(cat(path, ": cannot open as a video (OpenCV videoio found no backend or codec for it)"));
  }
  bool read(cv::Mat& bgr) override {
    if (!capture_.read(bgr) || bgr.empty()) return false;
    if (bgr.type() != CV_8UC3) throw Error(cat(path_, ": frame ", index_, " is not 8-bit BGR"));
    ++index_;
    return true;
  }

 private:
  std::string path_;
  cv::VideoCapture capture_;
  int64_t index_ = 0;
};

std::string lower_extension(const std::string& path) {
  std::string e = std::filesystem::path(path).extension().string();
  std::transform(e.begin(), e.end(), e.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return e;
}

}  // namespace

SequenceSource dataset_sequence(const data::Sequence& sequence) {
  SequenceSource s;
  s.name = sequence.name;
  auto paths = std::make_shared<const std::vector<std::string>>(sequence.frames);
  s.open = [paths] { return std::make_unique<ImageFiles>(paths.get()); };
  s.heads = sequence.heads;
  s.heads.resize(sequence.frames.size());
  s.annotated = true;
  s.frames = static_cast<int64_t>(sequence.frames.size());
  return s;
}

SequenceSource image_sequence(std::string name, std::vector<std::string> paths) {
  SequenceSource s;
  s.name = std::move(name);
  s.frames = static_cast<int64_t>(paths.size());
  auto shared = std::make_shared<const std::vector<std::string>>(std::move(paths));
  s.open = [shared] { return std::make_unique<ImageFiles>(shared.get()); };
  return s;
}

SequenceSource video_sequence(const std::string& path) {
  SequenceSource s;
  s.name = std::filesystem::path(path).stem().string();
  {
    cv::VideoCapture probe(path);
    if (!probe.isOpened()) throw Error(cat(path, ": cannot open as a video (OpenCV videoio found no backend or codec for it)"));
    const double n = probe.get(cv::CAP_PROP_FRAME_COUNT);
    s.frames = n > 0 ? static_cast<int64_t>(n) : -1;
  }
  s.open = [path] { return std::make_unique<VideoFile>(path); };
  return s;
}

SequenceSource input_sequence(const std::string& path) {
  namespace fs = std::filesystem;
  if (!fs::exists(path)) throw Error(cat(path, ": no such file or folder; give a video, a folder of images or an image"));
  if (fs::is_directory(path)) {
    std::string name = fs::path(path).filename().string();
    if (name.empty()) name = fs::path(path).parent_path().filename().string();
    return image_sequence(name, data::list_frames(path));
  }
  const std::string e = lower_extension(path);
  if (e == ".jpg" || e == ".jpeg" || e == ".png" || e == ".bmp")
    return image_sequence(fs::path(path).stem().string(), {path});
  return video_sequence(path);
}

}  // namespace crowdrt::eval
