#include <charconv>

#include "core/error.h"
#include "vision/frame.h"

namespace crowdrt::vision {

cv::Size parse_frame_size(const std::string& text, const std::string& flag) {
  const size_t x = text.find('x');
  int w = 0, h = 0;
  const auto number = [](std::string_view s, int& v) {
    const auto [end, err] = std::from_chars(s.data(), s.data() + s.size(), v);
    return !s.empty() && err == std::errc() && end == s.data() + s.size() && v > 0 && v <= 16384;
  };
  if (x == std::string::npos || !number(std::string_view(text).substr(0, x), w) ||
      !number(std::string_view(text).substr(x + 1), h))
    throw Error(cat(flag, " '", text, "': expected WIDTHxHEIGHT such as 608x608 (1 to 16384 each)"));
  return {w, h};
}

}  // namespace crowdrt::vision
