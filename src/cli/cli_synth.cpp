// crowdrt synth: synthetic VisDrone-format sequences to train and judge counting models.
#include <memory>

#include "cli/cli_common.h"
#include "core/cancel.h"
#include "core/log.h"
#include "data/synth.h"
#include "vision/frame.h"

namespace crowdrt::cli {

void register_synth(CLI::App& app) {
  struct Args {
    std::string out, size = "960x540";
    data::SynthOptions options;
    bool overwrite = false;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand(
      "synth", "Write synthetic VisDrone-CC-format sequences (frames, head annotations, train/test lists)");
  cmd->add_option("--out", a->out, "Dataset root to create (sequences/, annotations/, trainlist.txt, testlist.txt)")
      ->required();
  cmd->add_option("--sequences", a->options.sequences, "Number of sequences")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--frames", a->options.frames, "Frames per sequence")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--size", a->size, "Frame size WIDTHxHEIGHT")->capture_default_str()->check(width_by_height());
  cmd->add_option("--seed", a->options.seed, "Random seed; the same seed gives the same bytes")->capture_default_str();
  cmd->add_flag("--overwrite", a->overwrite,
                "Replace the files synth writes in a non-empty --out (nothing else is touched)");
  cmd->callback([a] {
    a->options.size = vision::parse_frame_size(a->size, "--size");
    const int w = a->options.size.width, h = a->options.size.height;
    const InterruptResponseScope interrupts(InterruptResponse::cancel);  // Ctrl-C stops within a frame
    data::write_synth_dataset(a->options, a->out, a->overwrite);
    log_info(cat("synth: ", a->options.sequences, " sequences of ", a->options.frames, " frames (", size_words(w, h),
                 ") in ", a->out));
  });
}

}  // namespace crowdrt::cli
