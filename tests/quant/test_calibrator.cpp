// The calibrator over named tensors, the bridge to TensorRT's cache (scales, algorithm names, refusing a cache
// of another algorithm), histogram coarsening, and entropy on a ReLU output (mostly zeros).
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "core/error.h"
#include "quant/calibrator.h"

namespace crowdrt::quant {
namespace {

std::vector<float> normal(size_t n, uint32_t seed, float sigma = 1.f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.f, sigma);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

TEST(Calibrator, MinMaxOfEachTensorInTheGivenOrderAndAllZeroTensorsLeftOut) {
  Calibrator c(CalibrationMethod::minmax, {"input", "/conv/Conv_output_0", "/zeros"});
  c.collect(0, std::vector<float>{0.f, 0.5f, -1.f});
  c.collect(1, std::vector<float>{3.f, -7.25f});
  c.collect(2, std::vector<float>{0.f, 0.f});
  c.batch_done();
  c.collect(0, std::vector<float>{2.f, -0.25f});
  c.collect(1, std::vector<float>{1.f});
  c.collect(2, std::vector<float>{0.f});
  c.batch_done();
  const auto amax = c.amax();
  ASSERT_EQ(amax.size(), 2u);
  EXPECT_EQ(amax[0], (std::pair<std::string, float>("input", 2.f)));
  EXPECT_EQ(amax[1], (std::pair<std::string, float>("/conv/Conv_output_0", 7.25f)));
  EXPECT_EQ(c.batches(), 2);
}

TEST(Calibrator, OurCacheParsesBackToTheSameScalesBitForBit) {
  const std::vector<std::pair<std::string, float>> amax = {{"input", 255.06f}, {"/a/Conv_output_0", 0.1234567f},
                                                           {"/b/Relu_output_0", 3.5e-3f}};
  for (CalibrationMethod m : {CalibrationMethod::entropy, CalibrationMethod::minmax, CalibrationMethod::percentile}) {
    const CalibrationCache cache = cache_from_amax(amax, m, "8600");
    const std::string text = format_calibration_cache(cache);
    EXPECT_EQ(text.substr(0, text.find('\n')), std::string("TRT-8600-") + cache_algorithm(m));
    const CalibrationCache back = parse_calibration_cache(text, "ours");
    ASSERT_EQ(back.scales.size(), amax.size());
    for (size_t i = 0; i < amax.size(); ++i) {
      EXPECT_EQ(back.scales[i].first, amax[i].first);
      const float expected = amax[i].second / 127.f;
      EXPECT_EQ(std::memcmp(&back.scales[i].second, &expected, sizeof(float)), 0) << amax[i].first;
    }
    const std::map<std::string, float> read = amax_from_cache(back, m, "ours");
    EXPECT_FLOAT_EQ(read.at("input"), 255.06f);
  }
}

TEST(Calibrator, ATensorRTCacheGivesAmaxAsScaleTimes127) {
  // 0x4000890a = 2.00836 (QUANT.md: pixels 0..255 → 255.06 / 127); 0x3f800000 = 1.0
  const CalibrationCache cache = parse_calibration_cache(
      "TRT-8510-EntropyCalibration2\ninput: 4000890a\n/encoder/conv1/Conv_output_0: 3f800000\n", "trt.cache");
  const std::map<std::string, float> amax = amax_from_cache(cache, CalibrationMethod::entropy, "trt.cache");
  EXPECT_NEAR(amax.at("input"), 255.06f, 0.01f);
  EXPECT_FLOAT_EQ(amax.at("/encoder/conv1/Conv_output_0"), 127.f);
}

TEST(Calibrator, ACacheOfAnotherAlgorithmIsRefusedNamingBoth) {
  const CalibrationCache minmax = parse_calibration_cache("TRT-8510-MinMaxCalibration\ninput: 3f800000\n", "m.bin");
  try {
    amax_from_cache(minmax, CalibrationMethod::entropy, "m.bin");
    FAIL() << "no error";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("m.bin"), std::string::npos) << what;
    EXPECT_NE(what.find("MinMaxCalibration"), std::string::npos) << what;
    EXPECT_NE(what.find("EntropyCalibration2"), std::string::npos) << what;
  }
  // TensorRT's legacy entropy calibrator's cache serves the entropy method
  const CalibrationCache legacy = parse_calibration_cache("TRT-7103-EntropyCalibration\ninput: 3f800000\n", "e.bin");
  EXPECT_EQ(amax_from_cache(legacy, CalibrationMethod::entropy, "e.bin").size(), 1u);
}

TEST(AbsHistogram, CoarseningKeepsTheCountsAndWidensTheBins) {
  AbsHistogram h(2048);
  h.collect(normal(20000, 3));
  h.collect(normal(20000, 4, 10.f));  // a later, wider batch grows the histogram well past 2048 bins
  const size_t bins = h.counts().size();
  ASSERT_GT(bins, 2048u * 4);
  const double width = h.bin_width();
  const int64_t total = h.total();
  const float max = h.max_seen();
  h.coarsen(2048);
  EXPECT_LE(h.counts().size(), 2048u);
  const double factor = h.bin_width() / width;
  EXPECT_EQ(factor, std::ceil(static_cast<double>(bins) / 2048));
  int64_t sum = 0;
  for (int64_t c : h.counts()) sum += c;
  EXPECT_EQ(sum, total);
  EXPECT_EQ(h.max_seen(), max);
  EXPECT_GE(h.counts().size() * h.bin_width(), max);
}

// A ReLU output: 95% exact zeros, the rest uniform on (0, 1]. Nothing to clip, so the threshold is near the max;
// with the zeros left in bin 0, the search picks 0.12 (256 of 2048 bins), clipping 88% of the non-zero values.
TEST(Entropy, ZerosOfAReluDoNotPullTheThresholdToTheFirstCandidate) {
  std::mt19937 rng(9);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  std::vector<float> v(200000);
  for (size_t i = 0; i < v.size(); ++i) v[i] = i % 20 != 0 ? 0.f : u(rng);
  AbsHistogram h;
  h.collect(v);
  const float amax = entropy_amax(h);
  EXPECT_GT(amax, 0.9f) << amax;
  EXPECT_LE(amax, 1.001f) << amax;
}

// A ReLU6 output: most values small (mean 0.125), 0.1% saturated at the bound 6. Entropy alone cuts the saturated
// values off (they are few, and KL weighs bins by how many values they hold); flagged as bounded, the tensor keeps
// [0, 6].
TEST(Calibrator, EntropyKeepsTheObservedRangeOfABoundedClipOutput) {
  std::mt19937 rng(12);
  std::exponential_distribution<float> e(8.f);
  std::vector<float> v(200000);
  for (size_t i = 0; i < v.size(); ++i) v[i] = i % 1000 == 0 ? 6.f : std::min(e(rng), 6.f);
  Calibrator c(CalibrationMethod::entropy, {"/relu/Relu_output_0", "/relu6/Clip_output_0"}, {false, true});
  c.collect(0, v);
  c.collect(1, v);
  c.batch_done();
  const auto amax = c.amax();
  ASSERT_EQ(amax.size(), 2u);
  EXPECT_LT(amax[0].second, 3.f) << "entropy on the unflagged tensor";
  EXPECT_EQ(amax[1].second, 6.f);
  // minmax and percentile are unchanged by the flag
  Calibrator p(CalibrationMethod::percentile, {"a", "b"}, {false, true});
  p.collect(0, v);
  p.collect(1, v);
  EXPECT_EQ(p.amax()[0].second, p.amax()[1].second);
  EXPECT_THROW(Calibrator(CalibrationMethod::entropy, {"a", "b"}, {true}), Error);
}

}  // namespace
}  // namespace crowdrt::quant
