// crowdrt export: a PyTorch checkpoint of an smp Unet / UnetPlusPlus → ONNX, without Python (the seed's
// pytorch2onnx.py; its spellings UNet / UNet++ are accepted). Architecture, encoder and input channels are
// read from the checkpoint's keys unless given.
#include <cctype>
#include <chrono>
#include <filesystem>
#include <memory>

#include "checkpoint/checkpoint.h"
#include "cli/cli_common.h"
#include "models/detect_model.h"
#include "models/smp_model.h"
#include "onnx/export.h"

namespace crowdrt::cli {
namespace {

// "608" → 608x608, "608x1088" → height 608, width 1088.
std::pair<int64_t, int64_t> parse_input_size(const std::string& text) {
  const auto number = [&](const std::string& s) {
    if (s.empty() || s.size() > 6 || !std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); }))
      throw CLI::ValidationError("--input-size", cat("'", text, "': expected S or HxW, such as 608 or 608x1088"));
    return std::stoll(s);
  };
  const size_t x = text.find_first_of("xX");
  if (x == std::string::npos) return {number(text), number(text)};
  return {number(text.substr(0, x)), number(text.substr(x + 1))};
}

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
      ->capture_default_str();
  cmd->add_option("--encoder", args->encoder, cat("auto, or one of: ", encoders_list()))->capture_default_str();
  cmd->add_option("--in-channels,--in_channels", args->in_channels, "Input channels (3 RGB, 5 RGB + flow) or auto")
      ->capture_default_str();
  cmd->add_option("--input-size,--input_size", args->input_size, "Network input size: S or HxW, multiples of 32")
      ->required();
  cmd->add_option("-o,--output", args->output, "ONNX file to write (default: the checkpoint path with .onnx)");
  cmd->add_option("--opset", args->opset, "ONNX opset (default 11, as the seed)")
      ->check(CLI::Range(onnx_export::kOldestExportOpset, onnx_export::kNewestExportOpset))
      ->capture_default_str();
  cmd->add_flag("--overwrite", args->overwrite, "Replace the output file if it exists");
  cmd->callback([args] {
    const auto [height, width] = parse_input_size(args->input_size);
    models::check_input_size(height, width);
    const std::string output = args->output.empty() ? default_output(args->checkpoint) : args->output;
    check_writable(output, args->overwrite);
    const auto start = std::chrono::steady_clock::now();
    const checkpoint::StateDict weights = checkpoint::read_checkpoint(args->checkpoint);

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
      try {
        spec.in_channels = std::stoll(args->in_channels);
      } catch (const std::exception&) {
        throw CLI::ValidationError("--in-channels", cat("'", args->in_channels, "': give a number or auto"));
      }
    }

    const ir::Graph graph = models::build_smp_model(spec, weights);
    onnx_export::ExportOptions options;
    options.opset = args->opset;
    onnx_export::write_onnx(graph, output, options);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("model: %s%s, encoder %s%s, %lld input channels%s, input 1x%lldx%lldx%lld, %.2f M parameters, "
                "%zu weights\n",
                models::arch_name(spec.arch), from(auto_arch), spec.encoder.c_str(), from(auto_encoder),
                static_cast<long long>(spec.in_channels), from(auto_channels), static_cast<long long>(spec.in_channels),
                static_cast<long long>(height), static_cast<long long>(width),
                static_cast<double>(models::count_parameters(graph)) / 1e6, weights.entries.size());
    std::printf("wrote %s: ONNX opset %d, %zu nodes, %.1f MB, %.1f s\n", output.c_str(), args->opset,
                graph.nodes().size(), static_cast<double>(std::filesystem::file_size(output)) / 1e6, seconds);
  });
}

}  // namespace crowdrt::cli
