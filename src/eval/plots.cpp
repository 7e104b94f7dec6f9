#include "eval/plots.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/atomic_file.h"
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

cv::Size label_size(const std::string& text, double scale) {
  int baseline = 0;
  const int thick = std::max(1, static_cast<int>(std::lround(scale * 2)));
  return cv::getTextSize(text, cv::FONT_HERSHEY_SIMPLEX, scale, thick + 2, &baseline);
}

// 1, 2 or 5 times a power of ten, the nearest to raw (Heckbert, "Nice numbers for graph labels", Graphics Gems).
// Returned as {multiple, power}: step = multiple * 10^power, kept apart so that tick values are exact.
std::pair<int64_t, int> round_step(double raw) {
  const int power = static_cast<int>(std::floor(std::log10(raw)));
  const double r = raw / std::pow(10.0, power);
  if (r < 1.5) return {1, power};
  if (r < 3) return {2, power};
  if (r < 7) return {5, power};
  return {1, power + 1};
}

double times_power_of_ten(int64_t multiple, int power) {
  // Dividing by an exact power of ten keeps 0.3 as 0.3 (3 * 0.1 is 0.30000000000000004).
  return power >= 0 ? static_cast<double>(multiple) * std::pow(10.0, power)
                    : static_cast<double>(multiple) / std::pow(10.0, -power);
}
}  // namespace

std::vector<double> round_ticks(double high, int intervals) {
  if (!(high > 0) || !std::isfinite(high)) high = 1;
  const auto [multiple, power] = round_step(high / std::max(1, intervals));
  const double step = times_power_of_ten(multiple, power);
  const auto n = static_cast<int64_t>(std::ceil(high / step - 1e-9));
  std::vector<double> ticks;
  for (int64_t i = 0; i <= std::max<int64_t>(n, 1); ++i) ticks.push_back(times_power_of_ten(i * multiple, power));
  return ticks;
}

std::vector<int64_t> frame_ticks(int64_t frames, int intervals) {
  std::vector<int64_t> ticks{1};
  if (frames <= 1) return ticks;
  const auto [multiple, power] = round_step(static_cast<double>(frames - 1) / std::max(1, intervals));
  const int64_t step = std::max<int64_t>(1, std::llround(times_power_of_ten(multiple, power)));  // whole frames
  for (int64_t t = step; t <= frames; t += step)
    if (t > 1) ticks.push_back(t);
  return ticks;
}

cv::Rect colour_bar_area(cv::Size frame) {
  const int width = std::max(6, frame.width / 50), height = std::max(10, frame.height * 3 / 5);
  const int margin = std::max(4, frame.width / 100);
  return {frame.width - width - margin, (frame.height - height) / 2, width, height};
}

cv::Mat density_overlay(const cv::Mat& frame_bgr, const Tensor& density, double count, double truth) {
  const Shape& s = density.shape();
  if (s.size() != 4 || s[0] != 1 || s[1] != 1)
    throw Error(cat("density_overlay: a 1x1xHxW map is needed, not ", shape_str(s)));
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
  // The colour scale: JET from 0 (bottom) to the peak (top), the peak in people per 100x100 frame pixels
  // (a map value is a hundredth of a person, spread over the frame pixels its cell covers).
  const cv::Rect bar = colour_bar_area(out.size());
  for (int y = 0; y < bar.height; ++y) {
    cv::Mat level(1, 1, CV_8U, cv::Scalar(255 - 255 * y / std::max(1, bar.height - 1))), colour;
    cv::applyColorMap(level, colour, cv::COLORMAP_JET);
    cv::line(out, {bar.x, bar.y + y}, {bar.x + bar.width - 1, bar.y + y}, cv::Scalar(colour.at<cv::Vec3b>(0, 0)), 1);
  }
  cv::rectangle(out, bar, cv::Scalar(255, 255, 255), 1);
  const double peak_per_area = std::max(peak, 0.0) / 100.0 * static_cast<double>(s[2] * s[3]) /
                               (static_cast<double>(out.rows) * out.cols) * 1e4;
  const double bar_scale = scale * 0.8;
  const std::string top = format("%.2g", peak_per_area), caption = "per 100x100 px";
  label(out, top, {bar.x - 4 - label_size(top, bar_scale).width, bar.y + label_size(top, bar_scale).height}, bar_scale);
  label(out, "0", {bar.x - 4 - label_size("0", bar_scale).width, bar.y + bar.height}, bar_scale);
  const cv::Size caption_size = label_size(caption, bar_scale);
  if (caption_size.width + 8 < out.cols && bar.y + bar.height + caption_size.height + 6 < out.rows)
    label(out, caption, {bar.x + bar.width - caption_size.width, bar.y + bar.height + caption_size.height + 4},
          bar_scale);
  label(out, format("count %.1f", count), cv::Point(static_cast<int>(12 * scale), static_cast<int>(36 * scale)), scale);
  if (truth >= 0)
    label(out, format("true %.0f", truth), cv::Point(static_cast<int>(12 * scale), static_cast<int>(72 * scale)),
          scale);
  return out;
}

cv::Mat count_plot(const std::vector<CountSeries>& series, const std::string& title, cv::Size size) {
  cv::Mat image(size, CV_8UC3, cv::Scalar(255, 255, 255));
  const int left = 60, right = 20, top = 60, bottom = 48;
  const cv::Rect area(left, top, size.width - left - right, size.height - top - bottom);
  size_t n = 0;
  double largest = 0;
  for (const CountSeries& s : series) {
    n = std::max(n, s.values.size());
    for (double v : s.values) largest = std::max(largest, v);
  }
  const std::vector<double> y_ticks = round_ticks(std::max(largest, 1.0));
  const double high = y_ticks.back();
  // Frame f (1-based, as in the counts CSV) at the left edge for 1 and the right edge for n.
  const auto x_of = [&](double frame) {
    const double fx = n > 1 ? (frame - 1) / static_cast<double>(n - 1) : 0.5;
    return area.x + static_cast<int>(std::lround(fx * area.width));
  };
  const auto to_point = [&](size_t i, double v) {
    return cv::Point(x_of(static_cast<double>(i + 1)),
                     area.y + area.height - static_cast<int>(std::lround(std::max(0.0, v) / high * area.height)));
  };
  const cv::Scalar grey(200, 200, 200), black(0, 0, 0);
  for (double v : y_ticks) {
    const int y = area.y + area.height - static_cast<int>(std::lround(v / high * area.height));
    cv::line(image, {area.x, y}, {area.x + area.width, y}, grey, 1);
    const std::string text = format("%g", v);
    int baseline = 0;
    const cv::Size t = cv::getTextSize(text, cv::FONT_HERSHEY_SIMPLEX, 0.45, 1, &baseline);
    cv::putText(image, text, {area.x - 6 - t.width, y + 5}, cv::FONT_HERSHEY_SIMPLEX, 0.45, black, 1, cv::LINE_AA);
  }
  if (n > 0)
    for (int64_t f : frame_ticks(static_cast<int64_t>(n))) {
      const int x = x_of(static_cast<double>(f));
      cv::line(image, {x, area.y + area.height}, {x, area.y + area.height + 4}, black, 1);
      const std::string text = std::to_string(f);
      int baseline = 0;
      const cv::Size t = cv::getTextSize(text, cv::FONT_HERSHEY_SIMPLEX, 0.45, 1, &baseline);
      cv::putText(image, text, {x - t.width / 2, area.y + area.height + 8 + t.height}, cv::FONT_HERSHEY_SIMPLEX, 0.45,
                  black, 1, cv::LINE_AA);
    }
  cv::rectangle(image, area, black, 1);
  for (const CountSeries& s : series)
    for (size_t i = 1; i < s.values.size(); ++i)
      cv::line(image, to_point(i - 1, s.values[i - 1]), to_point(i, s.values[i]), s.colour, 2, cv::LINE_AA);
  cv::putText(image, title, {left, 22}, cv::FONT_HERSHEY_SIMPLEX, 0.6, black, 1, cv::LINE_AA);
  cv::putText(image, "frame", {area.x + area.width / 2 - 20, size.height - 6}, cv::FONT_HERSHEY_SIMPLEX, 0.45, black, 1,
              cv::LINE_AA);
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
  // Encoded in memory and written through an AtomicFile: cv::imwrite does not check the close of its file, so a
  // full disk could leave a short image under the name.
  std::vector<uchar> bytes;
  bool ok = false;
  try {
    ok = cv::imencode(std::filesystem::path(path).extension().string(), image, bytes);
  } catch (const cv::Exception& e) {
    throw Error(cat(path, ": cannot encode the image (", e.what(), "); is the extension .png or .jpg?"));
  }
  if (!ok) throw Error(cat(path, ": cannot encode the image; is the extension .png or .jpg?"));
  write_file_atomic(path, std::as_bytes(std::span(bytes.data(), bytes.size())));
}

}  // namespace crowdrt::eval
