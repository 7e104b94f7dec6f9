// Frame sources of `crowdrt run`: an image folder is read in name order, one image is one frame, and a path
// that is none of the accepted kinds is refused with a message saying what is accepted; live inputs (cameras,
// devices, URLs, GStreamer pipelines) are told apart from paths, file:// URLs read files, --max-frames cuts a
// source, and a live source that cannot be opened is one line naming it. (Streams: tests/eval/check_live_run.py.)
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/videoio.hpp>

#include "core/error.h"
#include "eval/frame_source.h"
#include "vision/frame.h"
#include "../test_util.h"

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


using crowdrt::test_util::error_of;

void write_bytes(const fs::path& path, const std::vector<unsigned char>& bytes) {
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

std::vector<unsigned char> encoded(const std::string& extension) {
  std::vector<unsigned char> bytes;
  cv::Mat image(48, 64, CV_8UC3);
  cv::randu(image, 0, 255);
  EXPECT_TRUE(cv::imencode(extension, image, bytes));
  return bytes;
}

// CRC-32 of PNG chunks (PNG specification 5.5), bit by bit: the test's chunks are a few bytes.
uint32_t png_chunk_crc(const unsigned char* data, size_t size) {
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < size; ++i) {
    c ^= data[i];
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
  }
  return c ^ 0xFFFFFFFFu;
}

void append_png_chunk(std::vector<unsigned char>& png, const std::string& type,
                      const std::vector<unsigned char>& data) {
  const auto be32 = [&](uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) png.push_back(static_cast<unsigned char>(v >> s));
  };
  be32(static_cast<uint32_t>(data.size()));
  const size_t start = png.size();
  png.insert(png.end(), type.begin(), type.end());
  png.insert(png.end(), data.begin(), data.end());
  be32(png_chunk_crc(png.data() + start, png.size() - start));
}

// An image of each kind of damage is one error naming the file and saying what is wrong, before OpenCV decodes
// (no libjpeg "premature end" warning, no half-grey frame accepted, no allocation for a claimed 65500x65500).
TEST(DamagedFrames, AreErrorsNamingTheFile) {
  const fs::path dir = fresh_dir("damaged");
  const std::vector<unsigned char> jpeg = encoded(".jpg"), png = encoded(".png");
  write_bytes(dir / "half.jpg", {jpeg.begin(), jpeg.begin() + static_cast<ptrdiff_t>(jpeg.size() / 2)});
  write_bytes(dir / "zero.jpg", {});
  std::vector<unsigned char> garbage(3000);
  for (size_t i = 0; i < garbage.size(); ++i) garbage[i] = static_cast<unsigned char>(i * 7919 >> 3);
  write_bytes(dir / "garbage.jpg", garbage);
  std::vector<unsigned char> bad_crc = png;
  bad_crc[8 + 8 + 4] ^= 1;  // IHDR's width
  write_bytes(dir / "crc.png", bad_crc);
  write_bytes(dir / "cut.png", {png.begin(), png.end() - 12});  // no IEND
  std::vector<unsigned char> huge_png(png.begin(), png.begin() + 8);
  append_png_chunk(huge_png, "IHDR", {0, 0, 0xFF, 0xDC, 0, 0, 0xFF, 0xDC, 8, 2, 0, 0, 0});
  append_png_chunk(huge_png, "IDAT", {0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01});
  append_png_chunk(huge_png, "IEND", {});
  write_bytes(dir / "huge.png", huge_png);
  std::vector<unsigned char> huge_jpeg = jpeg;
  for (size_t i = 2; i + 9 < huge_jpeg.size();) {  // the frame header's height and width
    const unsigned char marker = huge_jpeg[i + 1];
    if (marker >= 0xC0 && marker <= 0xC2) {
      huge_jpeg[i + 5] = huge_jpeg[i + 7] = 0xFF;
      huge_jpeg[i + 6] = huge_jpeg[i + 8] = 0xDC;
      break;
    }
    i += 2 + (size_t{huge_jpeg[i + 2]} << 8 | huge_jpeg[i + 3]);
  }
  write_bytes(dir / "huge.jpg", huge_jpeg);
  const std::pair<const char*, const char*> cases[] = {
      {"half.jpg", "JPEG is truncated"}, {"zero.jpg", "is empty (0 bytes)"},
      {"garbage.jpg", "not a readable image"}, {"crc.png", "has a wrong CRC"},
      {"cut.png", "PNG is truncated"}, {"huge.png", "claims 65500x65500 pixels"},
      {"huge.jpg", "claims 65500x65500 pixels"}};
  for (const auto& [name, says] : cases) {
    const std::string path = (dir / name).string();
    const auto start = std::chrono::steady_clock::now();
    const std::string what = error_of([&] { vision::decode_frame(path); });
    EXPECT_EQ(what.rfind(path + ": ", 0), 0u) << what;
    EXPECT_NE(what.find(says), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1)) << name;
    // read through a source too, as eval and run read them
    const std::string through_source = error_of([&] {
      cv::Mat frame;
      input_sequence(path).open()->read(frame);
    });
    EXPECT_EQ(through_source, what);
  }
  // the undamaged images decode
  write_bytes(dir / "good.jpg", jpeg);
  write_bytes(dir / "good.png", png);
  EXPECT_EQ(vision::decode_frame((dir / "good.jpg").string()).size(), cv::Size(64, 48));
  EXPECT_EQ(vision::decode_frame((dir / "good.png").string()).size(), cv::Size(64, 48));
  fs::remove_all(dir);
}

// A video with no frame in it (empty, garbage, cut after its header) is an error naming it when the source is
// made, before anything is written; a whole video is read to its last frame.
TEST(DamagedVideos, YieldingNoFrameAreErrorsNamingTheFile) {
  const fs::path dir = fresh_dir("videos");
  const std::string good = (dir / "good.avi").string();
  {
    cv::VideoWriter writer(good, cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), 10, cv::Size(64, 48));
    ASSERT_TRUE(writer.isOpened());
    for (int i = 0; i < 3; ++i) writer.write(cv::Mat(48, 64, CV_8UC3, cv::Scalar(i * 40, 0, 0)));
  }
  std::ifstream in(good, std::ios::binary);
  const std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  write_bytes(dir / "empty.avi", {});
  write_bytes(dir / "header_only.avi", {bytes.begin(), bytes.begin() + 300});
  std::vector<unsigned char> garbage(4000, 0x5A);
  write_bytes(dir / "garbage.avi", garbage);
  for (const char* name : {"empty.avi", "header_only.avi", "garbage.avi"}) {
    const std::string path = (dir / name).string();
    const std::string what = error_of([&] { input_sequence(path); });
    EXPECT_EQ(what.rfind(path + ": ", 0), 0u) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
  }
  const SequenceSource source = input_sequence(good);
  auto reader = source.open();
  cv::Mat frame;
  int frames = 0;
  while (reader->read(frame)) ++frames;
  EXPECT_EQ(frames, 3);
  fs::remove_all(dir);
}

// A FIFO, a device or a socket given as --input is refused at once (a FIFO with no writer would block OpenCV);
// /dev/video* stays a live source.
TEST(SpecialInputs, AreRefusedWithoutBlocking) {
  const fs::path dir = fresh_dir("special");
  const std::string fifo = (dir / "clip.avi").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(error_of([&] { input_sequence(fifo); }),
            fifo + ": is a FIFO (named pipe), expected a regular video or image file");
  EXPECT_EQ(error_of([] { input_sequence("/dev/null"); }),
            "/dev/null: is a character device, expected a regular video or image file");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  EXPECT_TRUE(is_live_input("/dev/video0"));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace crowdrt::eval
