// FrameSource (video, image folder, image), Preprocessor (the seed's input recipe) and Engine::count on
// frames, over src/vision and src/data (OpenCV).
// Internal headers first: see api/internal.h.
#include "data/visdrone.h"
#include "eval/calibration_input.h"
#include "eval/device_frames.h"
#include "vision/frame.h"
#include "vision/network_input.h"

#include "api/internal.h"

#include <cctype>
#include <filesystem>
#include <opencv2/videoio.hpp>

namespace crowdrt::internal {

// A public frame as an OpenCV image over the same pixels (no copy). Error for a null or empty frame.
cv::Mat frame_mat(const FrameView& frame) {
  if (!frame.bgr || frame.width <= 0 || frame.height <= 0)
    throw Error(cat("frame: empty (", frame.width, "x", frame.height, (frame.bgr ? "" : ", no pixels"),
                    "); pass an 8-bit BGR image"));
  const std::ptrdiff_t row = frame.row_bytes == 0 ? std::ptrdiff_t{frame.width} * 3 : frame.row_bytes;
  if (row < std::ptrdiff_t{frame.width} * 3)
    throw Error(cat("frame: row_bytes ", row, " is less than width x 3 = ", std::ptrdiff_t{frame.width} * 3));
  return cv::Mat(frame.height, frame.width, CV_8UC3, const_cast<std::uint8_t*>(frame.bgr), static_cast<size_t>(row));
}

void check_flow_preset(const std::string& name) { vision::parse_flow_preset(name); }

::crowdrt::CalibrationInputFactory calibration_frames() { return eval::calibration_input(); }

// Runs f, turning an OpenCV exception (a library bug or an odd image) into an Error that names `what`.
template <class F>
auto opencv_call(const char* what, F&& f) {
  try {
    return f();
  } catch (const cv::Exception& e) {
    throw Error(cat(what, ": OpenCV failed: ", e.what()));
  }
}

}  // namespace crowdrt::internal

namespace crowdrt::v0 {

// The CPU recipe (OpenCV) or the whole frame on the GPU (CUDA plans), whichever EngineOptions::flow_device chose.
struct FrameInput {
  std::unique_ptr<vision::NetworkInput> cpu;
  std::unique_ptr<eval::DeviceFramePath> gpu;
};
void FrameInputDeleter::operator()(FrameInput* input) const { delete input; }

namespace {
// The seed's preprocessing at the plan's input size and channels.
vision::NetworkInput frame_input_for(const std::vector<TensorSpec>& inputs, const std::string& flow) {
  if (inputs.size() != 1) throw Error(cat("count: the plan has ", inputs.size(), " inputs; counting frames needs one"));
  const TensorSpec& in = inputs[0];
  if (in.shape.size() != 4 || in.shape[0] != 1)
    throw Error(cat("count: the plan's input '", in.name, "' is ", dims_str(in.shape),
                    "; counting frames needs one 1 x C x H x W input"));
  vision::NetworkInputOptions options;
  options.size = cv::Size(static_cast<int>(in.shape[3]), static_cast<int>(in.shape[2]));
  options.channels = static_cast<int>(in.shape[1]);
  options.flow = vision::parse_flow_preset(options.channels == 3 ? "none" : flow);
  return vision::NetworkInput(options);
}

bool is_image_file(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".bmp";
}

void copy_frame(const cv::Mat& bgr, Frame& frame) {
  frame.width = bgr.cols;
  frame.height = bgr.rows;
  frame.bgr.resize(static_cast<size_t>(bgr.cols) * bgr.rows * 3);
  cv::Mat target(bgr.rows, bgr.cols, CV_8UC3, frame.bgr.data());
  bgr.copyTo(target);
}
}  // namespace

struct FrameSource::Impl {
  std::string path;
  std::vector<std::string> images;  // a folder or one image; empty for a video
  cv::VideoCapture video;
  std::int64_t position = 0;
};

FrameSource::FrameSource(const std::string& path) : impl_(std::make_unique<Impl>()) {
  namespace fs = std::filesystem;
  impl_->path = path;
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    impl_->images = data::list_frames(path);
  } else if (!fs::is_regular_file(path, ec)) {
    throw Error(cat(path, ": no such video, image or folder of images"));
  } else if (is_image_file(path)) {
    vision::decode_frame(path);  // Error now, naming the file, rather than at the first next()
    impl_->images = {path};
  } else {
    try {
      impl_->video.open(path);
    } catch (const cv::Exception& e) {
      throw Error(cat(path, ": OpenCV cannot open it as a video: ", e.what()));
    }
    if (!impl_->video.isOpened())
      throw Error(cat(path, ": neither an image nor a video OpenCV can decode (FFmpeg or GStreamer formats)"));
  }
}

FrameSource::~FrameSource() = default;
FrameSource::FrameSource(FrameSource&&) noexcept = default;
FrameSource& FrameSource::operator=(FrameSource&&) noexcept = default;

bool FrameSource::next(Frame& frame) {
  if (!impl_) throw Error("FrameSource: used after being moved from");
  Impl& d = *impl_;
  cv::Mat bgr;
  if (!d.images.empty()) {
    if (d.position >= static_cast<std::int64_t>(d.images.size())) return false;
    bgr = vision::decode_frame(d.images[static_cast<size_t>(d.position)]);
  } else {
    if (!internal::opencv_call("FrameSource", [&] { return d.video.read(bgr); }) || bgr.empty()) return false;
    if (bgr.type() != CV_8UC3) throw Error(cat(d.path, ": frame ", d.position + 1, " is not an 8-bit colour image"));
  }
  copy_frame(bgr, frame);
  ++d.position;
  return true;
}

std::int64_t FrameSource::position() const { return impl_ ? impl_->position : 0; }
const std::string& FrameSource::path() const {
  if (!impl_) throw Error("FrameSource: used after being moved from");
  return impl_->path;
}

struct Preprocessor::Impl {
  PreprocessOptions options;
  vision::NetworkInput input;
  std::mutex running;  // the flow state is shared by the frames of a sequence
  Impl(const PreprocessOptions& o, const vision::NetworkInputOptions& n) : options(o), input(n) {}
};

Preprocessor::Preprocessor(const PreprocessOptions& options) {
  vision::NetworkInputOptions n;
  if (options.width <= 0 || options.height <= 0)
    throw Error(cat("Preprocessor: size ", options.width, "x", options.height, " must be positive"));
  n.size = cv::Size(options.width, options.height);
  n.channels = options.channels;
  n.flow = vision::parse_flow_preset(options.channels == 3 ? "none" : options.flow);
  if (options.channels == 3) vision::parse_flow_preset(options.flow);  // still refuse a misspelt preset
  n.variant = vision::parse_input_variant(options.variant);
  impl_ = std::make_unique<Impl>(options, n);
}

Preprocessor::~Preprocessor() = default;
Preprocessor::Preprocessor(Preprocessor&&) noexcept = default;
Preprocessor& Preprocessor::operator=(Preprocessor&&) noexcept = default;

Tensor Preprocessor::process(const FrameView& frame) {
  if (!impl_) throw Error("Preprocessor: used after being moved from");
  const cv::Mat bgr = internal::frame_mat(frame);
  const std::lock_guard<std::mutex> lock(impl_->running);
  return internal::to_public(internal::opencv_call("Preprocessor", [&] { return impl_->input.next(bgr); }));
}

void Preprocessor::reset() {
  if (!impl_) throw Error("Preprocessor: used after being moved from");
  const std::lock_guard<std::mutex> lock(impl_->running);
  impl_->input.start_sequence();
}

const PreprocessOptions& Preprocessor::options() const {
  if (!impl_) throw Error("Preprocessor: used after being moved from");
  return impl_->options;
}

double Engine::count(const FrameView& frame) {
  Impl& d = impl();
  const cv::Mat bgr = internal::frame_mat(frame);
  internal::InternalTensor input;
  {
    const std::lock_guard<std::mutex> lock(d.running);
    if (!d.frames) {
      // The same choice as eval's --flow-device: "" follows the plan (a CUDA plan prepares its frames on the GPU).
      auto input = std::make_unique<FrameInput>();
      if (eval::use_device_frames(d.engine, d.options.flow_device)) {
        frame_input_for(d.inputs, d.options.flow);  // the same checks and messages as the CPU path
        input->gpu = std::make_unique<eval::DeviceFramePath>(d.engine, vision::parse_flow_preset(d.options.flow));
      } else {
        input->cpu = std::make_unique<vision::NetworkInput>(frame_input_for(d.inputs, d.options.flow));
      }
      d.frames.reset(input.release());
    }
    if (d.frames->gpu) {
      d.frames->gpu->submit(bgr);
      return d.frames->gpu->wait_count();
    }
    input = internal::opencv_call("count", [&] { return d.frames->cpu->next(bgr); });
  }
  return count(TensorView(input.data<float>(), internal::to_dims(input.shape())));
}

void Engine::reset() {
  Impl& d = impl();
  const std::lock_guard<std::mutex> lock(d.running);
  if (!d.frames) return;
  if (d.frames->gpu) d.frames->gpu->start_sequence();
  if (d.frames->cpu) d.frames->cpu->start_sequence();
}

}  // namespace crowdrt::v0
