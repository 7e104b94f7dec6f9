// Activations as oneDNN eltwise stages: shared by the standalone ops and the Conv epilogue (post-ops).
#pragma once
#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#include <vector>

namespace crowdrt::cpu {

struct EltwiseStage {
  dnnl::algorithm algorithm;
  float alpha = 0.f, beta = 0.f;
};

// The stages computing one activation ("relu", "leaky_relu", "clip", "sigmoid", "hard_sigmoid",
// "hard_swish"; "" for none) with the Conv epilogue's alpha/beta meaning (see ir/graph.h).
std::vector<EltwiseStage> activation_stages(const std::string& kind, float alpha, float beta);
void append_activation(dnnl::post_ops& post_ops, const std::vector<EltwiseStage>& stages);

}  // namespace crowdrt::cpu
