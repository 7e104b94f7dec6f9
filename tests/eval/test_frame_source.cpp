// Frame sources of `crowdrt run`: an image folder is read in name order, one image is one frame, and a path
// that is none of the accepted kinds is refused with a message saying what is accepted; live inputs (cameras,
// devices, URLs, GStreamer pipelines) are told apart from paths, file:// URLs read files, --max-frames cuts a
// source, and a live source that cannot be opened is one line naming it. (Streams: tests/eval/check_live_run.py.)
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
    const std::string what = e.what();
    EXPECT_NE(what.find("no such file or folder; give a video, a folder of images, an image, a camera"),
              std::string::npos) << what;
  }
}

TEST(FrameSource, LiveInputsAreToldApartFromPaths) {
  for (const char* live : {"0", "12", "/dev/video0", "rtsp://cam.local:554/s", "http://127.0.0.1:8080/x.mkv",
                           "HTTPS://host/live", "udp://239.0.0.1:1234",
                           "videotestsrc ! videoconvert ! appsink"})
    EXPECT_TRUE(is_live_input(live)) << live;
  for (const char* path : {"clip.avi", "./0", "/data/frames", "file:///data/clip.avi", "0.avi", "/dev/null", ""})
    EXPECT_FALSE(is_live_input(path)) << path;
  EXPECT_EQ(file_url_path("file:///data/my%20clip.avi"), "/data/my clip.avi");
  EXPECT_EQ(file_url_path("file://localhost/data/a.avi"), "/data/a.avi");
  EXPECT_EQ(file_url_path("clip.avi"), "clip.avi");
  EXPECT_EQ(redact_url("rtsp://admin:secret@10.0.0.5:554/s"), "rtsp://admin:***@10.0.0.5:554/s");
  EXPECT_EQ(redact_url("rtsp://10.0.0.5:554/s@x"), "rtsp://10.0.0.5:554/s@x");
  EXPECT_EQ(parse_live_drop("none"), LiveDrop::none);
  EXPECT_THROW(parse_live_drop("newest"), Error);
}

TEST(FrameSource, FileUrlReadsTheFile) {
  const fs::path dir = fresh_dir("file_url");
  write_grey(dir / "a.png", 40);
  const SequenceSource s = input_sequence("file://" + (dir / "a.png").string());
  EXPECT_EQ(s.frames, 1);
  EXPECT_FALSE(s.live);
}

TEST(FrameSource, MaxFramesCutsTheSource) {
  const fs::path dir = fresh_dir("bounded");
  for (int i = 0; i < 5; ++i) write_grey(dir / (std::to_string(i) + ".png"), 10 * i);
  const SequenceSource s = bounded_sequence(input_sequence(dir.string()), 2, 0);
  EXPECT_EQ(s.frames, 2);
  auto reader = s.open();
  cv::Mat frame;
  EXPECT_TRUE(reader->read(frame));
  EXPECT_TRUE(reader->read(frame));
  EXPECT_EQ(frame.at<cv::Vec3b>(0, 0)[0], 10);
  EXPECT_FALSE(reader->read(frame));
  EXPECT_FALSE(reader->read(frame));
}

TEST(FrameSource, MissingDeviceAndClosedPortAreOneLineErrorsNamingThem) {
  for (const std::string& input : {std::string("/dev/video99"), std::string("http://127.0.0.1:9/none.mkv")}) {
    try {
      LiveSource source(input, LiveOptions{});
      FAIL() << input << ": no error";
    } catch (const Error& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(input), std::string::npos) << what;
      EXPECT_NE(what.find("check"), std::string::npos) << what;
      EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    }
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
