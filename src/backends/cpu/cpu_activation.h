// Activations as oneDNN eltwise stages: shared by the standalone ops and the Conv epilogue (post-ops).
#pragma once
#include <oneapi/dnnl/dnnl.hpp>
#include <vector>

#include "ir/op_params.h"

namespace crowdrt::cpu {

struct EltwiseStage {
  dnnl::algorithm algorithm;
  float alpha = 0.f, beta = 0.f;
};

// The stages computing one activation (a Conv's epilogue or a standalone activation op; none: no stage).
std::vector<EltwiseStage> activation_stages(const ir::Activation& activation);
void append_activation(dnnl::post_ops& post_ops, const std::vector<EltwiseStage>& stages);

}  // namespace crowdrt::cpu
