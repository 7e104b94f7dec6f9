// Conv and ConvTranspose as oneDNN (de)convolution forward inference. The source keeps the producer's layout
// when oneDNN has a fast kernel for it; otherwise oneDNN chooses (format_tag::any: brgconv takes nhwc, jit
// nChw16c on AVX-512) and a reorder is inserted. Weights are reordered once at compile time, and the Conv
// epilogue act(conv + B + residual) runs as post-ops: bias inside the convolution, the residual as a `sum`
// post-op (so dst must already hold it: the convolution writes over the residual's buffer when nobody else
// reads it, else the residual is copied in first), then the activation as eltwise.
//
// bf16 and int8 Convs (cpu_conv_choice.cpp decides which) take bf16 / s8 sources and weights, in the scheme of
// quant/scheme.h: symmetric (zero point 0), weights per output channel (scale max|w| / 127), activations per
// tensor (amax / 127, CompileOptions::activation_amax). oneDNN 2.x computes dst = oscale * (acc + bias) (+ sum_scale *
// dst) then the eltwise, so the bias is given in accumulator units, b / (sx * sw[oc]), and
// oscale[oc] = sx * sw[oc] / sy, where sy is the output's scale when it stays int8 and 1 when it is float32.
#include <algorithm>
#include <chrono>
#include <cstring>
#include <optional>
#include <unordered_map>

#include "backends/cpu/cpu_activation.h"
#include "backends/cpu/cpu_conv_setup.h"
#include "ir/op_params.h"
#include "quant/scheme.h"

namespace crowdrt::cpu {

using dnnl::memory;

Geometry geometry_of(const ir::Node& node) {
  ir::ConvParams p;
  try {
    p = ir::conv_params(node.attrs);
  } catch (const Error& e) {
    throw Error(cat("cpu backend: ", ir::op_name(node.op), " '", node.name, "': ", e.what(),
                    " (canonical 2-D form); run fold_constants first"));
  }
  return Geometry{{p.strides[0], p.strides[1]}, {p.dilations[0] - 1, p.dilations[1] - 1},
                  {p.pads_begin[0], p.pads_begin[1]}, {p.pads_end[0], p.pads_end[1]}};
}

bool fast_kernel(const dnnl::primitive_desc_base& pd) {
  const std::string impl = pd.impl_info_str();
  return impl.find("ref") == std::string::npos && impl.find("gemm:") == std::string::npos;
}

ConvSetup conv_setup(const ir::Graph& graph, const ir::Node& node) {
  ConvSetup s;
  s.x = node.inputs[0];
  s.w = node.inputs[1];
  s.y = node.outputs[0];
  s.has_bias = node.inputs.size() > 2 && node.inputs[2] != ir::kNoValue;
  s.has_residual = node.attrs.i("fused_add", 0) != 0;
  s.residual = s.has_residual ? node.inputs.at(3) : ir::kNoValue;
  s.src_dims = to_dims(graph.value(s.x).shape);
  s.dst_dims = to_dims(graph.value(s.y).shape);
  const Shape& weight_shape = graph.constant(s.w).shape();
  s.group = ir::conv_params(node.attrs).group;
  s.out_channels = weight_shape[0];
  s.geo = geometry_of(node);
  // Grouped weights are (group, out/group, in/group, kh, kw) for oneDNN; the ONNX bytes are the same.
  s.weight_dims = s.group == 1 ? to_dims(weight_shape)
                               : Dims{s.group, s.out_channels / s.group, weight_shape[1], weight_shape[2],
                                      weight_shape[3]};
  return s;
}

dnnl::convolution_forward::primitive_desc make_conv_pd(const GraphBuilder& builder, const ir::Node& node,
                                                       const ConvSetup& setup, const ConvVariant& variant,
                                                       const memory::desc& src_md, const memory::desc& dst_md) {
  dnnl::post_ops post_ops;
  if (setup.has_residual) post_ops.append_sum(variant.sum_scale);
  append_activation(post_ops, activation_stages(ir::epilogue_activation(node.attrs)));
  dnnl::primitive_attr attr = builder.attr();
  attr.set_post_ops(post_ops);
  if (!variant.output_scales.empty()) attr.set_output_scales(1 << 1, variant.output_scales);
  const memory::desc weights_md(setup.weight_dims, variant.compute, memory::format_tag::any);
  const memory::desc bias_md = setup.has_bias ? plain_desc({setup.out_channels}) : memory::desc();
  dnnl::convolution_forward::desc desc(dnnl::prop_kind::forward_inference, variant.algorithm, src_md, weights_md,
                                       bias_md, dst_md, setup.geo.strides, setup.geo.dilations,
                                       setup.geo.padding_begin, setup.geo.padding_end);
  return dnnl::convolution_forward::primitive_desc(desc, attr, builder.engine());
}

namespace {

memory::data_type compute_type(Precision precision) {
  return precision == Precision::int8   ? memory::data_type::s8
         : precision == Precision::bf16 ? memory::data_type::bf16
                                        : memory::data_type::f32;
}

// The producer's layout (in the Conv's source data type) when oneDNN runs a fast kernel on it (no reorder
// between layers), else the layout oneDNN prefers (`make` with format any; a reorder is inserted).
template <class PrimitiveDesc, class Make>
PrimitiveDesc with_source_layout(GraphBuilder& builder, ir::ValueId x, const Dims& src_dims, memory::data_type type,
                                 Make make) {
  if (!builder.layout_open(x)) {
    try {
      PrimitiveDesc as_produced = make(with_data_type(builder.stored(x).md, type));
      if (fast_kernel(as_produced)) return as_produced;
    } catch (const dnnl::error&) {
      // no implementation for that layout: fall through to the preferred one
    }
  }
  return make(memory::desc(src_dims, type, memory::format_tag::any));
}

}  // namespace

void build_conv(GraphBuilder& builder, const ir::Node& node) {
  const ir::Graph& graph = builder.graph();
  const ConvSetup setup = conv_setup(graph, node);
  const ConvChoice& choice = builder.conv_choice(node);
  const bool int8 = choice.precision == Precision::int8;
  const memory::data_type compute = compute_type(choice.precision);
  const memory::data_type dst_type = builder.stored_type(setup.y);
  const float dst_scale = builder.stored_scale(setup.y);

  ConvVariant variant;
  variant.compute = compute;
  variant.algorithm = choice.tactic == "winograd" ? dnnl::algorithm::convolution_winograd
                                                  : dnnl::algorithm::convolution_direct;
  float src_scale = 1.f;
  std::vector<float> w_scales;
  if (int8) {
    src_scale = quant::activation_scale(*builder.amax(setup.x));
    w_scales = quant::weight_scales(graph.constant(setup.w));
    for (float ws : w_scales) variant.output_scales.push_back(src_scale * ws / dst_scale);
  }
  // A residual kept in the dst's data type is summed in place at its own scale; any other is copied in at the
  // dst's scale first (then the sum scale is 1).
  const bool residual_in_place_type =
      setup.has_residual && builder.stored_type(setup.residual) == dst_type;
  if (residual_in_place_type) variant.sum_scale = builder.stored_scale(setup.residual) / dst_scale;

  const std::optional<memory::desc> required_dst = builder.required_output_layout(setup.y);
  const memory::desc dst_any(setup.dst_dims, dst_type, memory::format_tag::any);
  auto make = [&](const memory::desc& src_md) {
    return make_conv_pd(builder, node, setup, variant, src_md, required_dst ? *required_dst : dst_any);
  };
  auto pd = variant.algorithm == dnnl::algorithm::convolution_winograd
                ? make(memory::desc(setup.src_dims, compute, memory::format_tag::any))
                : with_source_layout<dnnl::convolution_forward::primitive_desc>(builder, setup.x, setup.src_dims,
                                                                                compute, make);
  bool overwrite = setup.has_residual && !required_dst && builder.can_overwrite(setup.residual, pd.dst_desc());
  if (setup.has_residual && !overwrite && variant.sum_scale != 1.f) {
    variant.sum_scale = 1.f;  // the copy below rescales the residual to the dst's scale
    pd = make(pd.src_desc());
  }

  const Slot src = builder.read_as(setup.x, pd.src_desc(), src_scale);
  ArgMemories constants;
  if (int8) {
    std::vector<float> inverse(w_scales.size());
    for (size_t o = 0; o < w_scales.size(); ++o) inverse[o] = 1.f / w_scales[o];
    constants[DNNL_ARG_WEIGHTS] = builder.constant(setup.w, plain_desc(setup.weight_dims), pd.weights_desc(),
                                                   setup.group == 1 ? 1 : 3, inverse);
  } else {
    constants[DNNL_ARG_WEIGHTS] = builder.constant(setup.w, plain_desc(setup.weight_dims), pd.weights_desc());
  }
  if (setup.has_bias) {
    const memory::desc bias_md = plain_desc({setup.out_channels});
    if (int8) {
      const Tensor& bias = graph.constant(node.inputs[2]);
      std::vector<float> accumulator_units(setup.out_channels);
      for (int64_t o = 0; o < setup.out_channels; ++o)
        accumulator_units[o] = bias.data<float>()[o] / (src_scale * w_scales[o]);
      constants[DNNL_ARG_BIAS] = builder.owned_constant(accumulator_units, bias_md, pd.bias_desc());
    } else {
      constants[DNNL_ARG_BIAS] = builder.constant(node.inputs[2], bias_md, pd.bias_desc());
    }
  }

  Slot dst;
  std::string note = choice.note;
  auto add_note = [&](const std::string& more) { note += cat(note.empty() ? "" : "; ", more); };
  if (overwrite) {
    dst = builder.write_over(setup.y, setup.residual, pd.dst_desc(), dst_scale);
    add_note("writes over the residual");
  } else {
    dst = builder.write(setup.y, pd.dst_desc(), dst_scale);
    if (setup.has_residual) builder.copy_into(setup.residual, dst, node.name);
    if (required_dst) add_note("writes into its concat in place");
  }
  if (choice.precision != Precision::fp32 && dst_type == memory::data_type::f32)
    add_note("output float32 (a reader needs it)");
  builder.add_primitive(dnnl::convolution_forward(pd), pd, {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}},
                        std::move(constants),
                        LayerInfo{node.name, ir::fused_op_name(node), onednn_kernel_name(pd), choice.precision,
                                  describe_layout(dst.md), note, choice.plan_tactic()});
}

void build_conv_transpose(GraphBuilder& builder, const ir::Node& node) {
  const ir::Graph& graph = builder.graph();
  const ir::ValueId x = node.inputs[0], w = node.inputs[1], y = node.outputs[0];
  const bool has_bias = node.inputs.size() > 2 && node.inputs[2] != ir::kNoValue;
  const Dims src_dims = to_dims(graph.value(x).shape), dst_dims = to_dims(graph.value(y).shape);
  const Shape& weight_shape = graph.constant(w).shape();  // Cin, Cout/group, kh, kw
  const int64_t group = ir::conv_params(node.attrs).group;
  const int64_t in_channels = weight_shape[0], out_per_group = weight_shape[1], out_channels = out_per_group * group;
  Geometry geo = geometry_of(node);
  // output_padding (and any other remainder) goes to the end padding: oneDNN derives the output size from it.
  for (int axis = 0; axis < 2; ++axis) {
    const int64_t extent = (weight_shape[2 + axis] - 1) * (geo.dilations[axis] + 1) + 1;
    geo.padding_end[axis] =
        (src_dims[2 + axis] - 1) * geo.strides[axis] + extent - geo.padding_begin[axis] - dst_dims[2 + axis];
  }
  // ONNX stores (Cin, Cout/group, kh, kw): oneDNN's (out, in, kh, kw) in iohw order, or giohw with groups.
  const memory::desc user_weights =
      group == 1 ? memory::desc({out_channels, in_channels, weight_shape[2], weight_shape[3]},
                                memory::data_type::f32, memory::format_tag::iohw)
                 : memory::desc({group, out_per_group, in_channels / group, weight_shape[2], weight_shape[3]},
                                memory::data_type::f32, memory::format_tag::giohw);
  const memory::desc bias_md = has_bias ? plain_desc({out_channels}) : memory::desc();
  const std::optional<memory::desc> required_dst = builder.required_output_layout(y);
  auto make = [&](const memory::desc& src_md) {
    dnnl::deconvolution_forward::desc desc(dnnl::prop_kind::forward_inference,
                                           dnnl::algorithm::deconvolution_direct, src_md,
                                           any_desc(user_weights.dims()), bias_md,
                                           required_dst ? *required_dst : any_desc(dst_dims), geo.strides,
                                           geo.dilations, geo.padding_begin, geo.padding_end);
    return dnnl::deconvolution_forward::primitive_desc(desc, builder.attr(), builder.engine());
  };
  const auto pd = with_source_layout<dnnl::deconvolution_forward::primitive_desc>(builder, x, src_dims,
                                                                                 memory::data_type::f32, make);
  const Slot src = builder.read_as(x, pd.src_desc());
  ArgMemories constants;
  constants[DNNL_ARG_WEIGHTS] = builder.constant(w, user_weights, pd.weights_desc());
  if (has_bias) constants[DNNL_ARG_BIAS] = builder.constant(node.inputs[2], bias_md, pd.bias_desc());
  const Slot dst = builder.write(y, pd.dst_desc());
  builder.add_primitive(dnnl::deconvolution_forward(pd), pd, {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}},
                        std::move(constants),
                        LayerInfo{node.name, "ConvTranspose", onednn_kernel_name(pd), Precision::fp32,
                                  describe_layout(dst.md), required_dst ? "writes into its concat in place" : ""});
}

// The op table's entries (cpu_op_table.cpp): what oneDNN's (de)convolution takes, and the Conv epilogue this
// file builds (activations of cpu_activation.h, a residual of the output's shape); ConvTranspose has none.
namespace {

bool conv_supported(const ir::Graph& graph, const ir::Node& node, bool transposed) {
  if (node.inputs.size() < 2 || value_rank(graph, node.inputs[0]) != 4 || !is_constant_value(graph, node.inputs[1]) ||
      value_rank(graph, node.inputs[1]) != 4)
    return false;
  if (input_present(node, 2) && !is_constant_value(graph, node.inputs[2])) return false;
  const int64_t group = node.attrs.i("group", 1);
  const Shape& x = value_shape(graph, node.inputs[0]);
  const Shape& w = value_shape(graph, node.inputs[1]);
  if (group < 1 || x[1] % group != 0) return false;
  if (transposed) return w[0] == x[1] && !node.attrs.has("activation") && node.attrs.i("fused_add", 0) == 0;
  if (w[1] * group != x[1] || w[0] % group != 0) return false;
  if (!ir::epilogue_activation_kind(node.attrs.s("activation", ""))) return false;
  if (node.attrs.i("fused_add", 0) != 0)
    return input_present(node, 3) && value_shape(graph, node.inputs[3]) == graph.value(node.outputs[0]).shape;
  return true;
}

}  // namespace

OpEntry conv_entry() {
  return {.op = ir::Op::Conv,
          .supports = [](const ir::Graph& graph, const ir::Node& node) { return conv_supported(graph, node, false); },
          .build = build_conv,
          .writes_concat_slice = true,
          .reduced_precision = true};
}

OpEntry conv_transpose_entry() {
  return {.op = ir::Op::ConvTranspose,
          .supports = [](const ir::Graph& graph, const ir::Node& node) { return conv_supported(graph, node, true); },
          .build = build_conv_transpose,
          .writes_concat_slice = true};
}

}  // namespace crowdrt::cpu
