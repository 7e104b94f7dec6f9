#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "core/error.h"
#include "core/file.h"
#include "data/synth.h"
#include "data/visdrone.h"

using namespace crowdrt;
using namespace crowdrt::data;
namespace fs = std::filesystem;

namespace {
fs::path scratch(const std::string& name) {
  const fs::path p = fs::temp_directory_path() / ("crowdrt_test_synth_" + std::to_string(::getpid()) + "_" + name);
  fs::remove_all(p);  // this test's own scratch folder
  return p;
}
std::map<std::string, std::vector<std::byte>> all_files(const fs::path& root) {
  std::map<std::string, std::vector<std::byte>> files;
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (e.is_regular_file()) files[fs::relative(e.path(), root).string()] = read_file(e.path().string());
  return files;
}
const SynthOptions kSmall{3, 4, {160, 120}, 42};
}  // namespace

TEST(Synth, SameSeedGivesTheSameBytesAndAnotherSeedDoesNot) {
  const fs::path a = scratch("a"), b = scratch("b"), c = scratch("c");
  write_synth_dataset(kSmall, a.string(), false);
  write_synth_dataset(kSmall, b.string(), false);
  SynthOptions other = kSmall;
  other.seed = 43;
  write_synth_dataset(other, c.string(), false);
  const auto fa = all_files(a), fb = all_files(b), fc = all_files(c);
  EXPECT_EQ(fa.size(), 3u * 4 + 3 + 2);  // frames, annotations, the two lists
  EXPECT_TRUE(fa == fb);
  EXPECT_NE(fa.at("sequences/00001/00001.jpg"), fc.at("sequences/00001/00001.jpg"));
  for (const auto& p : {a, b, c}) fs::remove_all(p);
}

TEST(Synth, AnnotationsAreTheRenderedHeadsAllInsideTheFrame) {
  const fs::path root = scratch("ann");
  write_synth_dataset(kSmall, root.string(), false);
  int64_t total = 0;
  for (int s = 0; s < kSmall.sequences; ++s) {
    const Sequence seq = read_sequence(root.string(), "0000" + std::to_string(s + 1));
    ASSERT_EQ(seq.frames.size(), 4u);
    EXPECT_TRUE(seq.warnings.empty());
    SynthSequence again(kSmall.size, kSmall.seed, s);
    for (size_t f = 0; f < seq.frames.size(); ++f) {
      const SynthFrame frame = again.render_next();
      ASSERT_EQ(seq.heads[f].size(), frame.heads.size()) << "sequence " << s << " frame " << f;
      for (size_t i = 0; i < frame.heads.size(); ++i) {
        const Head& h = seq.heads[f][i];
        EXPECT_NEAR(h.x, frame.heads[i].x, 0.005);
        EXPECT_NEAR(h.y, frame.heads[i].y, 0.005);
        EXPECT_TRUE(h.x >= 0 && h.y >= 0 && h.x < kSmall.size.width && h.y < kSmall.size.height) << h.x << "," << h.y;
      }
      total += static_cast<int64_t>(frame.heads.size());
    }
  }
  EXPECT_GT(total, 0);
  EXPECT_EQ(read_file((root / "trainlist.txt").string()).size() + read_file((root / "testlist.txt").string()).size(),
            3u * 6);
  fs::remove_all(root);
}

TEST(Synth, HeadsAreDrawnWhereTheyAreAnnotated) {
  // Render once with people and compare with the same scene's ground: annotated head pixels must change.
  SynthSequence seq({320, 240}, 5, 0);
  const SynthFrame frame = seq.render_next();
  ASSERT_FALSE(frame.heads.empty());
  int differing = 0;
  for (const Head& h : frame.heads) {
    const cv::Vec3b px = frame.bgr.at<cv::Vec3b>(static_cast<int>(h.y), static_cast<int>(h.x));
    const cv::Vec3b far = frame.bgr.at<cv::Vec3b>(static_cast<int>(h.y), static_cast<int>(h.x) < 160 ? 319 : 0);
    differing += cv::norm(px, far, cv::NORM_L1) > 0;
  }
  EXPECT_GT(differing, static_cast<int>(frame.heads.size()) / 2);
}

TEST(Synth, RefusesANonEmptyFolderUnlessOverwrite) {
  const fs::path root = scratch("refuse");
  fs::create_directories(root);
  write_file_atomic((root / "keep.txt").string(), {});
  EXPECT_THROW(write_synth_dataset(kSmall, root.string(), false), Error);
  write_synth_dataset(kSmall, root.string(), true);
  EXPECT_TRUE(fs::exists(root / "keep.txt"));
  fs::remove_all(root);
}
