#include <gtest/gtest.h>

#include "vision/frame.h"
#include "vision/network_input.h"
#include "vision/pack_five_channel.h"

using namespace crowdrt;
using namespace crowdrt::vision;

TEST(PackNetworkInput, ChannelsAreRGBOver255ThenRawFlowInNCHW) {
  cv::Mat rgb(2, 3, CV_8UC3);
  cv::Mat flow(2, 3, CV_32FC2);
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 3; ++x) {
      rgb.at<cv::Vec3b>(y, x) = cv::Vec3b(10 * x + y, 100 + x, 255 - y);
      flow.at<cv::Vec2f>(y, x) = cv::Vec2f(x - 1.5f, y * 0.25f);
    }
  const Tensor t = pack_network_input(rgb, flow, 5);
  ASSERT_EQ(t.shape(), (Shape{1, 5, 2, 3}));
  const float* d = t.data<float>();
  const auto at = [&](int c, int y, int x) { return d[(c * 2 + y) * 3 + x]; };
  EXPECT_FLOAT_EQ(at(0, 1, 2), 21 / 255.0f);
  EXPECT_FLOAT_EQ(at(1, 0, 1), 101 / 255.0f);
  EXPECT_FLOAT_EQ(at(2, 1, 0), 254 / 255.0f);
  EXPECT_FLOAT_EQ(at(3, 0, 0), -1.5f);
  EXPECT_FLOAT_EQ(at(4, 1, 2), 0.25f);
  EXPECT_EQ(pack_network_input(rgb, cv::Mat(), 3).shape(), (Shape{1, 3, 2, 3}));
  EXPECT_THROW(pack_network_input(rgb, cv::Mat(), 5), Error);
  EXPECT_THROW(pack_network_input(rgb, flow, 4), Error);
}

TEST(PackResizedStack, FlowIsResizedWithTheImageAndKeepsItsPixelUnits) {
  cv::Mat rgb(8, 8, CV_8UC3, cv::Scalar(30, 60, 90));
  cv::Mat flow(8, 8, CV_32FC2, cv::Scalar(1.25, -3));
  const Tensor t = pack_resized_stack(rgb, flow, {4, 4}, 5);
  ASSERT_EQ(t.shape(), (Shape{1, 5, 4, 4}));
  const float* d = t.data<float>();
  EXPECT_NEAR(d[0], 30 / 255.0f, 1e-6);
  EXPECT_NEAR(d[3 * 16 + 5], 1.25f, 1e-5);
  EXPECT_NEAR(d[4 * 16 + 15], -3.0f, 1e-5);
}

TEST(SeedGray, UsesTheBgrFormulaOnRgbDataAsTheSeedDoes) {
  cv::Mat rgb(1, 1, CV_8UC3, cv::Scalar(255, 0, 0));  // pure red in RGB order
  // COLOR_BGR2GRAY weighs the first channel by 0.114: red counts as blue would.
  EXPECT_EQ(seed_gray_from_rgb(rgb).at<uint8_t>(0, 0), 29);
  EXPECT_EQ(gray_from_bgr(rgb).at<uint8_t>(0, 0), 29);
  cv::Mat bgr_red(1, 1, CV_8UC3, cv::Scalar(0, 0, 255));
  EXPECT_EQ(gray_from_bgr(bgr_red).at<uint8_t>(0, 0), 76);
}

TEST(NetworkInput, RefusesFiveChannelsWithoutFlowAndOtherChannelCounts) {
  EXPECT_THROW(NetworkInput({{64, 64}, 5, FlowPreset::none, InputVariant::eval}), Error);
  EXPECT_THROW(NetworkInput({{64, 64}, 4, FlowPreset::fast, InputVariant::eval}), Error);
  NetworkInput three({{16, 8}, 3, FlowPreset::none, InputVariant::eval});
  EXPECT_EQ(three.next(cv::Mat(20, 30, CV_8UC3, cv::Scalar(1, 2, 3))).shape(), (Shape{1, 3, 8, 16}));
}

TEST(ParseFrameSize, AcceptsWxHAndExplainsOtherwise) {
  EXPECT_EQ(parse_frame_size("608x352", "--size"), cv::Size(608, 352));
  for (const char* bad : {"608", "x608", "608x", "0x5", "6o8x608", "608x608x3", "-1x5"})
    EXPECT_THROW(parse_frame_size(bad, "--size"), Error) << bad;
}
