// smp decoders/unet/decoder.py: blocks 0..4 walk from the deepest feature map up, each taking the next finer
// encoder map as its skip (the last block has none); center is Identity for these encoders.
#include "models/decoders.h"

namespace crowdrt::models {

ir::ValueId decoder_block(WeightedGraphBuilder& b, ir::ValueId x, const std::vector<ir::ValueId>& skips,
                          const std::string& module, int64_t out_channels) {
  constexpr float kDecoderBatchNormEpsilon = 1e-5f;
  x = b.upsample_nearest_2x(x, module);
  if (!skips.empty()) {
    std::vector<ir::ValueId> parts{x};
    parts.insert(parts.end(), skips.begin(), skips.end());
    x = b.concat(parts, module);
  }
  for (const char* conv : {".conv1", ".conv2"}) {
    const std::string m = module + conv;
    x = b.conv(x, m + ".0", {out_channels, 3, 1, {1, 1, 1, 1}, 1, false});
    x = b.relu(b.batchnorm(x, m + ".1", kDecoderBatchNormEpsilon), m + ".2");
  }
  return x;
}

ir::ValueId build_unet_decoder(WeightedGraphBuilder& b, const FeatureMaps& features) {
  // features[1..5], deepest first; features[0] (the input) is never a skip
  ir::ValueId x = features[5];
  for (int i = 0; i < 5; ++i) {
    std::vector<ir::ValueId> skip;
    if (i < 4) skip.push_back(features[4 - i]);
    x = decoder_block(b, x, skip, cat("decoder.blocks.", i), kDecoderChannels[i]);
  }
  return x;
}

ir::ValueId build_segmentation_head(WeightedGraphBuilder& b, ir::ValueId x) {
  return b.conv(x, "segmentation_head.0", {1, 3, 1, {1, 1, 1, 1}, 1, true}, "output");
}

}  // namespace crowdrt::models
