// The network input: NCHW float32, batch 1, channels R, G, B (divided by 255) then Fx, Fy (pixels).
#pragma once
#include <opencv2/core.hpp>

#include "core/tensor.h"

namespace crowdrt::vision {

// rgb: CV_8UC3 at the network size; flow: CV_32FC2 of the same size, or empty when channels == 3.
// Gives 1 x channels x H x W (SEED.md "Input tensor", steps 4 and 5).
Tensor pack_network_input(const cv::Mat& rgb, const cv::Mat& flow, int channels);

// The calibration variant (the seed's crowd_trt_calibrator.py): rgb and flow at source resolution are
// stacked as floats (R, G, B, 255*Fx, 255*Fy), the stack is resized bilinearly to `size`, then divided
// by 255. With channels == 3 it is the uint8 RGB that is resized, as in the calibrator.
Tensor pack_resized_stack(const cv::Mat& rgb, const cv::Mat& flow, cv::Size size, int channels);

}  // namespace crowdrt::vision
