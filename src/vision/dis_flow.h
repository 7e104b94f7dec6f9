// DIS optical flow along a sequence, warm-started as the seed does (SEED.md "Input tensor", step 3).
#pragma once
#include <opencv2/core.hpp>
#include <opencv2/video/tracking.hpp>
#include <string>

#include "vision/flow_preset.h"

namespace crowdrt::vision {
FlowPreset parse_flow_preset(const std::string& name);  // Error listing the choices
const char* flow_preset_name(FlowPreset preset);

// The previous flow warped by itself: remap(flow, map(x,y) = (x - fx, y - fy), INTER_LINEAR).
cv::Mat warp_flow_by_itself(const cv::Mat& flow);

// One DIS instance (preset, spatial propagation off) and the state carried from frame to frame.
class DisFlow {
 public:
  explicit DisFlow(FlowPreset preset);  // Error for FlowPreset::none
  // Forget the previous frame and flow: the next frame is the first of a sequence.
  void start_sequence();
  // Flow (CV_32FC2, the gray frame's size) from the previous gray frame to this one. The first frame of
  // a sequence is compared with itself from a zero start; later ones start from the previous flow warped
  // by itself. Error if the frame size changes within a sequence.
  const cv::Mat& next(const cv::Mat& gray);
  // Continue a sequence whose frame `previous_gray` had flow `previous_flow` (e.g. read back from a file
  // this class produced): the next frame then gets exactly the flow it would have had without the break.
  void resume_after(const cv::Mat& previous_gray, const cv::Mat& previous_flow);

 private:
  cv::Ptr<cv::DISOpticalFlow> dis_;
  cv::Mat previous_gray_;
  cv::Mat flow_;
};

}  // namespace crowdrt::vision
