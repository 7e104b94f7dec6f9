// Calibration frames as network inputs, one at a time, from the seed's calibration folder (imgs/ +
// imgs_flows/, crowd_trt_calibrator.py's recipe) or from a VisDrone root (flow computed along each sequence at
// source resolution, then the stacked channels resized: the same recipe without the folder on disk).
#pragma once
#include <cstdint>
#include <memory>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "data/calibration_folder.h"
#include "vision/network_input.h"

namespace crowdrt::data {

struct CalibrationFramesOptions {
  std::string calib_dir;   // either this
  std::string calib_data;  // or this (sequences of <root>/trainlist.txt when it exists, else all)
  vision::FlowPreset flow = vision::FlowPreset::medium;
  // The flow of calib_data frames: "seed" (at the source resolution, then the 5-channel stack resized with the
  // vectors unscaled, as the seed's prepare_calibration_data.py) or "network" (at the network's input size, as
  // inference computes it).
  std::string recipe = "network";
  int64_t max = 500;       // at most this many frames (0: all): spread evenly over a folder, and as the first
                           // frames of each sequence over a VisDrone root (flow needs consecutive frames)
  cv::Size size{608, 608};
  int channels = 5;
};

class CalibrationFrames {
 public:
  // Error when neither or both sources are given, or the source has no frames.
  explicit CalibrationFrames(const CalibrationFramesOptions& options);
  ~CalibrationFrames();
  int64_t size() const;
  // The next frame's network input (1 x channels x H x W float32); false after the last.
  bool next(Tensor* frame);

 private:
  CalibrationFramesOptions options_;
  std::vector<CalibrationSample> samples_;  // folder
  struct Run {
    std::string sequence;
    std::vector<std::string> frames;
  };
  std::vector<Run> runs_;                   // VisDrone root
  size_t run_ = 0, frame_ = 0, sample_ = 0;
  std::unique_ptr<vision::NetworkInput> input_;
};

// The frames a build calibrates on, from its options' strings (calib_dir or calib_data, the flow preset name,
// the recipe, the frame limit) at the model's 1 x C x H x W input; Error naming what is wrong.
std::shared_ptr<CalibrationFrames> open_calibration_frames(const std::string& calib_dir, const std::string& calib_data,
                                                           const std::string& flow, const std::string& recipe,
                                                           int64_t max, const Shape& input);

}  // namespace crowdrt::data
