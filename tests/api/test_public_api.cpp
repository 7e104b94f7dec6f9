// The public C++ API through libcrowdrt.so, as a user's program links it: errors arrive as crowdrt::Error,
// misuse is refused, and Builder / Engine agree with each other.
#include <crowdrt/crowdrt.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>

namespace {

const std::string kData = CROWDRT_TEST_DATA "/api";
const std::string kOnnx = kData + "/tiny5_32x48.onnx";  // tests/python/tiny_model.py, made by the fixture

std::string scratch(const std::string& name) {
  const std::filesystem::path dir = std::filesystem::path(kData) / "cpp";
  std::filesystem::create_directories(dir);
  const std::filesystem::path p = dir / name;
  std::filesystem::remove(p);
  return p.string();
}

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const crowdrt::Error& e) {
    return e.what();
  }
  return "(no error)";
}

crowdrt::Tensor ramp(const crowdrt::Dims& dims) {
  crowdrt::Tensor t(dims);
  for (size_t i = 0; i < t.data.size(); ++i) t.data[i] = static_cast<float>(i % 17) / 17.0f;
  return t;
}

TEST(PublicApi, BuilderWritesAPlanThatLoadsAndMatchesTheInMemoryEngine) {
  crowdrt::BuildOptions options;
  options.threads = 1;
  const std::string plan = scratch("tiny.plan");
  const crowdrt::BuildSummary summary = crowdrt::Builder(options).build(kOnnx, plan);
  EXPECT_EQ(summary.plan_path, plan);
  EXPECT_EQ(summary.device, "cpu");
  EXPECT_EQ(summary.precision, "fp32");
  EXPECT_EQ(summary.macs, 32.0 * 48 * (4 * 5 * 9 + 4));

  crowdrt::Engine loaded(plan, {1, "medium"});
  crowdrt::Engine built = crowdrt::Builder(options).build_engine(kOnnx, {1, "medium"});
  ASSERT_EQ(loaded.inputs().size(), 1u);
  EXPECT_EQ(loaded.inputs()[0].name, "input");
  EXPECT_EQ(loaded.inputs()[0].shape, (crowdrt::Dims{1, 5, 32, 48}));
  EXPECT_EQ(loaded.outputs()[0].shape, (crowdrt::Dims{1, 1, 32, 48}));

  const crowdrt::Tensor x = ramp({1, 5, 32, 48});
  const crowdrt::Tensor a = loaded.infer(x);
  const crowdrt::Tensor b = built.infer(x);
  EXPECT_EQ(a.shape, (crowdrt::Dims{1, 1, 32, 48}));
  EXPECT_EQ(a.data, b.data);
  crowdrt::Tensor into({1, 1, 32, 48});
  loaded.infer(x, into);
  EXPECT_EQ(into.data, a.data);
  EXPECT_DOUBLE_EQ(loaded.count(x), a.sum() / 100);
}

TEST(PublicApi, MisuseIsAnErrorThatSaysWhatToDo) {
  crowdrt::Engine engine = crowdrt::Builder().build_engine(kOnnx);
  const crowdrt::Tensor three = ramp({1, 3, 32, 48});
  EXPECT_EQ(error_of([&] { engine.infer(three); }),
            "infer: input 'input' must be 1x5x32x48, got 1x3x32x48: the model takes 5 channels");
  EXPECT_EQ(error_of([&] { engine.infer(crowdrt::TensorView(nullptr, {1, 5, 32, 48})); }),
            "infer: input 'input' has no data (null pointer)");
  crowdrt::Tensor small({1, 1, 8, 8});
  EXPECT_EQ(error_of([&] { engine.infer(ramp({1, 5, 32, 48}), small); }),
            "infer: output 'output' must be 1x1x32x48, got 1x1x8x8");
  const std::uint8_t pixels[4 * 3] = {};
  EXPECT_EQ(error_of([&] { engine.count(crowdrt::FrameView{pixels, 4, 1, 6}); }),
            "frame: row_bytes 6 is less than width x 3 = 12");

  crowdrt::Engine moved = std::move(engine);
  EXPECT_EQ(error_of([&] { engine.inputs(); }),
            "Engine: no plan is loaded (default-constructed or moved from); call load(plan_path) first");
  EXPECT_FALSE(engine.loaded());
  EXPECT_TRUE(moved.loaded());
}

TEST(PublicApi, AFailedLoadLeavesAnEngineThatRepeatsWhy) {
  crowdrt::Engine engine;
  const std::string missing = scratch("missing.plan");
  const std::string why = error_of([&] { engine.load(missing); });
  EXPECT_NE(why.find("missing.plan"), std::string::npos) << why;
  EXPECT_EQ(error_of([&] { engine.count(ramp({1, 5, 32, 48})); }),
            "Engine: no plan is loaded, the last load failed: " + why);
}

TEST(PublicApi, CalibrationOptionsReachTheBuilder) {
  crowdrt::BuildOptions options;
  options.precision = "int8";
  options.calibrator = "bogus";
  options.calib_cache = scratch("tiny_calib.bin");
  const std::string plan = scratch("int8.plan");
  std::string why = error_of([&] { crowdrt::Builder(options).build(kOnnx, plan); });
  EXPECT_NE(why.find("unknown calibrator 'bogus'"), std::string::npos) << why;
  options.calibrator = "minmax";
  options.calib_dir = scratch("no_such_calibration_folder");
  why = error_of([&] { crowdrt::Builder(options).build(kOnnx, plan); });
  EXPECT_NE(why.find("no_such_calibration_folder"), std::string::npos) << why;
  options.count_budget = -1;
  why = error_of([&] { crowdrt::Builder(options).build(kOnnx, plan); });
  EXPECT_NE(why.find("count_budget is -1"), std::string::npos) << why;
  EXPECT_FALSE(std::filesystem::exists(plan));
  EXPECT_FALSE(std::filesystem::exists(options.calib_cache));
}

TEST(PublicApi, ABuildThatIsAskedToStopStopsAndWritesNothing) {
  crowdrt::BuildOptions options;
  options.threads = 1;
  int asked = 0;
  options.should_stop = [&asked] { return ++asked > 0; };
  const std::string plan = scratch("stopped.plan");
  const std::string why = error_of([&] { crowdrt::Builder(options).build(kOnnx, plan); });
  EXPECT_EQ(why.rfind("interrupted", 0), 0u) << why;
  EXPECT_EQ(asked, 1);
  EXPECT_FALSE(std::filesystem::exists(plan));
  options.should_stop = [&asked] { return ++asked < 0; };  // asked, and never stops
  EXPECT_NO_THROW(crowdrt::Builder(options).build_engine(kOnnx));
  EXPECT_GT(asked, 1);
}

TEST(PublicApi, ErrorsFromDeepInsideAreThePublicType) {
  // The ONNX importer throws the internal error; a user catches it as crowdrt::Error (and std::runtime_error).
  const std::string not_onnx = scratch("not.onnx");
  { std::FILE* f = std::fopen(not_onnx.c_str(), "wb"); std::fputs("not a model", f); std::fclose(f); }
  EXPECT_THROW(crowdrt::Builder().build_engine(not_onnx), crowdrt::Error);
  EXPECT_THROW(crowdrt::FrameSource(scratch("no_such_folder")), std::runtime_error);
}

TEST(PublicApi, PreprocessorShapesAndFrameCounts) {
  crowdrt::Preprocessor pre({48, 32, 5, "ultrafast", "eval"});
  crowdrt::Frame frame;
  frame.width = 64;
  frame.height = 40;
  frame.bgr.assign(64 * 40 * 3, 0);
  for (size_t i = 0; i < frame.bgr.size(); ++i) frame.bgr[i] = static_cast<std::uint8_t>(i * 7 % 251);
  const crowdrt::Tensor x = pre.process(frame);
  EXPECT_EQ(x.shape, (crowdrt::Dims{1, 5, 32, 48}));

  crowdrt::Engine engine = crowdrt::Builder().build_engine(kOnnx, {1, "ultrafast"});
  EXPECT_DOUBLE_EQ(engine.count(frame), engine.count(x));  // the first frame of a sequence: same input
}

TEST(PublicApi, ZonesThatPartitionTheFrameAddUpToItsCount) {
  crowdrt::Frame frame;
  frame.width = 64;
  frame.height = 40;
  frame.bgr.resize(64 * 40 * 3);
  for (size_t i = 0; i < frame.bgr.size(); ++i) frame.bgr[i] = static_cast<std::uint8_t>(i * 13 % 251);
  // A slanted cut (normalized) and the same frame in pixels: left of it, right of it.
  crowdrt::Zone left{"left", {{0, 0}, {0.3, 0}, {0.7, 1}, {0, 1}}, true, 5.0, std::nullopt, 3};
  crowdrt::Zone right{"right", {{19.2, 0}, {64, 0}, {64, 40}, {44.8, 40}}, false, std::nullopt, std::nullopt, 3};
  crowdrt::Engine engine = crowdrt::Builder().build_engine(kOnnx, {1, "ultrafast"});
  crowdrt::Engine plain = crowdrt::Builder().build_engine(kOnnx, {1, "ultrafast"});
  for (int i = 0; i < 2; ++i) {  // the second frame has flow, as count(frame) gives it
    const crowdrt::ZoneCounts c = engine.count(frame, {left, right});
    ASSERT_EQ(c.zones.size(), 2u);
    // Two builds: each times its own kernels, and under load they may choose differently (1e-8 seen), so not exact.
    EXPECT_NEAR(c.count, plain.count(frame), 1e-6 * std::max(1.0, std::abs(c.count)));
    EXPECT_NEAR(c.zones[0] + c.zones[1], c.count, 1e-5);
    EXPECT_GT(c.zones[0], 0.0);
    EXPECT_GT(c.zones[1], 0.0);
  }
  crowdrt::Zone outside{"outside", {{0, 0}, {80, 0}, {0, 30}}, false, std::nullopt, std::nullopt, 3};
  EXPECT_NE(error_of([&] { engine.count(frame, {outside}); }).find("outside"), std::string::npos);
  crowdrt::Zone crossed{"bow", {{0, 0}, {1, 1}, {1, 0}, {0, 1}}, true, std::nullopt, std::nullopt, 3};
  EXPECT_NE(error_of([&] { engine.count(frame, {crossed}); }).find("bow"), std::string::npos);
  EXPECT_NE(error_of([] { crowdrt::read_zones(scratch("missing_zones.json")); }).find("missing_zones.json"),
            std::string::npos);
}

}  // namespace

TEST(PublicApi, DeviceResidentInferenceIsRefusedForCpuPlansWithAMessage) {
  crowdrt::BuildOptions options;
  options.threads = 1;
  crowdrt::Engine engine = crowdrt::Builder(options).build_engine(kOnnx, {1, "medium"});
  for (int which = 0; which < 2; ++which) {
    try {
      if (which == 0) engine.device_buffers();
      else engine.infer_on_device();
      FAIL() << "a CPU plan gave device buffers";
    } catch (const crowdrt::Error& e) {
      EXPECT_NE(std::string(e.what()).find("needs a CUDA plan"), std::string::npos) << e.what();
    }
  }
  // The engine still works on the host afterwards.
  const crowdrt::Tensor x = ramp({1, 5, 32, 48});
  EXPECT_EQ(engine.infer(x).shape, (crowdrt::Dims{1, 1, 32, 48}));
  crowdrt::EngineOptions bad;
  bad.flow_device = "gpu";
  EXPECT_THROW(crowdrt::Builder(options).build_engine(kOnnx, bad), crowdrt::Error);
}
