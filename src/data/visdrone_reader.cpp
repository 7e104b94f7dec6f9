#include <algorithm>
#include <filesystem>

#include "core/error.h"
#include "core/file.h"
#include "core/log.h"
#include "data/visdrone.h"

namespace crowdrt::data {
namespace fs = std::filesystem;
namespace {
// The seed's split: sorted sequences, the first 66 for training, the rest evaluated (eval.py `[66:]`).
constexpr size_t kSeedTrainSequences = 66;

bool is_frame_file(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png";
}

std::vector<std::string> read_name_list(const std::string& path) {
  const std::vector<std::byte> bytes = read_file(path);
  std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  std::vector<std::string> names;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.remove_suffix(1);
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.front()))) line.remove_prefix(1);
    if (!line.empty()) names.emplace_back(line);
  }
  if (names.empty()) throw Error(cat(path, ": lists no sequences"));
  return names;
}

std::vector<std::string> all_sequences(const std::string& root) {
  const fs::path dir = fs::path(root) / "sequences";
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw Error(
        cat(dir.string(), ": not a folder; expected the VisDrone-CC layout <root>/sequences/<seq>/<frame>.jpg"));
  std::vector<std::string> names;
  for (const fs::directory_entry& e : fs::directory_iterator(dir))
    if (e.is_directory()) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  if (names.empty()) throw Error(cat(dir.string(), ": holds no sequence folders"));
  return names;
}
}  // namespace

std::vector<std::string> list_frames(const std::string& folder) {
  std::error_code ec;
  if (!fs::is_directory(folder, ec)) throw Error(cat(folder, ": not a folder of frames"));
  std::vector<std::string> frames;
  for (const fs::directory_entry& e : fs::directory_iterator(folder))
    if (e.is_regular_file() && is_frame_file(e.path())) frames.push_back(e.path().string());
  std::sort(frames.begin(), frames.end());
  if (frames.empty()) throw Error(cat(folder, ": no .jpg or .png frames"));
  return frames;
}

std::vector<std::string> select_sequences(const std::string& root, const std::string& split) {
  const std::vector<std::string> all = all_sequences(root);
  if (split == "all") return all;
  if (split == "val") {
    if (all.size() <= kSeedTrainSequences)
      throw Error(cat(root, ": ", all.size(), " sequences; the seed's val split starts at the 67th. Use --split all, "
                      "test or a file of sequence names"));
    return {all.begin() + kSeedTrainSequences, all.end()};
  }
  std::string list = split;
  if (split == "train" || split == "test") list = (fs::path(root) / (split + "list.txt")).string();
  std::vector<std::string> names = read_name_list(list);
  for (const std::string& n : names)
    if (!std::binary_search(all.begin(), all.end(), n))
      throw Error(cat(list, ": sequence '", n, "' is not a folder under ", (fs::path(root) / "sequences").string()));
  return names;
}

DefaultSplit default_split(const std::string& root) {
  const size_t n = all_sequences(root).size();
  if (n > kSeedTrainSequences)
    return {"val",
            cat("the seed's split: sorted sequences from the 67th on (", n - kSeedTrainSequences, " of ", n, ")")};
  if (file_exists((fs::path(root) / "testlist.txt").string()))
    return {"test", cat("testlist.txt; ", n, " sequences are too few for the seed's val split (from the 67th on)")};
  return {"all", cat("every sequence; ", n, " are too few for the seed's val split (from the 67th on) and there is no "
                     "testlist.txt")};
}

Sequence read_sequence(const std::string& root, const std::string& name) {
  Sequence seq;
  seq.name = name;
  seq.frames = list_frames((fs::path(root) / "sequences" / name).string());
  const std::string annotation_path = (fs::path(root) / "annotations" / (name + ".txt")).string();
  if (!file_exists(annotation_path))
    throw Error(cat(annotation_path, ": no annotations for sequence ", name,
                    " (expected one 'frame,x,y' line per head; an empty file if no frame has heads)"));
  const HeadsByFrame heads = read_annotations(annotation_path);
  seq.heads.resize(seq.frames.size());
  for (const auto& [frame, list] : heads) {
    if (frame > static_cast<int64_t>(seq.frames.size())) {
      seq.warnings.push_back(cat(annotation_path, ": ", list.size(), " heads of frame ", frame, ", but sequence ", name,
                                 " has ", seq.frames.size(), " frames; ignored"));
      log_warn(seq.warnings.back());
      continue;
    }
    seq.heads[frame - 1] = list;
  }
  return seq;
}

}  // namespace crowdrt::data
