// segmentation_models_pytorch (smp) Unet / UnetPlusPlus rebuilt as IR graphs from a trained state_dict, so that
// a checkpoint of the seed's models becomes an engine without Python. The graph's constants carry the
// state_dict keys, so every key maps to exactly one weight; the structure follows smp module for module
// (classes=1, decoder_channels (256,128,64,32,16), batchnorm decoders, nearest x2 upsampling, depth 5, no
// activation).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "checkpoint/checkpoint.h"
#include "ir/graph.h"

namespace crowdrt::models {

enum class Arch { unet, unetplusplus };

// "unet" / "UNet", "unetplusplus" / "UNet++" / "unetpp" (case-insensitive); Error listing the spellings otherwise.
Arch arch_from_name(const std::string& name);
const char* arch_name(Arch arch);  // "unet", "unetplusplus"

// resnet18/34/50/101, mobilenet_v2, efficientnet-b0..b3.
const std::vector<std::string>& supported_encoders();

struct ModelSpec {
  Arch arch = Arch::unet;
  std::string encoder = "resnet34";
  int64_t in_channels = 3;
  int64_t height = 0;  // multiples of 32 (five stride-2 stages, then the decoder doubles back)
  int64_t width = 0;
};

// Error unless height and width are positive multiples of 32 (smp's encoders halve the size five times).
void check_input_size(int64_t height, int64_t width);

// The graph of the whole model: input "input" (1 x in_channels x height x width), output "output"
// (1 x 1 x height x width), BatchNormalization kept as nodes, every value's shape known. Error (one) when the
// state_dict does not fit: missing keys, unexpected keys and shape mismatches, the first few of each with
// counts, and which architecture / encoder / channel count the keys do fit when that can be told.
ir::Graph build_smp_model(const ModelSpec& spec, const checkpoint::StateDict& weights);

// Every key the model reads, with its shape, zero-filled, in graph order (BatchNorm num_batches_tracked and
// efficientnet's unused head are not read). For tests and for telling users what a checkpoint should hold.
checkpoint::StateDict expected_state_dict(const ModelSpec& spec);

// Trainable parameters the graph reads, as sum(p.numel() for p in model.parameters()) counts them (BatchNorm
// running statistics are buffers, not parameters; efficientnet's unused head conv is not in the graph).
int64_t count_parameters(const ir::Graph& graph);

}  // namespace crowdrt::models
