#include "vision/dis_flow.h"

#include <opencv2/imgproc.hpp>

#include "core/error.h"

namespace crowdrt::vision {

FlowPreset parse_flow_preset(const std::string& name) {
  if (name == "none") return FlowPreset::none;
  if (name == "ultrafast") return FlowPreset::ultrafast;
  if (name == "fast") return FlowPreset::fast;
  if (name == "medium") return FlowPreset::medium;
  throw Error(cat("flow preset '", name, "': choose ultrafast, fast, medium, or none (3-channel models)"));
}

const char* flow_preset_name(FlowPreset preset) {
  switch (preset) {
    case FlowPreset::none: return "none";
    case FlowPreset::ultrafast: return "ultrafast";
    case FlowPreset::fast: return "fast";
    case FlowPreset::medium: return "medium";
  }
  return "?";
}

cv::Mat warp_flow_by_itself(const cv::Mat& flow) {
  CV_Assert(flow.type() == CV_32FC2);
  cv::Mat map(flow.size(), CV_32FC2);
  for (int y = 0; y < flow.rows; ++y) {
    const cv::Vec2f* f = flow.ptr<cv::Vec2f>(y);
    cv::Vec2f* m = map.ptr<cv::Vec2f>(y);
    for (int x = 0; x < flow.cols; ++x)
      m[x] = cv::Vec2f(static_cast<float>(x) - f[x][0], static_cast<float>(y) - f[x][1]);
  }
  cv::Mat warped;
  cv::remap(flow, warped, map, cv::noArray(), cv::INTER_LINEAR);
  return warped;
}

DisFlow::DisFlow(FlowPreset preset) {
  int cv_preset = 0;
  switch (preset) {
    case FlowPreset::ultrafast: cv_preset = cv::DISOpticalFlow::PRESET_ULTRAFAST; break;
    case FlowPreset::fast: cv_preset = cv::DISOpticalFlow::PRESET_FAST; break;
    case FlowPreset::medium: cv_preset = cv::DISOpticalFlow::PRESET_MEDIUM; break;
    case FlowPreset::none:
      throw Error("DisFlow: flow preset 'none' computes no flow; choose ultrafast, fast or medium");
  }
  dis_ = cv::DISOpticalFlow::create(cv_preset);
  dis_->setUseSpatialPropagation(false);
}

void DisFlow::start_sequence() {
  previous_gray_.release();
  flow_.release();
}

void DisFlow::resume_after(const cv::Mat& previous_gray, const cv::Mat& previous_flow) {
  if (previous_gray.type() != CV_8UC1 || previous_flow.type() != CV_32FC2 ||
      previous_gray.size() != previous_flow.size())
    throw Error("DisFlow::resume_after: expected an 8-bit gray frame and CV_32FC2 flow of the same size");
  previous_gray_ = previous_gray.clone();
  flow_ = previous_flow.clone();
}

const cv::Mat& DisFlow::next(const cv::Mat& gray) {
  if (gray.type() != CV_8UC1) throw Error("DisFlow::next: expected an 8-bit gray frame");
  if (!previous_gray_.empty() && previous_gray_.size() != gray.size())
    throw Error(cat("frame size changed within a sequence (", previous_gray_.cols, "x", previous_gray_.rows, " to ",
                    gray.cols, "x", gray.rows, "); optical flow needs equal sizes"));
  if (previous_gray_.empty()) {
    cv::Mat flow;  // empty: DIS starts from zero
    dis_->calc(gray, gray, flow);
    flow_ = flow;
  } else {
    // DIS takes the flow argument as its starting point when it already has the frame's size and CV_32FC2.
    cv::Mat flow = warp_flow_by_itself(flow_);
    dis_->calc(previous_gray_, gray, flow);
    flow_ = flow;
  }
  previous_gray_ = gray.clone();
  return flow_;
}

}  // namespace crowdrt::vision
