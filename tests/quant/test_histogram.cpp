#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "core/error.h"
#include "quant/histogram.h"

using namespace crowdrt;
using namespace crowdrt::quant;

namespace {
std::vector<float> uniform_values(size_t n, float lo, float hi, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = u(rng);
  return v;
}
}  // namespace

TEST(AbsHistogram, MinMaxIsTheLargestMagnitudeOverAllBatches) {
  AbsHistogram h;
  h.collect(uniform_values(1000, -2.f, 2.f, 1));
  const std::vector<float> second = {0.5f, -7.25f, NAN, INFINITY};
  h.collect(second);
  EXPECT_EQ(minmax_amax(h), 7.25f);
  EXPECT_EQ(h.total(), 1002);  // NaN and inf are skipped
  EXPECT_GE(h.counts().size(), 2048u);
  EXPECT_NEAR(h.bin_width() * h.counts().size(), 7.25, h.bin_width());  // bins added at the same width
}

TEST(AbsHistogram, ZerosBeforeTheFirstNonZeroBatchAreKept) {
  AbsHistogram h;
  const std::vector<float> zeros(10, 0.f), ones(10, 1.f);
  h.collect(zeros);
  h.collect(ones);
  EXPECT_EQ(h.total(), 20);
  EXPECT_EQ(h.counts()[0], 10);
}

TEST(Percentile, CutsTheTailAtTheRequestedShare) {
  AbsHistogram h;
  h.collect(uniform_values(100000, 0.f, 1.f, 2));
  EXPECT_NEAR(percentile_amax(h, 50.0), 0.5f, 0.01f);
  EXPECT_NEAR(percentile_amax(h, 99.99), 1.0f, 0.01f);
}

TEST(Entropy, KeepsNearlyTheWholeRangeOfAUniformDistribution) {
  AbsHistogram h;
  h.collect(uniform_values(200000, -1.f, 1.f, 3));
  const float amax = entropy_amax(h);
  EXPECT_GT(amax, 0.9f);
  EXPECT_LE(amax, 1.001f);
}

TEST(Entropy, ClipsAHeavyTailInsideTheRangeAndBelowTheMax) {
  // Most values small (Laplace-like), a few huge outliers: the threshold must sit well below max|x|.
  std::mt19937 rng(4);
  std::exponential_distribution<float> e(4.f);
  std::vector<float> v(200000);
  for (float& x : v) x = e(rng);
  v[0] = 100.f;
  v[1] = -80.f;
  AbsHistogram h;
  h.collect(v);
  const float amax = entropy_amax(h);
  EXPECT_GT(amax, 0.5f);             // keeps the bulk (95% of |x| is below ~0.75)
  EXPECT_LT(amax, 0.25f * 100.f);    // and clips the outliers
  EXPECT_LT(amax, minmax_amax(h));
  EXPECT_EQ(minmax_amax(h), 100.f);
}

TEST(CalibrationMethod, NamesAreCheckedWithTheValidOnesListed) {
  EXPECT_EQ(calibration_method_from_name("entropy"), CalibrationMethod::entropy);
  EXPECT_EQ(calibration_method_from_name("percentile"), CalibrationMethod::percentile);
  try {
    calibration_method_from_name("kl");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("minmax"), std::string::npos);
  }
}
