#include <opencv2/imgproc.hpp>

#include "vision/frame.h"

namespace crowdrt::vision {

cv::Mat resize_frame(const cv::Mat& image, cv::Size size) {
  if (image.size() == size) return image.clone();
  cv::Mat resized;
  cv::resize(image, resized, size);
  return resized;
}

}  // namespace crowdrt::vision
