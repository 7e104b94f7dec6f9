// Synthetic VisDrone-format sequences: a drone's view of people walking over textured ground, with the
// exact head positions as annotations. Made to train and judge counting models without the real data.
#pragma once
#include <cstdint>
#include <memory>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "data/annotations.h"

namespace crowdrt::data {

struct SynthOptions {
  int sequences = 8;
  int frames = 30;
  cv::Size size{960, 540};
  uint64_t seed = 1;
};

struct SynthFrame {
  cv::Mat bgr;
  std::vector<Head> heads;  // visible head centres inside the frame, in image pixels
};

// One sequence: ground, trees, groups of people and a drifting camera, advanced one frame per render().
class SynthSequence {
 public:
  SynthSequence(cv::Size size, uint64_t seed, uint64_t sequence_index);
  SynthSequence(SynthSequence&&) noexcept;
  ~SynthSequence();
  SynthFrame render_next();

  struct Scene;  // defined in synth_scene.cpp

 private:
  std::unique_ptr<Scene> scene_;
};

// Writes <root>/sequences/<seq>/<NNNNN>.jpg, <root>/annotations/<seq>.txt, trainlist.txt and testlist.txt.
// The same options give the same bytes. Error when root is not empty unless overwrite (which replaces
// only the files written here).
void write_synth_dataset(const SynthOptions& options, const std::string& root, bool overwrite);

// JPEG quality of synthetic frames, fixed so that output bytes are reproducible.
inline constexpr int kSynthJpegQuality = 92;

}  // namespace crowdrt::data
