// The calibration folder of the seed (crowd_trt_calibrator.py): imgs/<name>.jpg with, for 5-channel
// models, imgs_flows/<name>.npy (H x W x 2 float32 optical flow at the image's resolution).
#pragma once
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace crowdrt::data {

struct CalibrationSample {
  std::string image;  // <dir>/imgs/<name>.jpg (or .png)
  std::string flow;   // <dir>/imgs_flows/<name>.npy; empty when flow is not needed
};

// Samples sorted by name. With need_flow, Error naming the first image that has no flow file.
std::vector<CalibrationSample> list_calibration_folder(const std::string& dir, bool need_flow);

// The network input of one sample as the seed's calibrator makes it (resize of the stacked channels).
// Error when the flow file's shape is not H x W x 2 of the image.
Tensor load_calibration_sample(const CalibrationSample& sample, cv::Size size, int channels);

}  // namespace crowdrt::data
