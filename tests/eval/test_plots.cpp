#include <gtest/gtest.h>

#include <cmath>
#include <opencv2/core.hpp>

#include "eval/plots.h"

using namespace crowdrt;
using namespace crowdrt::eval;

TEST(RoundTicks, AreMultiplesOfOneTwoOrFiveTimesAPowerOfTenFromZeroPastTheHighest) {
  EXPECT_EQ(round_ticks(11), (std::vector<double>{0, 2, 4, 6, 8, 10, 12}));
  EXPECT_EQ(round_ticks(10.24), (std::vector<double>{0, 2, 4, 6, 8, 10, 12}));
  EXPECT_EQ(round_ticks(1000), (std::vector<double>{0, 200, 400, 600, 800, 1000}));
  EXPECT_EQ(round_ticks(37), (std::vector<double>{0, 10, 20, 30, 40}));
  EXPECT_EQ(round_ticks(0.37),
            (std::vector<double>{0, 0.1, 0.2, 0.3, 0.4}));  // exact decimals, not 0.30000000000000004
  EXPECT_EQ(round_ticks(0), (std::vector<double>{0, 0.2, 0.4, 0.6, 0.8, 1}));    // nothing to show: 0 to 1
}

TEST(RoundTicks, EndAtTheFirstStepAtOrAboveTheHighestValue) {
  for (double high : {0.013, 0.9, 1.0, 3.3, 7.0, 9.99, 64.5, 128.0, 999.0, 12345.0}) {
    const std::vector<double> t = round_ticks(high);
    ASSERT_GE(t.size(), 3u) << high;
    ASSERT_LE(t.size(), 9u) << high;
    const double step = t[1];
    const double mantissa = step / std::pow(10.0, std::floor(std::log10(step)));
    EXPECT_TRUE(std::abs(mantissa - 1) < 1e-9 || std::abs(mantissa - 2) < 1e-9 || std::abs(mantissa - 5) < 1e-9)
        << high << ": step " << step;
    EXPECT_EQ(t.front(), 0) << high;
    EXPECT_GE(t.back(), high) << high;
    EXPECT_LT(t[t.size() - 2], high) << high;
  }
}

TEST(FrameTicks, NumberFramesFromOneAsTheCountsCsvDoes) {
  EXPECT_EQ(frame_ticks(1), (std::vector<int64_t>{1}));
  EXPECT_EQ(frame_ticks(5), (std::vector<int64_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ(frame_ticks(100), (std::vector<int64_t>{1, 20, 40, 60, 80, 100}));
  EXPECT_EQ(frame_ticks(36), (std::vector<int64_t>{1, 5, 10, 15, 20, 25, 30, 35}));
}

TEST(DensityOverlay, HasAColourBarFromBlueAtZeroToRedAtThePeak) {
  const cv::Mat frame(120, 300, CV_8UC3, cv::Scalar(128, 128, 128));
  Tensor density(DType::f32, {1, 1, 4, 4});
  for (int i = 0; i < 16; ++i) density.data<float>()[i] = static_cast<float>(i);
  const cv::Mat out = density_overlay(frame, density, 1.2);
  ASSERT_EQ(out.size(), frame.size());
  const cv::Rect bar = colour_bar_area(frame.size());
  ASSERT_TRUE((bar & cv::Rect(0, 0, frame.cols, frame.rows)) == bar);
  const cv::Vec3b top = out.at<cv::Vec3b>(bar.y + 2, bar.x + bar.width / 2);           // BGR
  const cv::Vec3b bottom = out.at<cv::Vec3b>(bar.y + bar.height - 3, bar.x + bar.width / 2);
  EXPECT_GT(top[2], 100);
  EXPECT_LT(top[0], 40);
  EXPECT_GT(bottom[0], 100);
  EXPECT_LT(bottom[2], 40);
}
