// smp decoders/unetplusplus/decoder.py: nested dense skip paths. Node x_{d}_{l} upsamples x_{d}_{l-1} and
// concatenates x_{d+1..l}_{l} ... as smp's forward does; the channel counts follow from the maps themselves.
#include <map>

#include "models/decoders.h"

namespace crowdrt::models {

ir::ValueId build_unetplusplus_decoder(WeightedGraphBuilder& b, const FeatureMaps& features) {
  // f[0] deepest .. f[4] finest encoder map (smp reverses features[1:])
  const std::vector<ir::ValueId> f{features[5], features[4], features[3], features[2], features[1]};
  constexpr int depth = 4;
  const auto key = [](int d, int l) { return cat("x_", d, "_", l); };
  // smp: out_ch = decoder_channels[l] for depth 0, else the skip's channels (encoder map of that level)
  const auto out_channels = [&](int d, int l) { return d == 0 ? kDecoderChannels[l] : b.channels(f[l + 1]); };
  std::map<std::string, ir::ValueId> dense;
  for (int layer = 0; layer < depth; ++layer) {
    for (int d = 0; d < depth - layer; ++d) {
      if (layer == 0) {
        dense[key(d, d)] = decoder_block(b, f[d], {f[d + 1]}, "decoder.blocks." + key(d, d), out_channels(d, d));
      } else {
        const int l = d + layer;
        std::vector<ir::ValueId> skips;
        for (int i = d + 1; i <= l; ++i) skips.push_back(dense.at(key(i, l)));
        skips.push_back(f[l + 1]);
        dense[key(d, l)] =
            decoder_block(b, dense.at(key(d, l - 1)), skips, "decoder.blocks." + key(d, l), out_channels(d, l));
      }
    }
  }
  return decoder_block(b, dense.at(key(0, depth - 1)), {}, "decoder.blocks." + key(0, depth), kDecoderChannels[depth]);
}

}  // namespace crowdrt::models
