#include <cstdio>
#include <filesystem>
#include <opencv2/imgcodecs.hpp>

#include "core/atomic_file.h"
#include "core/cancel.h"
#include "core/error.h"
#include "core/file.h"
#include "core/progress.h"
#include "data/synth.h"

namespace crowdrt::data {
namespace fs = std::filesystem;
namespace {
void write_text(const fs::path& path, const std::string& text) { write_text_atomic(path.string(), text); }

std::string five_digits(int n) {
  char name[16];
  std::snprintf(name, sizeof name, "%05d", n);
  return name;
}
}  // namespace

void write_synth_dataset(const SynthOptions& o, const std::string& root, bool overwrite) {
  if (o.sequences < 1 || o.frames < 1) throw Error(cat("synth: --sequences and --frames must be 1 or more"));
  std::error_code ec;
  if (fs::exists(root, ec) && !fs::is_directory(root, ec)) throw Error(cat(root, ": exists and is not a folder"));
  if (fs::exists(root, ec) && !fs::is_empty(root, ec) && !overwrite)
    throw Error(cat(root,
                    ": not empty; pass --overwrite to replace the files synth writes there (nothing else is touched), "
                    "or choose an empty folder"));
  OutputBatch files;  // the data set's files get their names together when all are written
  create_output_folders((fs::path(root) / "annotations").string());
  Progress progress("synth", static_cast<int64_t>(o.sequences) * o.frames);
  std::string trainlist, testlist;
  // The seed trains on the first sequences and evaluates the rest: three quarters train, at least one test.
  const int train = o.sequences == 1 ? 0 : std::min(o.sequences - 1, (o.sequences * 3 + 3) / 4);
  for (int s = 0; s < o.sequences; ++s) {
    const std::string name = five_digits(s + 1);
    const fs::path folder = fs::path(root) / "sequences" / name;
    create_output_folders(folder.string());
    SynthSequence sequence(o.size, o.seed, static_cast<uint64_t>(s));
    std::string annotations;
    for (int f = 0; f < o.frames; ++f) {
      throw_if_cancelled();
      const SynthFrame frame = sequence.render_next();
      std::vector<uchar> jpeg;
      cv::imencode(".jpg", frame.bgr, jpeg, {cv::IMWRITE_JPEG_QUALITY, kSynthJpegQuality});
      write_file_atomic((folder / (five_digits(f + 1) + ".jpg")).string(),
                        std::span(reinterpret_cast<const std::byte*>(jpeg.data()), jpeg.size()));
      char line[64];
      for (const Head& h : frame.heads) {
        std::snprintf(line, sizeof line, "%d,%.2f,%.2f\n", f + 1, h.x, h.y);
        annotations += line;
      }
      progress.advance();
    }
    write_text(fs::path(root) / "annotations" / (name + ".txt"), annotations);
    (s < train ? trainlist : testlist) += name + "\n";
  }
  write_text(fs::path(root) / "trainlist.txt", trainlist);
  write_text(fs::path(root) / "testlist.txt", testlist);
  files.commit();
}

}  // namespace crowdrt::data
