// The VisDrone-CC folder layout (SEED.md "VisDrone-CC layout"):
//   <root>/sequences/<seq>/<NNNNN>.jpg   <root>/annotations/<seq>.txt   <root>/trainlist.txt, testlist.txt
#pragma once
#include <string>
#include <vector>

#include "data/annotations.h"

namespace crowdrt::data {

// The frame images of a folder (.jpg, .jpeg, .png, any case), sorted by name; Error if there are none.
std::vector<std::string> list_frames(const std::string& folder);

// Sequence names of a split, in order:
//   "all"   every folder under <root>/sequences, sorted by name
//   "val"   the seed's evaluation split: sorted sequences from the 67th on (the first 66 train)
//   "train" <root>/trainlist.txt, "test" <root>/testlist.txt
//   any other value: a file listing sequence names, one a line
// Error naming the missing sequence, file or the reason the split is empty.
std::vector<std::string> select_sequences(const std::string& root, const std::string& split);

// The split to evaluate when none is given, so that any VisDrone-format folder works: "val" (the seed's) where
// there are more than 66 sequences, else "test" where <root>/testlist.txt exists, else "all". `reason` says why,
// for the user.
struct DefaultSplit {
  std::string split, reason;
};
DefaultSplit default_split(const std::string& root);

struct Sequence {
  std::string name;
  std::vector<std::string> frames;       // paths, sorted by name
  std::vector<std::vector<Head>> heads;  // heads[i]: annotations with frame == i + 1 (empty: no heads)
  std::vector<std::string> warnings;     // e.g. annotations of frames that do not exist
};

// Frames and annotations of <root>/sequences/<name>. Annotations of frames beyond the last are dropped
// and reported in `warnings` (and through log_warn); a malformed line is an Error "file:line".
Sequence read_sequence(const std::string& root, const std::string& name);

}  // namespace crowdrt::data
