#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "core/error.h"
#include "vision/dis_flow.h"

using namespace crowdrt;
using namespace crowdrt::vision;

namespace {
// A textured gray image: smooth blobs so that DIS finds structure at every scale.
cv::Mat texture(cv::Size size, int seed) {
  cv::Mat small(size.height / 8, size.width / 8, CV_8U);
  cv::RNG rng(seed);
  rng.fill(small, cv::RNG::UNIFORM, 0, 256);
  cv::Mat big;
  cv::resize(small, big, size, 0, 0, cv::INTER_CUBIC);
  return big;
}
cv::Mat shifted(const cv::Mat& image, double dx, double dy) {
  cv::Mat out;
  const cv::Matx23d m(1, 0, dx, 0, 1, dy);
  cv::warpAffine(image, out, cv::Mat(m), image.size(), cv::INTER_LINEAR, cv::BORDER_REFLECT_101);
  return out;
}
}  // namespace

TEST(DisFlow, PresetNamesRoundTripAndUnknownNamesListTheChoices) {
  for (FlowPreset p : {FlowPreset::none, FlowPreset::ultrafast, FlowPreset::fast, FlowPreset::medium})
    EXPECT_EQ(parse_flow_preset(flow_preset_name(p)), p);
  try {
    parse_flow_preset("slow");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("ultrafast, fast, medium"), std::string::npos);
  }
  EXPECT_THROW(DisFlow(FlowPreset::none), Error);
}

TEST(DisFlow, FindsAUniformShiftOfATexturedImage) {
  const cv::Mat a = texture({128, 96}, 1);
  const cv::Mat b = shifted(a, 3, -2);  // content moves right 3, up 2
  for (FlowPreset p : {FlowPreset::ultrafast, FlowPreset::fast, FlowPreset::medium}) {
    DisFlow dis(p);
    dis.next(a);
    const cv::Mat flow = dis.next(b).clone();
    const cv::Scalar mean = cv::mean(flow(cv::Rect(24, 24, 80, 48)));
    const double tolerance = p == FlowPreset::ultrafast ? 0.6 : 0.3;  // ultrafast: coarse patches, few iterations
    EXPECT_NEAR(mean[0], 3.0, tolerance) << flow_preset_name(p);
    EXPECT_NEAR(mean[1], -2.0, tolerance) << flow_preset_name(p);
  }
}

TEST(DisFlow, FirstFrameOfASequenceIsComparedWithItself) {
  const cv::Mat a = texture({96, 64}, 2), b = shifted(a, 4, 0);
  DisFlow dis(FlowPreset::fast);
  dis.next(a);
  dis.next(b);
  dis.start_sequence();
  const cv::Mat flow = dis.next(b);
  EXPECT_LT(cv::norm(flow, cv::NORM_INF), 0.05);
}

TEST(DisFlow, ResumingFromAStoredFlowGivesTheSameNextFlow) {
  const cv::Mat a = texture({96, 64}, 3), b = shifted(a, 2, 1), c = shifted(a, 4, 2);
  DisFlow straight(FlowPreset::medium);
  straight.next(a);
  const cv::Mat flow_b = straight.next(b).clone();
  const cv::Mat flow_c = straight.next(c).clone();
  DisFlow resumed(FlowPreset::medium);
  resumed.resume_after(b, flow_b);
  EXPECT_EQ(cv::norm(resumed.next(c), flow_c, cv::NORM_INF), 0.0);
}

TEST(DisFlow, SizeChangeWithinASequenceIsAnError) {
  DisFlow dis(FlowPreset::ultrafast);
  dis.next(texture({64, 64}, 4));
  EXPECT_THROW(dis.next(texture({96, 64}, 4)), Error);
}

TEST(WarpFlowByItself, ConstantFlowStaysConstantInsideAndIsZeroWhereItLeavesTheImage) {
  cv::Mat flow(10, 12, CV_32FC2, cv::Scalar(2, 1));
  const cv::Mat warped = warp_flow_by_itself(flow);
  // map(x, y) = (x - 2, y - 1): inside for x >= 2, y >= 1, outside (border constant 0) elsewhere.
  EXPECT_EQ(warped.at<cv::Vec2f>(5, 6), cv::Vec2f(2, 1));
  EXPECT_EQ(warped.at<cv::Vec2f>(0, 6), cv::Vec2f(0, 0));
  EXPECT_EQ(warped.at<cv::Vec2f>(5, 0), cv::Vec2f(0, 0));
}
