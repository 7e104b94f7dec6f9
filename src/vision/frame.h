// One video frame on its way to the network: decoded, resized and converted as the seed does.
#pragma once
#include <cstdint>
#include <opencv2/core.hpp>
#include <string>

namespace crowdrt::vision {

// The most pixels a frame file may claim (16384x16384, 768 MiB as BGR): checked before decoding allocates.
inline constexpr uint64_t max_frame_pixels = uint64_t{1} << 28;
// BGR uint8 image of a .jpg/.png file; Error naming the file when it is missing, not a regular file, empty,
// truncated (a JPEG without its end-of-image marker, a PNG without IEND), damaged (a PNG chunk's CRC), larger
// than max_frame_pixels, or not an image OpenCV decodes.
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
