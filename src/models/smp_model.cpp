// Assembles encoder, decoder and head into one graph and turns weight problems into one actionable Error.
#include "models/smp_model.h"

#include <algorithm>
#include <cctype>

#include "models/decoders.h"
#include "models/detect_model.h"

namespace crowdrt::models {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

const char* arch_display_name(Arch arch) { return arch == Arch::unet ? "Unet" : "UnetPlusPlus"; }

// What the keys do fit, when it differs from what was asked: the second half of the error message.
std::string suggestion(const ModelSpec& spec, const checkpoint::StateDict& weights) {
  std::vector<std::string> hints;
  if (const auto arch = detect_arch(weights); arch && *arch != spec.arch)
    hints.push_back(cat("--arch ", arch_name(*arch)));
  const auto encoder = detect_encoder(weights);
  if (encoder && *encoder != spec.encoder) hints.push_back(cat("--encoder ", *encoder));
  if (const auto channels = detect_in_channels(weights, encoder.value_or(spec.encoder));
      channels && *channels != spec.in_channels)
    hints.push_back(cat("--in-channels ", *channels));
  if (hints.empty())
    return encoder ? "" : "; the keys fit none of the supported encoders: is this an smp Unet/UnetPlusPlus checkpoint?";
  std::string s;
  for (const std::string& h : hints) s += cat(s.empty() ? "" : " ", h);
  return cat("; the keys fit ", s, " (or pass auto for these options)");
}

}  // namespace

Arch arch_from_name(const std::string& name) {
  const std::string n = lower(name);
  if (n == "unet") return Arch::unet;
  if (n == "unetplusplus" || n == "unet++" || n == "unetpp") return Arch::unetplusplus;
  throw Error(cat("unknown architecture '", name, "': use unet (UNet) or unetplusplus (UNet++)"));
}

const char* arch_name(Arch arch) { return arch == Arch::unet ? "unet" : "unetplusplus"; }

const std::vector<std::string>& supported_encoders() {
  static const std::vector<std::string> names{"resnet18",        "resnet34",        "resnet50",
                                              "resnet101",       "mobilenet_v2",    "efficientnet-b0",
                                              "efficientnet-b1", "efficientnet-b2", "efficientnet-b3"};
  return names;
}

void check_input_size(int64_t height, int64_t width) {
  static constexpr int64_t kLargest = 16384;
  if (height > 0 && width > 0 && height % 32 == 0 && width % 32 == 0 && height <= kLargest && width <= kLargest)
    return;
  const auto round_up = [](int64_t v) { return std::clamp<int64_t>((v + 31) / 32 * 32, 32, kLargest); };
  throw Error(cat("input size ", height, "x", width, " must be a multiple of 32 in both dimensions (up to ", kLargest,
                  "): the encoder halves it five times and the decoder doubles it back; use e.g. ", round_up(height),
                  "x", round_up(width)));
}

namespace {

void check_spec(const ModelSpec& spec) {
  const auto& encoders = supported_encoders();
  if (std::find(encoders.begin(), encoders.end(), spec.encoder) == encoders.end()) {
    std::string list;
    for (const std::string& e : encoders) list += cat(list.empty() ? "" : ", ", e);
    throw Error(cat("unknown encoder '", spec.encoder, "'; crowdrt builds: ", list));
  }
  if (spec.in_channels < 1 || spec.in_channels > 4096)
    throw Error(cat("input channels ", spec.in_channels, " out of range: give 1 to 4096"));
  check_input_size(spec.height, spec.width);
}

ir::ValueId build_layers(const ModelSpec& spec, WeightedGraphBuilder& b) {
  const ir::ValueId input = b.input("input", {1, spec.in_channels, spec.height, spec.width});
  FeatureMaps features;
  if (is_resnet_encoder(spec.encoder)) features = build_resnet_encoder(b, input, spec.encoder);
  else if (spec.encoder == "mobilenet_v2") features = build_mobilenet_v2_encoder(b, input);
  else features = build_efficientnet_encoder(b, input, spec.encoder);
  const ir::ValueId decoded =
      spec.arch == Arch::unet ? build_unet_decoder(b, features) : build_unetplusplus_decoder(b, features);
  return build_segmentation_head(b, decoded);
}

}  // namespace

ir::Graph build_smp_model(const ModelSpec& spec, const checkpoint::StateDict& weights) {
  check_spec(spec);
  WeightedGraphBuilder b(weights);
  const ir::ValueId output = build_layers(spec, b);
  if (const WeightProblems problems = b.problems(); !problems.empty())
    throw Error(cat("the checkpoint does not fit ", arch_display_name(spec.arch), " with encoder ", spec.encoder,
                    " and ", spec.in_channels, " input channels: ", problems.summary(), suggestion(spec, weights)));
  return b.finish(output);
}

checkpoint::StateDict expected_state_dict(const ModelSpec& spec) {
  check_spec(spec);
  const checkpoint::StateDict none;
  WeightedGraphBuilder b(none);
  const ir::Graph graph = b.finish(build_layers(spec, b));
  checkpoint::StateDict zeros;
  for (size_t v = 0; v < graph.value_count(); ++v) {
    const ir::Value& value = graph.value(static_cast<ir::ValueId>(v));
    if (value.is_constant()) zeros.entries.emplace_back(value.name, *value.data);
  }
  return zeros;
}

int64_t count_parameters(const ir::Graph& graph) {
  const auto ends_with = [](const std::string& s, const std::string& tail) {
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
  };
  const std::vector<int> uses = graph.use_counts();
  int64_t n = 0;
  for (size_t v = 0; v < graph.value_count(); ++v) {
    const ir::Value& value = graph.value(static_cast<ir::ValueId>(v));
    if (value.is_constant() && uses[v] > 0 && !ends_with(value.name, ".running_mean") &&
        !ends_with(value.name, ".running_var"))
      n += value.data->numel();
  }
  return n;
}

}  // namespace crowdrt::models
