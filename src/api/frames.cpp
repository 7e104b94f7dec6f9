// FrameSource (video, image folder, image, live source), Preprocessor (the seed's input recipe) and Engine::count
// on frames (with zones), over src/vision, src/data, src/eval and serve's zone masks (OpenCV).
// Internal headers first: see api/internal.h.
#include "core/file.h"
#include "data/visdrone.h"
#include "eval/calibration_input.h"
#include "eval/device_frames.h"
#include "eval/frame_source.h"
#include "eval/live_source.h"
#include "serve/zones.h"
#include "vision/frame.h"
#include "vision/network_input.h"

#include "api/internal.h"

#include <cctype>
#include <filesystem>
#include <optional>
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
  // count(frame, zones): the masks of the zones last given (their JSON text) at the frame size last seen.
  std::string zones_key;
  int zones_width = 0, zones_height = 0;
  std::optional<serve::ZoneMasks> masks;
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
  std::shared_ptr<eval::LiveSource> live;  // a camera, a stream URL, a GStreamer pipeline
  bool after_gap = false;
  std::int64_t position = 0;
};

FrameSource::FrameSource(const std::string& path) : FrameSource(path, FrameSourceOptions{}) {}

FrameSource::FrameSource(const std::string& input, const FrameSourceOptions& options)
    : impl_(std::make_unique<Impl>()) {
  namespace fs = std::filesystem;
  impl_->path = input;
  if (eval::is_live_input(input)) {
    if (options.live_drop != "oldest" && options.live_drop != "none")
      throw Error(cat("FrameSourceOptions::live_drop '", options.live_drop, "': choose oldest or none"));
    if (options.reconnect < 0)
      throw Error(cat("FrameSourceOptions::reconnect ", options.reconnect, ": give 0 (never) or a number of attempts"));
    eval::LiveOptions live;
    live.drop = eval::parse_live_drop(options.live_drop);
    live.reconnect_attempts = options.reconnect;
    impl_->live = std::make_shared<eval::LiveSource>(input, live);
    return;
  }
  const std::string path = eval::file_url_path(input);
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    impl_->images = data::list_frames(path);
  } else if (!fs::exists(path, ec)) {
    throw Error(
        cat(path, ": no such video, image or folder of images (nor a camera, stream URL or GStreamer pipeline)"));
  } else if (!fs::is_regular_file(path, ec)) {
    check_regular_file(path, "video or image");  // says what it is: a FIFO, a device, a socket
  } else if (is_image_file(path)) {
    vision::decode_frame(path);  // Error now, naming the file, rather than at the first next()
    impl_->images = {path};
  } else {
    eval::open_video_file(impl_->video, path);
  }
}

FrameSource::~FrameSource() = default;
FrameSource::FrameSource(FrameSource&&) noexcept = default;
FrameSource& FrameSource::operator=(FrameSource&&) noexcept = default;

bool FrameSource::next(Frame& frame) {
  if (!impl_) throw Error("FrameSource: used after being moved from");
  Impl& d = *impl_;
  cv::Mat bgr;
  if (d.live) {
    if (!d.live->next(bgr, d.after_gap)) return false;
  } else if (!d.images.empty()) {
    if (d.position >= static_cast<std::int64_t>(d.images.size())) return false;
    bgr = vision::decode_frame(d.images[static_cast<size_t>(d.position)]);
  } else {
    if (!internal::opencv_call("FrameSource", [&] { return d.video.read(bgr); }) || bgr.empty()) {
      if (d.position == 0)
        throw Error(
            cat(d.path, ": opened as a video, but no frame could be decoded from it; the file is empty or damaged"));
      return false;
    }
    if (bgr.type() != CV_8UC3) throw Error(cat(d.path, ": frame ", d.position + 1, " is not an 8-bit colour image"));
  }
  copy_frame(bgr, frame);
  ++d.position;
  return true;
}

std::int64_t FrameSource::position() const { return impl_ ? impl_->position : 0; }
bool FrameSource::live() const { return impl_ && impl_->live; }
bool FrameSource::after_gap() const { return impl_ && impl_->after_gap; }
std::int64_t FrameSource::dropped() const { return impl_ && impl_->live ? impl_->live->counters().dropped : 0; }
int FrameSource::reconnects() const { return impl_ && impl_->live ? impl_->live->counters().reconnects : 0; }
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

namespace {
// The frame input of an engine, made by its first frame (the engine's lock held). The same choice as eval's
// --flow-device: "" follows the plan (a CUDA plan prepares its frames on the GPU).
FrameInput& frame_input(std::unique_ptr<FrameInput, FrameInputDeleter>& frames, internal::RuntimeEngine& engine,
                        const std::vector<TensorSpec>& inputs, const EngineOptions& options) {
  if (!frames) {
    auto input = std::make_unique<FrameInput>();
    if (eval::use_device_frames(engine, options.flow_device)) {
      frame_input_for(inputs, options.flow);  // the same checks and messages as the CPU path
      input->gpu = std::make_unique<eval::DeviceFramePath>(engine, vision::parse_flow_preset(options.flow));
    } else {
      input->cpu = std::make_unique<vision::NetworkInput>(frame_input_for(inputs, options.flow));
    }
    frames.reset(input.release());
  }
  return *frames;
}
}  // namespace

double Engine::count(const FrameView& frame) {
  Impl& d = impl();
  const cv::Mat bgr = internal::frame_mat(frame);
  internal::InternalTensor input;
  {
    const std::lock_guard<std::mutex> lock(d.running);
    frame_input(d.frames, d.engine, d.inputs, d.options);
    if (d.frames->gpu) {
      d.frames->gpu->submit(bgr);
      return d.frames->gpu->wait_count();
    }
    input = internal::opencv_call("count", [&] { return d.frames->cpu->next(bgr); });
  }
  return count(TensorView(input.data<float>(), internal::to_dims(input.shape())));
}

ZoneCounts Engine::count(const FrameView& frame, const std::vector<Zone>& zones) {
  Impl& d = impl();
  const cv::Mat bgr = internal::frame_mat(frame);
  std::string key;
  const std::vector<serve::Zone> checked = internal::checked_zones(zones, &key);
  const Dims& map = d.outputs.at(0).shape;
  if (d.outputs.size() != 1 || map.size() < 2)
    throw Error(cat("count: the plan's output is ", dims_str(map), "; counting zones needs one density map"));
  const int map_w = static_cast<int>(map[map.size() - 1]), map_h = static_cast<int>(map[map.size() - 2]);
  Tensor density;
  {
    const std::lock_guard<std::mutex> lock(d.running);
    FrameInput& in = frame_input(d.frames, d.engine, d.inputs, d.options);
    if (in.gpu) {
      in.gpu->submit(bgr);
      in.gpu->wait_count();
      internal::InternalTensor map_tensor;
      in.gpu->density(&map_tensor);
      density = internal::to_public(std::move(map_tensor));
    }
  }
  if (density.data.empty()) {
    internal::InternalTensor input;
    {
      const std::lock_guard<std::mutex> lock(d.running);
      input = internal::opencv_call("count", [&] { return d.frames->cpu->next(bgr); });
    }
    density = infer(TensorView(input.data<float>(), internal::to_dims(input.shape())));
  }
  ZoneCounts result;
  result.count = density.sum() / 100.0;
  const std::lock_guard<std::mutex> lock(d.running);
  FrameInput& in = *d.frames;
  if (!in.masks || in.zones_key != key || in.zones_width != bgr.cols || in.zones_height != bgr.rows) {
    in.masks.reset();
    in.masks.emplace(checked, bgr.cols, bgr.rows, map_w, map_h);
    in.zones_key = key;
    in.zones_width = bgr.cols;
    in.zones_height = bgr.rows;
  }
  result.zones = in.masks->counts(density.data.data(), map_w, map_h);
  return result;
}

void Engine::reset() {
  Impl& d = impl();
  const std::lock_guard<std::mutex> lock(d.running);
  if (!d.frames) return;
  if (d.frames->gpu) d.frames->gpu->start_sequence();
  if (d.frames->cpu) d.frames->cpu->start_sequence();
}

}  // namespace crowdrt::v0
