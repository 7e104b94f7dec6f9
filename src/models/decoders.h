// smp's Unet and UnetPlusPlus decoders and the segmentation head, reading weights under "decoder." and
// "segmentation_head.".
#pragma once
#include "models/encoders.h"

namespace crowdrt::models {

// smp DecoderBlock: nearest x2 upsampling, concat with the skip (if any), two Conv-BN-ReLU (3x3, no bias).
ir::ValueId decoder_block(WeightedGraphBuilder& b, ir::ValueId x, const std::vector<ir::ValueId>& skips,
                          const std::string& module, int64_t out_channels);

ir::ValueId build_unet_decoder(WeightedGraphBuilder& b, const FeatureMaps& features);
ir::ValueId build_unetplusplus_decoder(WeightedGraphBuilder& b, const FeatureMaps& features);
// segmentation_head.0: Conv 3x3 (16 → 1, bias); upsampling and activation are Identity for classes=1 models.
ir::ValueId build_segmentation_head(WeightedGraphBuilder& b, ir::ValueId x);

// smp's default decoder_channels
inline constexpr int64_t kDecoderChannels[5] = {256, 128, 64, 32, 16};

}  // namespace crowdrt::models
