// crowdrt preprocess: the network input of every frame of one sequence, as NCHW float32 .npy files.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>

#include "cli/cli_common.h"
#ifdef CROWDRT_WITH_CUDA_FLOW
#include "vision/cuda/cuda_network_input.h"
#endif
#include "core/atomic_file.h"
#include "core/cancel.h"
#include "core/log.h"
#include "core/npy.h"
#include "core/progress.h"
#include "data/visdrone.h"
#include "vision/frame.h"
#include "vision/network_input.h"

namespace crowdrt::cli {

void register_preprocess(CLI::App& app) {
  struct Args {
    std::string sequence, out, size = "608x608", flow = "medium", mode = "eval";
    int channels = 5;
    bool overwrite = false, no_write = false;
    std::string flow_device = "cpu";
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd =
      app.add_subcommand("preprocess", "Write the network input (1xCxHxW float32 .npy) of every frame of a sequence");
  cmd->add_option("--sequence", a->sequence, "Folder of one sequence's frames (.jpg/.png)")->required();
  cmd->add_option("--out", a->out, "Folder for <frame>.npy (required unless --no-write)");
  cmd->add_option("--size", a->size, "Network input size WIDTHxHEIGHT")
      ->capture_default_str()
      ->check(width_by_height());
  cmd->add_option("--flow", a->flow, "DIS preset: ultrafast, fast, medium, or none for 3 channels")
      ->capture_default_str()
      ->check(one_of({"ultrafast", "fast", "medium", "none"}));
  cmd->add_option("--channels", a->channels, "3 (RGB) or 5 (RGB + flow)")
      ->capture_default_str()
      ->check(CLI::IsMember({3, 5}));
  cmd->add_option("--mode", a->mode,
                  "eval: resize then flow (eval.py); calib: flow at source resolution then resize (calibrator)")
      ->capture_default_str()
      ->check(one_of({"eval", "calib"}));
  cmd->add_option("--flow-device", a->flow_device,
                  "cpu (OpenCV) or cuda (resize, gray, DIS flow and packing on the GPU; --mode eval only)")
      ->capture_default_str()
      ->check(one_of({"cpu", "cuda"}));
  cmd->add_flag("--overwrite", a->overwrite, "Replace existing .npy files of the same names in --out");
  cmd->add_flag("--no-write", a->no_write,
                "Compute the inputs without writing them, to time decode + resize + flow + packing");
  cmd->callback([a] {
    namespace fs = std::filesystem;
    vision::NetworkInputOptions options;
    options.size = vision::parse_frame_size(a->size, "--size");
    const int w = options.size.width, h = options.size.height;
    options.channels = a->channels;
    options.flow = vision::parse_flow_preset(a->flow);
    options.variant = vision::parse_input_variant(a->mode);
    vision::NetworkInput input(options);
    // --flow-device cuda: the same recipe on the GPU (vision::CudaNetworkInput), copied back for the .npy files.
    std::function<Tensor(const cv::Mat&)> gpu_input;
    if (a->flow_device == "cuda") {
      if (options.variant != vision::InputVariant::eval)
        throw CLI::ValidationError("--flow-device",
                                   "cuda prepares the eval recipe only; use --mode eval or --flow-device cpu");
#ifdef CROWDRT_WITH_CUDA_FLOW
      auto gpu = std::make_shared<vision::CudaNetworkInput>(w, h, options.channels, options.flow, nullptr);
      gpu_input = [gpu, w, h, channels = options.channels](const cv::Mat& bgr) {
        Tensor t(DType::f32, {1, channels, h, w});
        gpu->next_to_host(bgr.data, bgr.cols, bgr.rows, bgr.step[0], t.data<float>());
        return t;
      };
#else
      throw Error("--flow-device cuda: this crowdrt was built without CUDA; use --flow-device cpu");
#endif
    }
    if (a->out.empty() && !a->no_write) throw CLI::RequiredError("--out");
    const std::vector<std::string> frames = data::list_frames(a->sequence);
    // Ctrl-C stops within a frame; the .npy files get their names together when all are written.
    const InterruptResponseScope interrupts(InterruptResponse::cancel);
    OutputBatch batch;
    std::vector<std::string> outputs;
    if (!a->no_write) {
      create_output_folders(a->out);
      for (const std::string& f : frames) {
        outputs.push_back((fs::path(a->out) / (fs::path(f).stem().string() + ".npy")).string());
        check_writable(outputs.back(), a->overwrite);
      }
    }
    using Clock = std::chrono::steady_clock;
    const auto ms = [](Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); };
    double decode_ms = 0, input_ms = 0;
    Progress progress("preprocess", static_cast<int64_t>(frames.size()));
    input.start_sequence();
    for (size_t i = 0; i < frames.size(); ++i) {
      throw_if_cancelled();
      const auto t0 = Clock::now();
      const cv::Mat bgr = vision::decode_frame(frames[i]);
      const auto t1 = Clock::now();
      const Tensor tensor = gpu_input ? gpu_input(bgr) : input.next(bgr);
      const auto t2 = Clock::now();
      decode_ms += ms(t1 - t0);
      input_ms += ms(t2 - t1);
      if (!a->no_write) write_npy(outputs[i], tensor);
      progress.advance();
    }
    progress.finish();
    batch.commit();
    const double n = static_cast<double>(frames.size());
    char timing[160];
    std::snprintf(timing, sizeof timing, "decode %.2f ms + resize/colour/flow/pack %.2f ms per frame = %.1f frames/s",
                  decode_ms / n, input_ms / n, 1000.0 * n / (decode_ms + input_ms));
    log_info(cat("preprocess: ", frames.size(), " frames (", shape_str({1, a->channels, h, w}), ": ", size_words(w, h),
                 ", flow ", a->flow, ", ", a->mode, "): ", timing, a->no_write ? "" : " in " + a->out));
  });
}

}  // namespace crowdrt::cli
