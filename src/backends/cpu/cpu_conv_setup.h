// What build_conv and choose_conv share: a Conv node's geometry in oneDNN's terms, and its primitive descriptor
// for a precision (fp32, bf16 or int8 sources and weights), algorithm, layouts, output scales and residual scale.
#pragma once
#include <optional>
#include <vector>

#include "backends/cpu/cpu_graph_builder.h"

namespace crowdrt::cpu {

struct Geometry {
  Dims strides, dilations, padding_begin, padding_end;  // oneDNN dilations count the gaps (ONNX - 1)
};
// Error when the node is not in the canonical 2-D form (run fold_constants first).
Geometry geometry_of(const ir::Node& node);

struct ConvSetup {
  ir::ValueId x = ir::kNoValue, w = ir::kNoValue, y = ir::kNoValue, residual = ir::kNoValue;
  bool has_bias = false, has_residual = false;
  Dims src_dims, dst_dims, weight_dims;  // weights (group, out/group, in/group, kh, kw) when grouped
  int64_t group = 1, out_channels = 0;
  Geometry geo;
};
ConvSetup conv_setup(const ir::Graph& graph, const ir::Node& node);

// Data types of one Conv variant and the int8 scales its epilogue applies.
struct ConvVariant {
  dnnl::algorithm algorithm = dnnl::algorithm::convolution_direct;
  dnnl::memory::data_type compute = dnnl::memory::data_type::f32;  // sources and weights: f32, bf16 or s8
  std::vector<float> output_scales;  // int8: per output channel, dst units per accumulator unit
  float sum_scale = 1.f;             // the residual's units per dst unit (int8 residual kept in its own scale)
};

// `src_md` and `dst_md` may be format any; Error (dnnl::error) when oneDNN has no implementation.
dnnl::convolution_forward::primitive_desc make_conv_pd(const GraphBuilder& builder, const ir::Node& node,
                                                       const ConvSetup& setup, const ConvVariant& variant,
                                                       const dnnl::memory::desc& src_md,
                                                       const dnnl::memory::desc& dst_md);

// oneDNN's reference and gemm convolutions are far slower than its jit/brgemm ones.
bool fast_kernel(const dnnl::primitive_desc_base& pd);

}  // namespace crowdrt::cpu
