#include "vision/network_input.h"

#include "core/error.h"
#include "vision/frame.h"
#include "vision/pack_five_channel.h"

namespace crowdrt::vision {

InputVariant parse_input_variant(const std::string& name) {
  if (name == "eval") return InputVariant::eval;
  if (name == "calib" || name == "calibration") return InputVariant::calibration;
  throw Error(cat("input mode '", name,
                  "': choose eval (resize, then flow) or calib (flow at source resolution, then resize)"));
}

NetworkInput::NetworkInput(const NetworkInputOptions& options) : options_(options) {
  if (options.channels != 3 && options.channels != 5)
    throw Error(cat(options.channels, " input channels: crowdrt feeds 3 (RGB) or 5 (RGB + optical flow)"));
  if (options.size.width <= 0 || options.size.height <= 0)
    throw Error(cat("network size ", options.size.width, "x", options.size.height, ": must be positive"));
  if (options.channels == 5) {
    if (options.flow == FlowPreset::none)
      throw Error("5-channel input needs optical flow: choose --flow ultrafast, fast or medium");
    flow_ = std::make_unique<DisFlow>(options.flow);
  }
}

void NetworkInput::start_sequence() {
  if (flow_) flow_->start_sequence();
}

Tensor NetworkInput::next(const cv::Mat& bgr) {
  if (options_.variant == InputVariant::eval) {
    const cv::Mat rgb = bgr_to_rgb(resize_frame(bgr, options_.size));
    if (!flow_) return pack_network_input(rgb, cv::Mat(), 3);
    const cv::Mat& flow = flow_->next(seed_gray_from_rgb(rgb));
    return pack_network_input(rgb, flow, 5);
  }
  const cv::Mat rgb = bgr_to_rgb(bgr);
  if (!flow_) return pack_resized_stack(rgb, cv::Mat(), options_.size, 3);
  const cv::Mat& flow = flow_->next(gray_from_bgr(bgr));
  return pack_resized_stack(rgb, flow, options_.size, 5);
}

}  // namespace crowdrt::vision
