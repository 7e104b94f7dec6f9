// Pictures of a run, drawn with OpenCV: the density map as a heatmap over the frame with the count written on
// it, and the true and predicted count over time.
#pragma once
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace crowdrt::eval {

// The frame (BGR) with the 1x1xHxW density map resized onto it as a JET heatmap (scaled to the map's own
// maximum, transparent where it is near zero), "count N.N" (and "true M" when truth >= 0) in the corner, and a
// colour bar at the right edge from 0 (bottom) to the map's peak (top), in people per 100x100 pixels of the frame.
cv::Mat density_overlay(const cv::Mat& frame_bgr, const Tensor& density, double count, double truth = -1);
// Where density_overlay draws its colour bar on a frame of this size (the gradient only, without its labels).
cv::Rect colour_bar_area(cv::Size frame);

// Round tick values for an axis from 0 to at least `high`: 0, s, 2s, ..., with s 1, 2 or 5 times a power of
// ten chosen for about `intervals` intervals; the last tick is the first multiple of s at or above high.
std::vector<double> round_ticks(double high, int intervals = 5);
// Ticks of a frame axis numbered 1..frames (as the counts CSV is): 1, then the round multiples up to frames.
std::vector<int64_t> frame_ticks(int64_t frames, int intervals = 6);

struct CountSeries {
  std::string label;
  std::vector<double> values;
  cv::Scalar colour;  // BGR
};
// Lines over the frame number (1-based, as the counts CSV) with round ticks on both axes and a legend;
// width x height pixels.
cv::Mat count_plot(const std::vector<CountSeries>& series, const std::string& title, cv::Size size = {960, 400});

// The image encoded by its extension (.png, .jpg) and written whole (write_file_atomic); Error naming the file.
void write_image(const std::string& path, const cv::Mat& image);

}  // namespace crowdrt::eval
