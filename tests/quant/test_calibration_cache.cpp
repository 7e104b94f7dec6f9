#include <gtest/gtest.h>

#include "core/error.h"
#include "quant/calibration_cache.h"

using namespace crowdrt;
using namespace crowdrt::quant;

TEST(CalibrationCache, ScalesAreFloat32BitsMostSignificantFirst) {
  EXPECT_EQ(scale_to_hex(1.0f), "3f800000");
  float s;
  ASSERT_TRUE(hex_to_scale("4000890a", &s));  // shared/QUANT.md's example: pixels 0..255, amax ~255.06
  EXPECT_NEAR(s, 2.00836f, 1e-5f);
  EXPECT_NEAR(s * 127.f, 255.06f, 0.01f);
  EXPECT_EQ(scale_to_hex(s), "4000890a");
  ASSERT_TRUE(hex_to_scale("3F800000", &s));
  EXPECT_EQ(s, 1.0f);
  EXPECT_FALSE(hex_to_scale("3f80000", &s));
  EXPECT_FALSE(hex_to_scale("3f80000g", &s));
}

TEST(CalibrationCache, OursRoundTripsToIdenticalScales) {
  CalibrationCache cache;
  cache.version = "8600";
  cache.scales = {{"input", 2.00836f}, {"/encoder/conv1/Conv_output_0", 0.0123f}, {"output", 1e-7f}};
  const std::string text = format_calibration_cache(cache);
  EXPECT_EQ(text.substr(0, text.find('\n')), "TRT-8600-EntropyCalibration2");
  const CalibrationCache back = parse_calibration_cache(text, "mem");
  EXPECT_EQ(back.version, "8600");
  EXPECT_EQ(back.algorithm, "EntropyCalibration2");
  ASSERT_EQ(back.scales.size(), cache.scales.size());
  for (size_t i = 0; i < cache.scales.size(); ++i) {
    EXPECT_EQ(back.scales[i].first, cache.scales[i].first);
    EXPECT_EQ(back.scales[i].second, cache.scales[i].second);  // bit-exact
  }
}

TEST(CalibrationCache, ReadsAHandWrittenTensorRTCacheWithCrlfAndBlankLines) {
  const std::string text =
      "TRT-7103-MinMaxCalibration\r\ninput: 4000890a\r\n\r\n/encoder/conv1/Conv_output_0: 3c010a14\r\n";
  const CalibrationCache cache = parse_calibration_cache(text, "trt.cache");
  EXPECT_EQ(cache.version, "7103");
  EXPECT_EQ(cache.algorithm, "MinMaxCalibration");
  ASSERT_EQ(cache.scales.size(), 2u);
  ASSERT_NE(cache.find("/encoder/conv1/Conv_output_0"), nullptr);
  EXPECT_NEAR(*cache.find("/encoder/conv1/Conv_output_0"), 0.00787594f, 1e-8f);
  EXPECT_EQ(scale_to_hex(*cache.find("/encoder/conv1/Conv_output_0")), "3c010a14");
  EXPECT_EQ(cache.find("missing"), nullptr);
}

TEST(CalibrationCache, MalformedFilesNameTheLine) {
  const std::pair<const char*, const char*> bad[] = {
      {"", "empty"},
      {"garbage\n", ":1:"},
      {"TRT-8510-SomethingElse\n", "unknown calibration algorithm"},
      {"TRT-x-EntropyCalibration2\n", "not a number"},
      {"TRT-8510-EntropyCalibration2\ninput 4000890a\n", ":2:"},
      {"TRT-8510-EntropyCalibration2\ninput: 4000890\n", ":2:"},
      {"TRT-8510-EntropyCalibration2\ninput: 7fc00000\n", "finite"},
      {"TRT-8510-EntropyCalibration2\na: 3f800000\na: 3f800000\n", "twice"},
  };
  for (const auto& [text, expected] : bad) {
    try {
      parse_calibration_cache(text, "c.cache");
      ADD_FAILURE() << "accepted: " << text;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
    }
  }
}

// Issue 18: FLT_MAX built a plan that could not be loaded (amax = scale x 127 is infinite); zero and subnormal
// scales quantised every value to zero. Each is refused where the cache is read, naming the file, line and tensor.
TEST(CalibrationCache, ScalesThatAreZeroSubnormalNegativeOrTooLargeForAnAmaxAreRefused) {
  for (const char* hex : {"7f7fffff", "00000000", "00000001", "007fffff", "bf800000", "7f000000"}) {
    const std::string text =
        std::string("TRT-8510-EntropyCalibration2\ninput: 3f800000\n/conv/Conv_output_0: ") + hex + "\n";
    try {
      parse_calibration_cache(text, "model_calib.bin");
      ADD_FAILURE() << "accepted scale " << hex;
    } catch (const Error& e) {
      const std::string message = e.what();
      EXPECT_EQ(message.rfind("model_calib.bin:3: the scale of tensor '/conv/Conv_output_0' is ", 0), 0u) << message;
      EXPECT_NE(message.find(hex), std::string::npos) << message;
      EXPECT_NE(message.find("recalibrate"), std::string::npos) << message;
    }
  }
  // The largest scale whose amax is finite, and the smallest normal one, are read.
  EXPECT_NO_THROW(parse_calibration_cache("TRT-8510-EntropyCalibration2\na: 00800000\nb: 7b000000\n", "c.cache"));
}
