#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "core/error.h"
#include "core/file.h"
#include "core/npy.h"
#include "data/calibration_data.h"
#include "data/calibration_folder.h"
#include "data/synth.h"

using namespace crowdrt;
using namespace crowdrt::data;
namespace fs = std::filesystem;

namespace {
class CalibrationData : public ::testing::Test {
 protected:
  void SetUp() override {
    base = fs::temp_directory_path() / ("crowdrt_test_calib_" + std::to_string(::getpid()));
    fs::remove_all(base);  // this test's own scratch folder
    write_synth_dataset({2, 4, {96, 64}, 9}, (base / "synth").string(), false);
    options.sequences = (base / "synth").string();
    options.out = (base / "out").string();
    options.flow = vision::FlowPreset::fast;
  }
  void TearDown() override { fs::remove_all(base); }
  std::map<std::string, std::vector<std::byte>> files(const fs::path& dir) {
    std::map<std::string, std::vector<std::byte>> all;
    for (const auto& e : fs::recursive_directory_iterator(dir))
      if (e.is_regular_file()) all[fs::relative(e.path(), dir).string()] = read_file(e.path().string());
    return all;
  }
  fs::path base;
  CalibrationDataOptions options;
};
}  // namespace

TEST_F(CalibrationData, WritesImageCopiesAndSourceResolutionFlow) {
  const CalibrationDataResult r = write_calibration_data(options);
  EXPECT_EQ(r.written, 8);
  EXPECT_EQ(read_file((base / "out/imgs/00002_00003.jpg").string()),
            read_file((base / "synth/sequences/00002/00003.jpg").string()));
  EXPECT_EQ(read_npy((base / "out/imgs_flows/00002_00003.npy").string()).shape(), (Shape{64, 96, 2}));
  const auto samples = list_calibration_folder((base / "out").string(), true);
  ASSERT_EQ(samples.size(), 8u);
  EXPECT_EQ(load_calibration_sample(samples[0], {32, 32}, 5).shape(), (Shape{1, 5, 32, 32}));
}

TEST_F(CalibrationData, EveryAndMaxChooseFrames) {
  options.every = 2;
  options.max = 3;
  EXPECT_EQ(write_calibration_data(options).written, 3);  // 00001: frames 1, 3; 00002: frame 1
  EXPECT_TRUE(fs::exists(base / "out/imgs/00001_00003.jpg"));
  EXPECT_TRUE(fs::exists(base / "out/imgs/00002_00001.jpg"));
  EXPECT_FALSE(fs::exists(base / "out/imgs/00002_00003.jpg"));
}

TEST_F(CalibrationData, RefusesANonEmptyFolderAndTouchesNothing) {
  fs::create_directories(base / "out");
  write_file_atomic((base / "out/mine.txt").string(), {});
  try {
    write_calibration_data(options);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--overwrite"), std::string::npos);
  }
  EXPECT_EQ(files(base / "out").size(), 1u);
  options.resume = true;  // not a calib-data folder: resume refused too
  EXPECT_THROW(write_calibration_data(options), Error);
  options.resume = false;
  options.overwrite = true;
  EXPECT_EQ(write_calibration_data(options).written, 8);
  EXPECT_TRUE(fs::exists(base / "out/mine.txt"));
}

TEST_F(CalibrationData, ResumeWritesOnlyWhatIsMissingAndGivesTheSameBytes) {
  write_calibration_data(options);
  const auto complete = files(base / "out");
  // An interrupted run: the last frames of sequence 1 and everything of sequence 2 missing.
  const fs::path interrupted = base / "out2";
  fs::create_directories(interrupted);
  for (const auto& [name, bytes] : complete) {
    const bool missing = name.find("00001_00003") != std::string::npos ||
                         name.find("00001_00004") != std::string::npos || name.find("00002_") != std::string::npos;
    if (missing) continue;
    fs::create_directories((interrupted / name).parent_path());
    write_file_atomic((interrupted / name).string(), bytes);
  }
  write_file_atomic((interrupted / "imgs_flows/00002_00001.npy").string(), {});  // a damaged file
  options.out = interrupted.string();
  EXPECT_THROW(write_calibration_data(options), Error);  // not empty, no --resume
  options.resume = true;
  options.flow = vision::FlowPreset::medium;
  EXPECT_THROW(write_calibration_data(options), Error);  // other settings than the run it continues
  options.flow = vision::FlowPreset::fast;
  const CalibrationDataResult r = write_calibration_data(options);
  EXPECT_EQ(r.written, 6);
  EXPECT_EQ(r.kept, 2);
  EXPECT_TRUE(files(interrupted) == complete);
  const CalibrationDataResult again = write_calibration_data(options);
  EXPECT_EQ(again.written, 0);
  EXPECT_EQ(again.kept, 8);
}
