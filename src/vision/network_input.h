// Frame after frame of one sequence into network input tensors, in the seed's two variants.
#pragma once
#include <memory>
#include <opencv2/core.hpp>

#include "core/tensor.h"
#include "vision/dis_flow.h"

namespace crowdrt::vision {

// eval: resize first, then flow on the resized seed gray (the seed's eval.py).
// calibration: flow on the source-resolution gray of prepare_calibration_data.py (true BGR gray), then the
// stacked channels are resized (crowd_trt_calibrator.py).
enum class InputVariant { eval, calibration };
InputVariant parse_input_variant(const std::string& name);  // "eval" | "calib"

struct NetworkInputOptions {
  cv::Size size{608, 608};
  int channels = 5;
  FlowPreset flow = FlowPreset::medium;
  InputVariant variant = InputVariant::eval;
};

class NetworkInput {
 public:
  // Error for channels other than 3 or 5, or 5 channels with flow `none`. Three channels compute no flow.
  explicit NetworkInput(const NetworkInputOptions& options);
  // The next frame is the first of a sequence (flow restarts from zero; the seed's eval.py does not
  // reset, see SEED.md).
  void start_sequence();
  // 1 x channels x H x W float32 for this BGR frame.
  Tensor next(const cv::Mat& bgr);
  const NetworkInputOptions& options() const { return options_; }

 private:
  NetworkInputOptions options_;
  std::unique_ptr<DisFlow> flow_;
};

}  // namespace crowdrt::vision
