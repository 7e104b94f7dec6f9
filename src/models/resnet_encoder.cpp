// torchvision ResNet as smp's ResNetEncoder uses it (fc and avgpool deleted). Source: torchvision
// models/resnet.py (BasicBlock, Bottleneck with the stride on the 3x3 conv, "v1.5") and smp
// encoders/resnet.py (stages: conv1-bn1-relu | maxpool-layer1 | layer2 | layer3 | layer4).
#include <array>
#include <map>

#include "models/encoders.h"

namespace crowdrt::models {
namespace {

constexpr float kResNetBatchNormEpsilon = 1e-5f;  // torch.nn.BatchNorm2d default

struct ResNetConfig {
  bool bottleneck;
  std::array<int, 4> blocks;
};

const std::map<std::string, ResNetConfig>& configs() {
  static const std::map<std::string, ResNetConfig> c{{"resnet18", {false, {2, 2, 2, 2}}},
                                                     {"resnet34", {false, {3, 4, 6, 3}}},
                                                     {"resnet50", {true, {3, 4, 6, 3}}},
                                                     {"resnet101", {true, {3, 4, 23, 3}}}};
  return c;
}

ConvSpec conv3x3(int64_t out, int64_t stride) { return {out, 3, stride, {1, 1, 1, 1}, 1, false}; }
ConvSpec conv1x1(int64_t out, int64_t stride) { return {out, 1, stride, {0, 0, 0, 0}, 1, false}; }

// One residual block; `planes` is torchvision's name for the block's base width.
ir::ValueId residual_block(WeightedGraphBuilder& b, ir::ValueId x, const std::string& m, int64_t planes,
                           int64_t stride, bool bottleneck) {
  const int64_t expansion = bottleneck ? 4 : 1;
  ir::ValueId y;
  if (bottleneck) {
    y = b.relu(b.batchnorm(b.conv(x, m + ".conv1", conv1x1(planes, 1)), m + ".bn1", kResNetBatchNormEpsilon),
               m + ".relu");
    y = b.relu(b.batchnorm(b.conv(y, m + ".conv2", conv3x3(planes, stride)), m + ".bn2", kResNetBatchNormEpsilon),
               m + ".relu_1");
    y = b.batchnorm(b.conv(y, m + ".conv3", conv1x1(planes * expansion, 1)), m + ".bn3", kResNetBatchNormEpsilon);
  } else {
    y = b.relu(b.batchnorm(b.conv(x, m + ".conv1", conv3x3(planes, stride)), m + ".bn1", kResNetBatchNormEpsilon),
               m + ".relu");
    y = b.batchnorm(b.conv(y, m + ".conv2", conv3x3(planes, 1)), m + ".bn2", kResNetBatchNormEpsilon);
  }
  ir::ValueId shortcut = x;
  if (stride != 1 || b.channels(x) != planes * expansion)
    shortcut = b.batchnorm(b.conv(x, m + ".downsample.0", conv1x1(planes * expansion, stride)), m + ".downsample.1",
                           kResNetBatchNormEpsilon);
  return b.relu(b.add(y, shortcut, m), m + ".relu_out");
}

}  // namespace

bool is_resnet_encoder(const std::string& name) { return configs().count(name) != 0; }

FeatureMaps build_resnet_encoder(WeightedGraphBuilder& b, ir::ValueId input, const std::string& name) {
  const ResNetConfig& config = configs().at(name);
  FeatureMaps maps{input};
  ir::ValueId x = b.conv(input, "encoder.conv1", {64, 7, 2, {3, 3, 3, 3}, 1, false});
  x = b.relu(b.batchnorm(x, "encoder.bn1", kResNetBatchNormEpsilon), "encoder.relu");
  maps.push_back(x);
  x = b.max_pool(x, "encoder.maxpool", 3, 2, 1);
  const std::array<int64_t, 4> planes{64, 128, 256, 512};
  for (int layer = 0; layer < 4; ++layer) {
    for (int block = 0; block < config.blocks[layer]; ++block) {
      const int64_t stride = (layer > 0 && block == 0) ? 2 : 1;
      x = residual_block(b, x, cat("encoder.layer", layer + 1, ".", block), planes[layer], stride, config.bottleneck);
    }
    maps.push_back(x);
  }
  return maps;
}

}  // namespace crowdrt::models
