// The smp encoders: each turns the input into smp's six feature maps (the input itself, then strides
// 2, 4, 8, 16, 32), reading its weights under "encoder.".
#pragma once
#include <string>
#include <vector>

#include "models/weighted_graph_builder.h"

namespace crowdrt::models {

using FeatureMaps = std::vector<ir::ValueId>;  // 6 maps, finest first

bool is_resnet_encoder(const std::string& name);        // resnet18, resnet34, resnet50, resnet101
bool is_efficientnet_encoder(const std::string& name);  // efficientnet-b0 .. efficientnet-b3

FeatureMaps build_resnet_encoder(WeightedGraphBuilder& b, ir::ValueId input, const std::string& name);
FeatureMaps build_mobilenet_v2_encoder(WeightedGraphBuilder& b, ir::ValueId input);
FeatureMaps build_efficientnet_encoder(WeightedGraphBuilder& b, ir::ValueId input, const std::string& name);

// The key of the encoder's first convolution weight, whose dim 1 is the model's input channel count.
std::string first_conv_key(const std::string& encoder);

}  // namespace crowdrt::models
