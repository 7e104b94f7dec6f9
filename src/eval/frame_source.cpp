#include "eval/frame_source.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <opencv2/videoio.hpp>

#include "core/error.h"
#include "core/file.h"
#include "vision/frame.h"

namespace crowdrt::eval {
namespace {

Error no_video_frames(const std::string& path) {
  return Error(cat(path, ": opened as a video, but no frame could be decoded from it; the file is empty or damaged"));
}

bool read_video_frame(cv::VideoCapture& capture, cv::Mat& bgr, const std::string& path) {
  try {
    return capture.read(bgr) && !bgr.empty();
  } catch (const cv::Exception& e) {
    throw Error(cat(path, ": OpenCV cannot decode a frame of it (", e.err, "); the file is damaged"));
  }
}

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
  explicit VideoFile(const std::string& path) : path_(path) { open_video_file(capture_, path); }
  bool read(cv::Mat& bgr) override {
    if (!read_video_frame(capture_, bgr, path_)) {
      if (index_ == 0) throw no_video_frames(path_);
      return false;
    }
    if (bgr.type() != CV_8UC3) throw Error(cat(path_, ": frame ", index_, " is not 8-bit BGR"));
    ++index_;
    return true;
  }

 private:
  std::string path_;
  cv::VideoCapture capture_;
  int64_t index_ = 0;
};

// A live source's frames; reading ends the source's reader when the run stops reading.
class LiveFrames final : public FrameReader {
 public:
  explicit LiveFrames(std::shared_ptr<LiveSource> live) : live_(std::move(live)) {}
  ~LiveFrames() override { live_->stop(); }
  LiveFrames(const LiveFrames&) = delete;
  LiveFrames& operator=(const LiveFrames&) = delete;
  bool read(cv::Mat& bgr) override { return live_->next(bgr, after_gap_); }
  bool follows_gap() const override { return after_gap_; }
  void end_at(std::chrono::steady_clock::time_point deadline) override { live_->end_at(deadline); }

 private:
  std::shared_ptr<LiveSource> live_;
  bool after_gap_ = false;
};

class BoundedFrames final : public FrameReader {
 public:
  BoundedFrames(std::unique_ptr<FrameReader> inner, int64_t max_frames, double max_seconds)
      : inner_(std::move(inner)), max_frames_(max_frames), max_seconds_(max_seconds) {}
  bool read(cv::Mat& bgr) override {
    if (!inner_) return false;
    if (!started_ && max_seconds_ > 0)
      inner_->end_at(std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                                            std::chrono::duration<double>(max_seconds_)));
    if (!started_) start_ = std::chrono::steady_clock::now();
    started_ = true;
    const bool over =
        (max_frames_ > 0 && read_ >= max_frames_) ||
        (max_seconds_ > 0 &&
         std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count() >= max_seconds_);
    if (over || !inner_->read(bgr)) {
      inner_.reset();  // a live source stops reading now, not at the end of the run
      return false;
    }
    ++read_;
    return true;
  }
  bool follows_gap() const override { return inner_ && inner_->follows_gap(); }

 private:
  std::unique_ptr<FrameReader> inner_;
  int64_t max_frames_;
  double max_seconds_;
  int64_t read_ = 0;
  bool started_ = false;
  std::chrono::steady_clock::time_point start_;
};

// A name for output folders: camera0, video0, the host and path of a URL, gstreamer.
std::string live_name(const std::string& input) {
  if (input.find(" ! ") != std::string::npos) return "gstreamer";
  if (std::all_of(input.begin(), input.end(), [](unsigned char c) { return std::isdigit(c) != 0; }))
    return "camera" + input;
  std::string rest = input;
  if (const size_t scheme = input.find("://"); scheme != std::string::npos) {
    rest = input.substr(scheme + 3);
    if (const size_t at = rest.find('@'); at != std::string::npos && at < rest.find('/')) rest = rest.substr(at + 1);
  } else {
    rest = std::filesystem::path(input).filename().string();
  }
  std::string name;
  for (char c : rest) name += std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' ? c : '_';
  while (!name.empty() && (name.back() == '_' || name.back() == '.')) name.pop_back();
  return name.empty() ? "live" : name;
}

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
    cv::VideoCapture probe;
    open_video_file(probe, path);
    cv::Mat first;
    if (!read_video_frame(probe, first, path)) throw no_video_frames(path);
    const double n = probe.get(cv::CAP_PROP_FRAME_COUNT), fps = probe.get(cv::CAP_PROP_FPS);
    s.frames = n > 0 ? static_cast<int64_t>(n) : -1;
    s.fps = fps > 0 && fps < 1000 ? fps : 0;
  }
  s.open = [path] { return std::make_unique<VideoFile>(path); };
  return s;
}

void open_video_file(cv::VideoCapture& capture, const std::string& path) {
  check_regular_file(path, "video");
  quiet_video_backends();
  // FFmpeg reads every video format crowdrt takes; trying GStreamer and OpenCV's image-sequence reader after it
  // only adds their lines to a failure.
  try {
    capture.open(path, cv::CAP_FFMPEG);
  } catch (const cv::Exception& e) {
    throw Error(cat(path, ": OpenCV cannot open it as a video (", e.err, ")"));
  }
  if (!capture.isOpened())
    throw Error(cat(path, ": cannot open as a video (FFmpeg found no video stream or codec in it); the file is "
                    "damaged or not a video"));
}

SequenceSource live_sequence(const std::string& input, const LiveOptions& options) {
  auto live = std::make_shared<LiveSource>(input, options);
  SequenceSource s;
  s.name = live_name(input);
  s.fps = live->fps();
  s.frame_size = live->frame_size();
  s.live = live;
  s.open = [live] { return std::make_unique<LiveFrames>(live); };
  return s;
}

SequenceSource input_sequence(const std::string& input, const LiveOptions& live) {
  namespace fs = std::filesystem;
  const std::string path = file_url_path(input);
  if (path == input && is_live_input(input)) return live_sequence(input, live);
  if (!fs::exists(path))
    throw Error(cat(path, ": no such file or folder; give a video, a folder of images, an image, a camera (0, "
                    "/dev/video0), a stream URL (rtsp://, http://) or a GStreamer pipeline"));
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    std::string name = fs::path(path).filename().string();
    if (name.empty()) name = fs::path(path).parent_path().filename().string();
    return image_sequence(name, data::list_frames(path));
  }
  check_regular_file(path, "video or image");  // a FIFO, device or socket is refused before it is opened
  const std::string e = lower_extension(path);
  if (e == ".jpg" || e == ".jpeg" || e == ".png" || e == ".bmp")
    return image_sequence(fs::path(path).stem().string(), {path});
  return video_sequence(path);
}

SequenceSource bounded_sequence(SequenceSource source, int64_t max_frames, double max_seconds) {
  if (max_frames <= 0 && max_seconds <= 0) return source;
  if (max_frames > 0 && source.frames >= 0) source.frames = std::min(source.frames, max_frames);
  if (max_frames > 0 && source.frames < 0 && max_seconds <= 0) source.frames = max_frames;
  auto open = source.open;
  source.open = [open, max_frames, max_seconds] {
    return std::make_unique<BoundedFrames>(open(), max_frames, max_seconds);
  };
  return source;
}

}  // namespace crowdrt::eval
