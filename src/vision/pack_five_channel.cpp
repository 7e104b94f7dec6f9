#include "vision/pack_five_channel.h"

#include <opencv2/imgproc.hpp>

#include "core/error.h"

namespace crowdrt::vision {
namespace {
void check_inputs(const cv::Mat& rgb, const cv::Mat& flow, int channels) {
  if (channels != 3 && channels != 5)
    throw Error(cat("network input: ", channels, " channels; crowdrt packs 3 (RGB) or 5 (RGB + flow)"));
  if (rgb.type() != CV_8UC3) throw Error("network input: expected an 8-bit, 3-channel image");
  if (channels == 5) {
    if (flow.empty()) throw Error("network input: 5 channels need optical flow; choose a flow preset other than none");
    if (flow.type() != CV_32FC2 || flow.size() != rgb.size())
      throw Error(cat("network input: flow ", flow.cols, "x", flow.rows, " does not match the image ", rgb.cols, "x",
                      rgb.rows));
  }
}
}  // namespace

Tensor pack_network_input(const cv::Mat& rgb, const cv::Mat& flow, int channels) {
  check_inputs(rgb, flow, channels);
  const int h = rgb.rows, w = rgb.cols;
  Tensor tensor(DType::f32, {1, channels, h, w});
  float* out = tensor.data<float>();
  const size_t plane = static_cast<size_t>(h) * w;
  for (int y = 0; y < h; ++y) {
    const uint8_t* p = rgb.ptr<uint8_t>(y);
    float* r = out + static_cast<size_t>(y) * w;
    for (int x = 0; x < w; ++x) {
      r[x] = p[3 * x] / 255.0f;
      r[plane + x] = p[3 * x + 1] / 255.0f;
      r[2 * plane + x] = p[3 * x + 2] / 255.0f;
    }
    if (channels == 5) {
      const cv::Vec2f* f = flow.ptr<cv::Vec2f>(y);
      for (int x = 0; x < w; ++x) {
        r[3 * plane + x] = f[x][0];
        r[4 * plane + x] = f[x][1];
      }
    }
  }
  return tensor;
}

Tensor pack_resized_stack(const cv::Mat& rgb, const cv::Mat& flow, cv::Size size, int channels) {
  check_inputs(rgb, flow, channels);
  if (channels == 3) {
    cv::Mat resized;
    cv::resize(rgb, resized, size);
    return pack_network_input(resized, cv::Mat(), 3);
  }
  cv::Mat stack(rgb.size(), CV_32FC(5));
  for (int y = 0; y < rgb.rows; ++y) {
    const uint8_t* p = rgb.ptr<uint8_t>(y);
    const cv::Vec2f* f = flow.ptr<cv::Vec2f>(y);
    float* s = stack.ptr<float>(y);
    for (int x = 0; x < rgb.cols; ++x) {
      s[5 * x] = p[3 * x];
      s[5 * x + 1] = p[3 * x + 1];
      s[5 * x + 2] = p[3 * x + 2];
      s[5 * x + 3] = f[x][0] * 255.0f;
      s[5 * x + 4] = f[x][1] * 255.0f;
    }
  }
  cv::Mat resized;
  cv::resize(stack, resized, size);
  Tensor tensor(DType::f32, {1, 5, size.height, size.width});
  float* out = tensor.data<float>();
  const size_t plane = static_cast<size_t>(size.height) * size.width;
  for (int y = 0; y < size.height; ++y) {
    const float* s = resized.ptr<float>(y);
    for (int x = 0; x < size.width; ++x)
      for (int c = 0; c < 5; ++c) out[c * plane + static_cast<size_t>(y) * size.width + x] = s[5 * x + c] / 255.0f;
  }
  return tensor;
}

}  // namespace crowdrt::vision
