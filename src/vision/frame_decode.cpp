#include <opencv2/imgcodecs.hpp>

#include "core/error.h"
#include "core/file.h"
#include "vision/frame.h"

namespace crowdrt::vision {

cv::Mat decode_frame(const std::string& path) {
  if (!file_exists(path)) throw Error(cat(path, ": frame not found"));
  // imdecode on our own read gives a clear error for unreadable files instead of an empty Mat.
  const std::vector<std::byte> bytes = read_file(path);
  const cv::Mat buffer(1, static_cast<int>(bytes.size()), CV_8U, const_cast<std::byte*>(bytes.data()));
  cv::Mat image = cv::imdecode(buffer, cv::IMREAD_COLOR);
  if (image.empty())
    throw Error(cat(path, ": not a readable image (", bytes.size(), " bytes); expected a .jpg or .png frame"));
  return image;
}

}  // namespace crowdrt::vision
