// crowdrt export: a PyTorch checkpoint of an smp Unet / UnetPlusPlus → ONNX, without Python (the seed's
// pytorch2onnx.py; its spellings UNet / UNet++ are accepted). Architecture, encoder and input channels are
// read from the checkpoint's keys unless given.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>

#include "checkpoint/checkpoint.h"
#include "cli/cli_common.h"
#include "core/atomic_file.h"
#include "core/cancel.h"
#include "core/log.h"
#include "core/progress.h"
#include "models/detect_model.h"
#include "models/smp_model.h"
#include "onnx/export.h"

namespace crowdrt::cli {
namespace {

std::string encoders_list() {
  std::string list;
  for (const std::string& e : models::supported_encoders()) list += cat(list.empty() ? "" : ", ", e);
  return list;
}

std::string default_output(const std::string& checkpoint) {
  const size_t slash = checkpoint.rfind('/');
  const size_t dot = checkpoint.rfind('.');
  const bool has_extension = dot != std::string::npos && (slash == std::string::npos || dot > slash + 1);
  return (has_extension ? checkpoint.substr(0, dot) : checkpoint) + ".onnx";
}

}  // namespace

void register_export(CLI::App& app) {
  struct Args {
    std::string checkpoint, arch = "auto", encoder = "auto", in_channels = "auto", input_size, output;
    int opset = 11;
    bool overwrite = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("export", "Export a PyTorch checkpoint of an smp Unet / UnetPlusPlus to ONNX");
  cmd->add_option("--checkpoint,--checkpoint_path,checkpoint", args->checkpoint,
                  "state_dict saved by torch.save (.pth/.pt) or a .safetensors file")
      ->required();
  cmd->add_option("--arch,--model_architecture", args->arch, "unet (UNet), unetplusplus (UNet++) or auto")
      ->capture_default_str()
      ->check(CLI::Validator(
          [](std::string& value) -> std::string {
            if (value == "auto") return "";
            try {
              models::arch_from_name(value);
            } catch (const Error& e) {
              return e.what();
            }
            return "";
          },
          ""));
  std::vector<std::string> encoders{"auto"};
  for (const std::string& e : models::supported_encoders()) encoders.push_back(e);
  cmd->add_option("--encoder", args->encoder, cat("auto, or one of: ", encoders_list()))
      ->capture_default_str()
      ->check(one_of(encoders));
  cmd->add_option("--in-channels,--in_channels", args->in_channels, "Input channels (3 RGB, 5 RGB + flow) or auto")
      ->capture_default_str()
      ->check(CLI::Validator(
          [](std::string& value) -> std::string {
            if (value == "auto" ||
                (!value.empty() && value.size() < 4 &&
                 std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
                 std::stoi(value) > 0))
              return "";
            return cat("'", value, "': give a number of channels (3 RGB, 5 RGB + flow) or auto");
          },
          ""));
  cmd->add_option("--input-size,--input_size", args->input_size,
                  "Network input size WIDTHxHEIGHT (as every crowdrt size), or S for SxS; multiples of 32")
      ->required()
      ->check(width_by_height(true));
  cmd->add_option("-o,--output", args->output, "ONNX file to write (default: the checkpoint path with .onnx)");
  cmd->add_option("--opset", args->opset, "ONNX opset (default 11, as the seed)")
      ->check(CLI::Range(onnx_export::kOldestExportOpset, onnx_export::kNewestExportOpset))
      ->capture_default_str();
  cmd->add_flag("--overwrite", args->overwrite, "Replace the output file if it exists");
  cmd->callback([args] {
    const auto [width, height] = parse_width_height(args->input_size, "--input-size", true);
    check_network_size(width, height, "--input-size");
    // export read HEIGHTxWIDTH until crowdrt 0.1.0; a portrait size is more likely that habit than a portrait camera.
    if (width < height)
      log_warn(cat("--input-size ", args->input_size, " is WIDTHxHEIGHT: a portrait model ", size_words(width, height),
                   "; for a landscape one pass ", height, "x", width, " (crowdrt 0.1.0 export read HEIGHTxWIDTH)"));
    const std::string output = args->output.empty() ? default_output(args->checkpoint) : args->output;
    check_writable(output, args->overwrite);
    const InterruptResponseScope interrupts(InterruptResponse::cancel);  // Ctrl-C stops between the steps below
    OutputBatch outputs;
    const auto start = std::chrono::steady_clock::now();
    Progress progress("export", 3, "steps");  // read the checkpoint, build the graph, write the ONNX file
    const checkpoint::StateDict weights = checkpoint::read_checkpoint(args->checkpoint);
    progress.advance();
    throw_if_cancelled();

    models::ModelSpec spec;
    spec.height = height;
    spec.width = width;
    const auto from = [](bool detected) { return detected ? " (detected)" : ""; };
    const bool auto_arch = args->arch == "auto", auto_encoder = args->encoder == "auto",
               auto_channels = args->in_channels == "auto";
    if (auto_arch) {
      const auto arch = models::detect_arch(weights);
      if (!arch)
        throw Error(cat(args->checkpoint, ": no decoder.blocks.* keys, so the architecture cannot be told; is this an "
                        "smp Unet/UnetPlusPlus state_dict? Pass --arch to say which"));
      spec.arch = *arch;
    } else {
      spec.arch = models::arch_from_name(args->arch);
    }
    if (auto_encoder) {
      const auto encoder = models::detect_encoder(weights);
      if (!encoder)
        throw Error(cat(args->checkpoint, ": the encoder.* keys fit none of ", encoders_list(),
                        "; pass --encoder to build one and see which keys differ"));
      spec.encoder = *encoder;
    } else {
      spec.encoder = args->encoder;
    }
    if (auto_channels) {
      const auto channels = models::detect_in_channels(weights, spec.encoder);
      if (!channels)
        throw Error(cat(args->checkpoint, ": the first convolution's weight is missing, so the input channels cannot "
                        "be told; pass --in-channels"));
      spec.in_channels = *channels;
    } else {
      spec.in_channels = std::stoll(args->in_channels);
    }

    const ir::Graph graph = models::build_smp_model(spec, weights);
    progress.advance();
    throw_if_cancelled();
    onnx_export::ExportOptions options;
    options.opset = args->opset;
    onnx_export::write_onnx(graph, output, options);
    outputs.commit();
    progress.advance();
    progress.finish();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("model: %s%s, encoder %s%s, %lld input channels%s, input 1x%lldx%lldx%lld (%s), "
                "%.2f M parameters, %zu weights\n",
                models::arch_name(spec.arch), from(auto_arch), spec.encoder.c_str(), from(auto_encoder),
                static_cast<long long>(spec.in_channels), from(auto_channels), static_cast<long long>(spec.in_channels),
                static_cast<long long>(height), static_cast<long long>(width), size_words(width, height).c_str(),
                static_cast<double>(models::count_parameters(graph)) / 1e6, weights.entries.size());
    std::printf("wrote %s: ONNX opset %d, %zu nodes, %.1f MB, %.1f s\n", output.c_str(), args->opset,
                graph.nodes().size(), static_cast<double>(std::filesystem::file_size(output)) / 1e6, seconds);
  });
}

}  // namespace crowdrt::cli
