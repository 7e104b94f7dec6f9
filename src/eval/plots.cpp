#include "eval/plots.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/error.h"

namespace crowdrt::eval {
namespace {
std::string format(const char* pattern, double v) {
  char text[64];
  std::snprintf(text, sizeof(text), pattern, v);
  return text;
}

void label(cv::Mat& image, const std::string& text, cv::Point at, double scale) {
  const int thick = std::max(1, static_cast<int>(std::lround(scale * 2)));
  cv::putText(image, text, at, cv::FONT_HERSHEY_SIMPLEX, scale, cv::Scalar(0, 0, 0), thick + 2, cv::LINE_AA);
  cv::putText(image, text, at, cv::FONT_HERSHEY_SIMPLEX, scale, cv::Scalar(255, 255, 255), thick, cv::LINE_AA);
}
}  // namespace

cv::Mat density_overlay(const cv::Mat& frame_bgr, const Tensor& density, double count, double truth) {
  const Shape& s = density.shape();
  if (s.size() != 4 || s[0] != 1 || s[1] != 1) throw Error(cat("density_overlay: a 1x1xHxW map is needed, not ", shape_str(s)));
  const cv::Mat map(static_cast<int>(s[2]), static_cast<int>(s[3]), CV_32F, const_cast<float*>(density.data<float>()));
  cv::Mat resized;
  cv::resize(map, resized, frame_bgr.size(), 0, 0, cv::INTER_LINEAR);
  double peak = 0;
  cv::minMaxLoc(resized, nullptr, &peak);
  cv::Mat unit = resized / std::max(peak, 1e-6);
  cv::Mat clipped = cv::max(unit, 0.0);
  cv::Mat byte;
  clipped.convertTo(byte, CV_8U, 255.0);
  cv::Mat heat;
  cv::applyColorMap(byte, heat, cv::COLORMAP_JET);
  // Opacity grows with the density, so empty ground stays visible.
  cv::Mat alpha;
  cv::min(clipped * 1.5, 0.75, alpha);
  cv::Mat out(frame_bgr.size(), CV_8UC3);
  for (int y = 0; y < out.rows; ++y) {
    const auto* f = frame_bgr.ptr<cv::Vec3b>(y);
    const auto* h = heat.ptr<cv::Vec3b>(y);
    const float* a = alpha.ptr<float>(y);
    auto* o = out.ptr<cv::Vec3b>(y);
    for (int x = 0; x < out.cols; ++x)
      for (int c = 0; c < 3; ++c) o[x][c] = cv::saturate_cast<uint8_t>(f[x][c] * (1 - a[x]) + h[x][c] * a[x]);
  }
  const double scale = std::max(0.5, out.cols / 900.0);
  label(out, format("count %.1f", count), cv::Point(static_cast<int>(12 * scale), static_cast<int>(36 * scale)), scale);
  if (truth >= 0)
    label(out, format("true %.0f", truth), cv::Point(static_cast<int>(12 * scale), static_cast<int>(72 * scale)), scale);
  return out;
}

cv::Mat count_plot(const std::vector<CountSeries>& series, const std::string& title, cv::Size size) {
  cv::Mat image(size, CV_8UC3, cv::Scalar(255, 255, 255));
  const int left = 60, right = 20, top = 60, bottom = 40;
  const cv::Rect area(left, top, size.width - left - right, size.height - top - bottom);
  size_t n = 0;
  double high = 1;
  for (const CountSeries& s : series) {
    n = std::max(n, s.values.size());
    for (double v : s.values) high = std::max(high, v);
  }
  high = std::ceil(high * 1.1);
  const auto to_point = [&](size_t i, double v) {
    const double fx = n > 1 ? static_cast<double>(i) / static_cast<double>(n - 1) : 0.5;
    return cv::Point(area.x + static_cast<int>(std::lround(fx * area.width)),
                     area.y + area.height - static_cast<int>(std::lround(std::max(0.0, v) / high * area.height)));
  };
  const cv::Scalar grey(200, 200, 200), black(0, 0, 0);
  for (int t = 0; t <= 4; ++t) {
    const double v = high * t / 4;
    const int y = area.y + area.height - static_cast<int>(std::lround(static_cast<double>(area.height) * t / 4));
    cv::line(image, {area.x, y}, {area.x + area.width, y}, grey, 1);
    cv::putText(image, format("%.0f", v), {5, y + 5}, cv::FONT_HERSHEY_SIMPLEX, 0.45, black, 1, cv::LINE_AA);
  }
  cv::rectangle(image, area, black, 1);
  for (const CountSeries& s : series)
    for (size_t i = 1; i < s.values.size(); ++i)
      cv::line(image, to_point(i - 1, s.values[i - 1]), to_point(i, s.values[i]), s.colour, 2, cv::LINE_AA);
  cv::putText(image, title, {left, 22}, cv::FONT_HERSHEY_SIMPLEX, 0.6, black, 1, cv::LINE_AA);
  cv::putText(image, format("frame (0 .. %.0f)", n > 0 ? static_cast<double>(n - 1) : 0.0),
              {area.x + area.width / 2 - 60, size.height - 12}, cv::FONT_HERSHEY_SIMPLEX, 0.45, black, 1, cv::LINE_AA);
  int x = size.width - right - 10;
  for (auto it = series.rbegin(); it != series.rend(); ++it) {
    int baseline = 0;
    const cv::Size t = cv::getTextSize(it->label, cv::FONT_HERSHEY_SIMPLEX, 0.5, 1, &baseline);
    x -= t.width;
    cv::putText(image, it->label, {x, 48}, cv::FONT_HERSHEY_SIMPLEX, 0.5, it->colour, 1, cv::LINE_AA);
    x -= 30;
    cv::line(image, {x, 43}, {x + 24, 43}, it->colour, 2);
    x -= 15;
  }
  return image;
}

void write_image(const std::string& path, const cv::Mat& image) {
  bool ok = false;
  try {
    ok = cv::imwrite(path, image);
  } catch (const cv::Exception& e) {
    throw Error(cat(path, ": cannot write the image (", e.what(), ")"));
  }
  if (!ok) throw Error(cat(path, ": cannot write the image; does the folder exist and is the extension .png or .jpg?"));
}

}  // namespace crowdrt::eval
