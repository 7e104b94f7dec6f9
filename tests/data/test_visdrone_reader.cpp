#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>

#include "core/error.h"
#include "data/visdrone.h"

using namespace crowdrt;
using namespace crowdrt::data;
namespace fs = std::filesystem;

namespace {
// A hand-made dataset with what real downloads contain.
class MessyDataset : public ::testing::Test {
 protected:
  void SetUp() override {
    root = fs::temp_directory_path() / ("crowdrt_test_visdrone_" + std::to_string(::getpid()));
    fs::remove_all(root);  // this test's own scratch folder
    const cv::Mat image(8, 8, CV_8UC3, cv::Scalar(1, 2, 3));
    for (const char* seq : {"00001", "00002", "00010"}) {
      fs::create_directories(root / "sequences" / seq);
      for (int f = 1; f <= 3; ++f) {
        const std::string ext = std::string(seq) == "00002" ? ".png" : ".jpg";
        cv::imwrite((root / "sequences" / seq / ("0000" + std::to_string(f) + ext)).string(), image);
      }
    }
    std::ofstream(root / "sequences" / "00001" / "notes.txt") << "not a frame";
    fs::create_directories(root / "annotations");
    // CRLF, a blank line, extra columns, frame 2 without heads, frame 9 that does not exist.
    std::ofstream(root / "annotations" / "00001.txt", std::ios::binary)
        << "1,1,1\r\n1,2,2,extra\r\n\r\n3,4,4\r\n9,5,5\r\n";
    std::ofstream(root / "annotations" / "00002.txt") << "";
    std::ofstream(root / "annotations" / "00010.txt") << "1,1,1\n2,oops,3\n";
    std::ofstream(root / "trainlist.txt", std::ios::binary) << "00001\r\n00002\r\n";
    std::ofstream(root / "testlist.txt") << "\n00010\n\n";
  }
  void TearDown() override { fs::remove_all(root); }
  fs::path root;
};
}  // namespace

TEST_F(MessyDataset, FramesAreSortedJpgAndPngOnly) {
  const auto frames = list_frames((root / "sequences" / "00001").string());
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(fs::path(frames[0]).filename(), "00001.jpg");
  EXPECT_EQ(fs::path(list_frames((root / "sequences" / "00002").string())[2]).filename(), "00003.png");
}

TEST_F(MessyDataset, HeadsGoToTheirFramesAndMissingFramesAreWarned) {
  const Sequence s = read_sequence(root.string(), "00001");
  ASSERT_EQ(s.heads.size(), 3u);
  EXPECT_EQ(s.heads[0].size(), 2u);
  EXPECT_EQ(s.heads[1].size(), 0u);
  EXPECT_EQ(s.heads[2].size(), 1u);
  ASSERT_EQ(s.warnings.size(), 1u);
  EXPECT_NE(s.warnings[0].find("frame 9"), std::string::npos);
  const Sequence empty = read_sequence(root.string(), "00002");
  EXPECT_EQ(empty.heads.size(), 3u);
  EXPECT_TRUE(empty.warnings.empty());
}

TEST_F(MessyDataset, MalformedAnnotationStopsWithFileAndLine) {
  try {
    read_sequence(root.string(), "00010");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("00010.txt:2:"), std::string::npos) << e.what();
  }
}

TEST_F(MessyDataset, SplitsFollowTheSeedAndTheListFiles) {
  EXPECT_EQ(select_sequences(root.string(), "all"), (std::vector<std::string>{"00001", "00002", "00010"}));
  EXPECT_EQ(select_sequences(root.string(), "train"), (std::vector<std::string>{"00001", "00002"}));
  EXPECT_EQ(select_sequences(root.string(), "test"), (std::vector<std::string>{"00010"}));
  EXPECT_THROW(select_sequences(root.string(), "val"), Error);  // only 3 sequences: the seed's val starts at the 67th
  std::ofstream(root / "mine.txt") << "00002\n";
  EXPECT_EQ(select_sequences(root.string(), (root / "mine.txt").string()), (std::vector<std::string>{"00002"}));
  std::ofstream(root / "bad.txt") << "00003\n";
  EXPECT_THROW(select_sequences(root.string(), (root / "bad.txt").string()), Error);
}

TEST_F(MessyDataset, ValIsTheSortedSequencesFromThe67thOn) {
  for (int i = 11; i < 80; ++i) fs::create_directories(root / "sequences" / ("000" + std::to_string(i)));
  const auto val = select_sequences(root.string(), "val");  // 3 + 69 = 72 sequences: the last 6
  ASSERT_EQ(val.size(), 6u);
  EXPECT_EQ(val.front(), "00074");
  EXPECT_EQ(val.back(), "00079");
}

TEST_F(MessyDataset, DefaultSplitIsTheSeedsValThenTheTestListThenAll) {
  EXPECT_EQ(default_split(root.string()).split, "test");  // 3 sequences and a testlist.txt
  EXPECT_NE(default_split(root.string()).reason.find("testlist.txt"), std::string::npos);
  fs::remove(root / "testlist.txt");
  EXPECT_EQ(default_split(root.string()).split, "all");
  for (int i = 11; i < 74; ++i) fs::create_directories(root / "sequences" / ("000" + std::to_string(i)));
  EXPECT_EQ(default_split(root.string()).split, "all");  // 66 sequences: the seed's val would be empty
  fs::create_directories(root / "sequences" / "00074");
  EXPECT_EQ(default_split(root.string()).split, "val");  // 67: the seed's val is the last one
  EXPECT_EQ(select_sequences(root.string(), "val"), (std::vector<std::string>{"00074"}));
}

TEST_F(MessyDataset, MissingAnnotationFileIsAnErrorThatSaysWhatToWrite) {
  fs::remove(root / "annotations" / "00002.txt");
  EXPECT_THROW(read_sequence(root.string(), "00002"), Error);
}
