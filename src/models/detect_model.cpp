// Key-name and shape fingerprints of the smp models crowdrt builds (see each encoder's source file for the
// layouts they come from).
#include "models/detect_model.h"

#include <charconv>

#include "models/encoders.h"

namespace crowdrt::models {
namespace {

bool starts_with(const std::string& s, const std::string& head) { return s.compare(0, head.size(), head) == 0; }

// 1 + the largest N among keys "<prefix>N.*", 0 when there is none.
int count_numbered(const checkpoint::StateDict& weights, const std::string& prefix) {
  int count = 0;
  for (const auto& [key, tensor] : weights.entries) {
    if (!starts_with(key, prefix)) continue;
    int n = -1;
    const char* begin = key.data() + prefix.size();
    const auto [end, ec] = std::from_chars(begin, key.data() + key.size(), n);
    if (ec == std::errc() && end != begin && *end == '.') count = std::max(count, n + 1);
  }
  return count;
}

int64_t dim(const checkpoint::StateDict& weights, const std::string& key, size_t d) {
  const Tensor* t = weights.find(key);
  return t != nullptr && t->shape().size() > d ? t->shape()[d] : -1;
}

std::optional<std::string> detect_resnet(const checkpoint::StateDict& weights) {
  const bool bottleneck = weights.find("encoder.layer1.0.conv3.weight") != nullptr;
  const int layer3 = count_numbered(weights, "encoder.layer3.");
  if (!bottleneck && layer3 == 2) return "resnet18";
  if (!bottleneck && layer3 == 6) return "resnet34";
  if (bottleneck && layer3 == 6) return "resnet50";
  if (bottleneck && layer3 == 23) return "resnet101";
  return std::nullopt;
}

std::optional<std::string> detect_efficientnet(const checkpoint::StateDict& weights) {
  // (blocks, stem width, last block's output channels) from round_filters / round_repeats of b0..b3
  const int blocks = count_numbered(weights, "encoder._blocks.");
  const int64_t stem = dim(weights, "encoder._conv_stem.weight", 0);
  const int64_t last = dim(weights, cat("encoder._blocks.", blocks - 1, "._project_conv.weight"), 0);
  if (blocks == 16 && stem == 32 && last == 320) return "efficientnet-b0";
  if (blocks == 23 && stem == 32 && last == 320) return "efficientnet-b1";
  if (blocks == 23 && stem == 32 && last == 352) return "efficientnet-b2";
  if (blocks == 26 && stem == 40 && last == 384) return "efficientnet-b3";
  return std::nullopt;
}

}  // namespace

std::string first_conv_key(const std::string& encoder) {
  if (is_resnet_encoder(encoder)) return "encoder.conv1.weight";
  if (is_efficientnet_encoder(encoder)) return "encoder._conv_stem.weight";
  return "encoder.features.0.0.weight";
}

std::optional<Arch> detect_arch(const checkpoint::StateDict& weights) {
  for (const auto& [key, tensor] : weights.entries) {
    if (starts_with(key, "decoder.blocks.x_")) return Arch::unetplusplus;
    if (starts_with(key, "decoder.blocks.0.")) return Arch::unet;
  }
  return std::nullopt;
}

std::optional<std::string> detect_encoder(const checkpoint::StateDict& weights) {
  if (weights.find("encoder.conv1.weight") != nullptr) return detect_resnet(weights);
  if (weights.find("encoder._conv_stem.weight") != nullptr) return detect_efficientnet(weights);
  if (weights.find("encoder.features.0.0.weight") != nullptr && weights.find("encoder.features.18.0.weight") != nullptr)
    return "mobilenet_v2";
  return std::nullopt;
}

std::optional<int64_t> detect_in_channels(const checkpoint::StateDict& weights, const std::string& encoder) {
  const int64_t c = dim(weights, first_conv_key(encoder), 1);
  if (c <= 0) return std::nullopt;
  return c;
}

}  // namespace crowdrt::models
