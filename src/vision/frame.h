// One video frame on its way to the network: decoded, resized and converted as the seed does.
#pragma once
#include <opencv2/core.hpp>
#include <string>

namespace crowdrt::vision {

// BGR uint8 image of a .jpg/.png file; Error naming the file when it is missing or not an image.
cv::Mat decode_frame(const std::string& path);
// cv::resize with its default (bilinear) interpolation, as the seed resizes frames (SEED.md "Input tensor").
cv::Mat resize_frame(const cv::Mat& image, cv::Size size);
// BGR -> RGB channel order.
cv::Mat bgr_to_rgb(const cv::Mat& bgr);
// The seed's evaluation gray: COLOR_BGR2GRAY applied to the RGB image, so R and B weights are swapped.
// Its training data was made this way, so a compatible gray must reproduce it.
cv::Mat seed_gray_from_rgb(const cv::Mat& rgb);
// The true gray of a BGR frame, which the seed's prepare_calibration_data.py uses for calibration flow.
cv::Mat gray_from_bgr(const cv::Mat& bgr);

}  // namespace crowdrt::vision

namespace crowdrt::vision {
// "608x608" -> cv::Size(608, 608); Error naming `flag` and the expected form otherwise.
cv::Size parse_frame_size(const std::string& text, const std::string& flag);
}  // namespace crowdrt::vision
