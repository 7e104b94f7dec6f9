// Pictures of a run, drawn with OpenCV: the density map as a heatmap over the frame with the count written on
// it, and the true and predicted count over time.
#pragma once
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace crowdrt::eval {

// The frame (BGR) with the 1x1xHxW density map resized onto it as a JET heatmap (scaled to the map's own
// maximum, transparent where it is near zero) and "count N.N" (and "true M" when truth >= 0) in the corner.
cv::Mat density_overlay(const cv::Mat& frame_bgr, const Tensor& density, double count, double truth = -1);

struct CountSeries {
  std::string label;
  std::vector<double> values;
  cv::Scalar colour;  // BGR
};
// Lines over frame index with axes, ticks and a legend; width x height pixels.
cv::Mat count_plot(const std::vector<CountSeries>& series, const std::string& title, cv::Size size = {960, 400});

// cv::imwrite with an Error naming the file when it fails.
void write_image(const std::string& path, const cv::Mat& image);

}  // namespace crowdrt::eval
