#include "data/calibration_frames.h"

#include <algorithm>
#include <filesystem>

#include "core/error.h"
#include "data/visdrone.h"
#include "vision/frame.h"

namespace crowdrt::data {

CalibrationFrames::CalibrationFrames(const CalibrationFramesOptions& options) : options_(options) {
  if (options.calib_dir.empty() == options.calib_data.empty())
    throw Error("calibration frames: give exactly one of --calib-dir (a calibration folder) and --calib-data "
                "(a VisDrone root)");
  if (!options.calib_dir.empty()) {
    std::vector<CalibrationSample> all = list_calibration_folder(options.calib_dir, options.channels == 5);
    const size_t n = options.max > 0 ? std::min<size_t>(all.size(), options.max) : all.size();
    for (size_t i = 0; i < n; ++i) samples_.push_back(all[i * all.size() / n]);
    return;
  }
  const std::string& root = options.calib_data;
  const std::string split = std::filesystem::exists(std::filesystem::path(root) / "trainlist.txt") ? "train" : "all";
  std::vector<Run> runs;
  size_t total = 0;
  for (const std::string& name : select_sequences(root, split)) {
    runs.push_back(Run{name, list_frames((std::filesystem::path(root) / "sequences" / name).string())});
    total += runs.back().frames.size();
  }
  // The first frames of each sequence, as many from each as the limit allows (sequences shorter than their
  // share leave the rest to later ones).
  size_t left = options.max > 0 ? std::min<size_t>(total, options.max) : total;
  for (size_t i = 0; i < runs.size() && left > 0; ++i) {
    const size_t share = (left + (runs.size() - i) - 1) / (runs.size() - i);
    Run& run = runs[i];
    run.frames.resize(std::min(run.frames.size(), share));
    left -= run.frames.size();
    runs_.push_back(std::move(run));
  }
  if (runs_.empty()) throw Error(cat(root, ": no frames to calibrate on"));
  vision::NetworkInputOptions input;
  input.size = options.size;
  input.channels = options.channels;
  input.flow = options.channels == 5 ? options.flow : vision::FlowPreset::none;
  input.variant = options.recipe == "network" ? vision::InputVariant::eval : vision::InputVariant::calibration;
  input_ = std::make_unique<vision::NetworkInput>(input);
}

CalibrationFrames::~CalibrationFrames() = default;

int64_t CalibrationFrames::size() const {
  if (!options_.calib_dir.empty()) return static_cast<int64_t>(samples_.size());
  int64_t n = 0;
  for (const Run& r : runs_) n += static_cast<int64_t>(r.frames.size());
  return n;
}

bool CalibrationFrames::next(Tensor* frame) {
  if (!options_.calib_dir.empty()) {
    if (sample_ >= samples_.size()) return false;
    *frame = load_calibration_sample(samples_[sample_++], options_.size, options_.channels);
    return true;
  }
  while (run_ < runs_.size() && frame_ >= runs_[run_].frames.size()) {
    ++run_;
    frame_ = 0;
  }
  if (run_ >= runs_.size()) return false;
  if (frame_ == 0) input_->start_sequence();
  *frame = input_->next(vision::decode_frame(runs_[run_].frames[frame_++]));
  return true;
}

std::shared_ptr<CalibrationFrames> open_calibration_frames(const std::string& calib_dir, const std::string& calib_data,
                                                           const std::string& flow, const std::string& recipe,
                                                           int64_t max, const Shape& input) {
  if (input.size() != 4 || input[0] != 1)
    throw Error(cat("calibration frames need a 1xCxHxW input; the model's is ", shape_str(input)));
  if (recipe != "seed" && recipe != "network")
    throw Error(cat("calibration recipe '", recipe, "': expected seed or network"));
  CalibrationFramesOptions f;
  f.calib_dir = calib_dir;
  f.calib_data = calib_data;
  f.flow = vision::parse_flow_preset(flow);
  f.recipe = recipe;
  f.max = max;
  f.size = cv::Size(static_cast<int>(input[3]), static_cast<int>(input[2]));
  f.channels = static_cast<int>(input[1]);
  return std::make_shared<CalibrationFrames>(f);
}

}  // namespace crowdrt::data
