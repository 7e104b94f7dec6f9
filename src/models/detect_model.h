// Telling which smp model a state_dict belongs to from its key names and shapes alone, for
// `crowdrt export --arch auto --encoder auto --in-channels auto`.
#pragma once
#include <optional>
#include <string>

#include "checkpoint/checkpoint.h"
#include "models/smp_model.h"

namespace crowdrt::models {

// The decoder's block names: "decoder.blocks.0.*" is Unet, "decoder.blocks.x_0_0.*" UnetPlusPlus.
std::optional<Arch> detect_arch(const checkpoint::StateDict& weights);
// The encoder whose key layout the weights have: layer counts tell resnet18/34 (BasicBlock) from
// resnet50/101 (Bottleneck conv3), "encoder.features.18" is mobilenet_v2, the number of _blocks and the stem
// width tell efficientnet-b0..b3 apart. nullopt when nothing fits.
std::optional<std::string> detect_encoder(const checkpoint::StateDict& weights);
// Input channels from the first convolution's weight (dim 1); nullopt when that weight is absent.
std::optional<int64_t> detect_in_channels(const checkpoint::StateDict& weights, const std::string& encoder);

}  // namespace crowdrt::models
