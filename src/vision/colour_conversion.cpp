#include <opencv2/imgproc.hpp>

#include "vision/frame.h"

namespace crowdrt::vision {

cv::Mat bgr_to_rgb(const cv::Mat& bgr) {
  cv::Mat rgb;
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  return rgb;
}

cv::Mat seed_gray_from_rgb(const cv::Mat& rgb) {
  cv::Mat gray;
  cv::cvtColor(rgb, gray, cv::COLOR_BGR2GRAY);  // deliberately the BGR formula on RGB data
  return gray;
}

cv::Mat gray_from_bgr(const cv::Mat& bgr) {
  cv::Mat gray;
  cv::cvtColor(bgr, gray, cv::COLOR_BGR2GRAY);
  return gray;
}

}  // namespace crowdrt::vision
