// Frame sources of `crowdrt run`: an image folder is read in name order, one image is one frame, and a path
// that is none of the accepted kinds is refused with a message saying what is accepted.
#include <gtest/gtest.h>

#include <filesystem>
#include <opencv2/imgcodecs.hpp>

#include "core/error.h"
#include "eval/frame_source.h"

namespace crowdrt::eval {
namespace {

namespace fs = std::filesystem;

fs::path fresh_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("crowdrt_test_frame_source_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

void write_grey(const fs::path& path, int value) {
  ASSERT_TRUE(cv::imwrite(path.string(), cv::Mat(6, 8, CV_8UC3, cv::Scalar(value, value, value))));
}

TEST(FrameSource, ImageFolderIsReadInNameOrder) {
  const fs::path dir = fresh_dir("folder");
  write_grey(dir / "b.png", 20);
  write_grey(dir / "a.png", 10);
  write_grey(dir / "c.png", 30);
  const SequenceSource s = input_sequence(dir.string());
  EXPECT_EQ(s.name, "crowdrt_test_frame_source_folder");
  EXPECT_EQ(s.frames, 3);
  EXPECT_FALSE(s.annotated);
  auto reader = s.open();
  cv::Mat frame;
  for (int expected : {10, 20, 30}) {
    ASSERT_TRUE(reader->read(frame));
    EXPECT_EQ(frame.size(), cv::Size(8, 6));
    EXPECT_EQ(frame.at<cv::Vec3b>(0, 0)[0], expected);
  }
  EXPECT_FALSE(reader->read(frame));
  fs::remove_all(dir);
}

TEST(FrameSource, OneImageIsOneFrame) {
  const fs::path dir = fresh_dir("one");
  write_grey(dir / "only.png", 7);
  const SequenceSource s = input_sequence((dir / "only.png").string());
  EXPECT_EQ(s.name, "only");
  EXPECT_EQ(s.frames, 1);
  auto reader = s.open();
  cv::Mat frame;
  EXPECT_TRUE(reader->read(frame));
  EXPECT_FALSE(reader->read(frame));
  fs::remove_all(dir);
}

TEST(FrameSource, MissingPathSaysWhatIsAccepted) {
  try {
    input_sequence("/nonexistent/crowdrt/clip.avi");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("a video, a folder of images or an image"), std::string::npos) << e.what();
  }
}

TEST(FrameSource, DatasetSequenceCarriesItsHeads) {
  data::Sequence seq;
  seq.name = "s";
  seq.frames = {"x.jpg", "y.jpg"};
  seq.heads = {{{1, 2}}};  // second frame has no annotation entry
  const SequenceSource s = dataset_sequence(seq);
  EXPECT_TRUE(s.annotated);
  ASSERT_EQ(s.heads.size(), 2u);
  EXPECT_EQ(s.heads[0].size(), 1u);
  EXPECT_TRUE(s.heads[1].empty());
}

}  // namespace
}  // namespace crowdrt::eval
