// `crowdrt calib-data`: the seed's prepare_calibration_data.py without its rmtree. For every chosen frame
// of every sequence: imgs/<seq>_<frame>.jpg (a byte copy) and imgs_flows/<seq>_<stem>.npy (H x W x 2
// float32 DIS flow, warm-started along the sequence): at the source resolution (recipe "seed", the seed's), or
// between frames resized to the network's size (recipe "network", as inference computes it).
#pragma once
#include <cstdint>
#include <string>

#include "vision/dis_flow.h"

namespace crowdrt::data {

struct CalibrationDataOptions {
  std::string sequences;  // a folder of sequence folders (or a VisDrone root holding sequences/)
  std::string out;
  vision::FlowPreset flow = vision::FlowPreset::medium;
  int every = 1;        // keep every K-th frame of each sequence (flow is still computed on all)
  int64_t max = 0;      // at most N frames in all; 0: no limit
  std::string recipe = "seed";     // "seed" or "network"
  cv::Size size{608, 608};         // the network's input size (recipe "network")
  bool overwrite = false;  // replace the files this run writes (never anything else)
  bool resume = false;     // continue an interrupted run with the same settings
};

struct CalibrationDataResult {
  int64_t written = 0;  // frames whose image and flow were written
  int64_t kept = 0;     // frames already complete (resume)
};

// Error, touching nothing, when `out` is not empty and neither overwrite nor resume (with matching
// settings) was asked for. Each file is written under a temporary name and renamed into place.
CalibrationDataResult write_calibration_data(const CalibrationDataOptions& options);

// The settings record kept in `out` so that --resume can check it continues the same run.
inline constexpr const char* kCalibrationManifest = "crowdrt-calib-data.txt";

}  // namespace crowdrt::data
