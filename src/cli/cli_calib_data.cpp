// crowdrt calib-data: the seed's prepare_calibration_data.py, resumable and never deleting anything.
#include <memory>

#include "cli/cli_common.h"
#include "core/cancel.h"
#include "core/log.h"
#include "data/calibration_data.h"
#include "vision/frame.h"

namespace crowdrt::cli {

void register_calib_data(CLI::App& app) {
  struct Args {
    data::CalibrationDataOptions options;
    std::string flow = "medium", size = "608x608";
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("calib-data",
                                     "Write an INT8 calibration folder: imgs/<seq>_<frame>.jpg and "
                                     "imgs_flows/<seq>_<frame>.npy (DIS flow at source resolution)");
  cmd->add_option("--sequences", a->options.sequences, "Folder of sequence folders (or a VisDrone-CC root)")
      ->required();
  cmd->add_option("--out", a->options.out, "Calibration folder to write")->required();
  cmd->add_option("--flow", a->flow, "DIS preset: ultrafast, fast or medium")
      ->capture_default_str()
      ->check(one_of({"ultrafast", "fast", "medium"}));
  cmd->add_option("--every", a->options.every, "Keep every K-th frame of each sequence")
      ->capture_default_str()
      ->check(at_least(1));
  cmd->add_option("--max", a->options.max, "At most N frames in all (0: no limit)")
      ->capture_default_str()
      ->check(at_least(0));
  cmd->add_option("--calib-recipe", a->options.recipe,
                  "Where the flow is computed: network (between frames resized to --size, as inference computes it) or "
                  "seed (at the source resolution, as the seed's prepare_calibration_data.py; build then resizes the "
                  "stack without scaling the vectors)")
      ->check(one_of({"seed", "network"}))
      ->capture_default_str();
  cmd->add_option("--size", a->size, "--calib-recipe network: the network's input size, WxH")
      ->capture_default_str()
      ->check(width_by_height());
  cmd->add_flag("--overwrite", a->options.overwrite,
                "Replace the files this run writes in a non-empty --out (nothing else is touched)");
  cmd->add_flag("--resume", a->options.resume, "Continue an interrupted run in --out with the same settings");
  cmd->callback([a] {
    a->options.flow = vision::parse_flow_preset(a->flow);
    a->options.size = vision::parse_frame_size(a->size, "--size");
    // Ctrl-C stops within a frame; the complete files stay for --resume (data::write_calibration_data).
    const InterruptResponseScope interrupts(InterruptResponse::cancel);
    const data::CalibrationDataResult r = data::write_calibration_data(a->options);
    log_info(cat("calib-data: ", r.written, " frames written, ", r.kept, " already complete, in ", a->options.out));
  });
}

}  // namespace crowdrt::cli
