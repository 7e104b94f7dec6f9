// Conv and ConvTranspose as oneDNN (de)convolution forward inference. The source keeps the producer's layout
// when oneDNN has a fast kernel for it; otherwise oneDNN chooses (format_tag::any: brgconv takes nhwc, jit
// nChw16c on AVX-512) and a reorder is inserted. Weights are reordered once at compile time, and the Conv epilogue act(conv + B + residual) runs as post-ops: bias inside the convolution, the
// residual as a `sum` post-op (so dst must already hold it: the convolution writes over the residual's buffer
// when nobody else reads it, else the residual is copied in first), then the activation as eltwise.
#include <algorithm>
#include <chrono>
#include <cstring>
#include <optional>
#include <unordered_map>

#include "backends/cpu/cpu_activation.h"
#include "backends/cpu/cpu_graph_builder.h"

namespace crowdrt::cpu {
namespace {

using dnnl::memory;

struct Geometry {
  Dims strides, dilations, padding_begin, padding_end;  // oneDNN dilations count the gaps (ONNX - 1)
};

Geometry geometry_of(const ir::Node& node) {
  const auto strides = node.attrs.ints("strides", {1, 1});
  const auto dilations = node.attrs.ints("dilations", {1, 1});
  const auto pads = node.attrs.ints("pads", {0, 0, 0, 0});
  if (strides.size() != 2 || dilations.size() != 2 || pads.size() != 4)
    throw Error(cat("cpu backend: ", ir::op_name(node.op), " '", node.name,
                    "' needs 2 strides, 2 dilations and 4 pads (canonical 2-D form); run fold_constants first"));
  return Geometry{{strides[0], strides[1]}, {dilations[0] - 1, dilations[1] - 1}, {pads[0], pads[1]},
                  {pads[2], pads[3]}};
}

// oneDNN's reference and gemm convolutions are far slower than its jit/brgemm ones.
bool fast_kernel(const dnnl::primitive_desc_base& pd) {
  const std::string impl = pd.impl_info_str();
  return impl.find("ref") == std::string::npos && impl.find("gemm:") == std::string::npos;
}

// The producer's layout when oneDNN runs a fast kernel on it (no reorder between layers), else the layout
// oneDNN prefers (`make` with format any; a reorder is inserted).
template <class PrimitiveDesc, class Make>
PrimitiveDesc with_source_layout(GraphBuilder& builder, ir::ValueId x, const Dims& src_dims, Make make) {
  if (!builder.layout_open(x)) {
    try {
      PrimitiveDesc as_produced = make(builder.layout(x));
      if (fast_kernel(as_produced)) return as_produced;
    } catch (const dnnl::error&) {
      // no implementation for that layout: fall through to the preferred one
    }
  }
  return make(any_desc(src_dims));
}

// Winograd F(4x4, 3x3) does 3x3 stride-1 convolutions in about 2.5x fewer multiplications than the direct
// method (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", 2016), at a small cost in rounding
// (a few 1e-6 relative on UNet layers). oneDNN has it for avx512_core in fp32.
bool winograd_eligible(const ir::Node& node, const Shape& weight_shape, const Geometry& geo) {
  return node.attrs.i("group", 1) == 1 && weight_shape[2] == 3 && weight_shape[3] == 3 && geo.strides == Dims{1, 1} &&
         geo.dilations == Dims{0, 0};
}

// Median wall time of a few runs of a convolution on scratch memory of its own.
double time_convolution(const dnnl::convolution_forward::primitive_desc& pd, const dnnl::engine& engine) {
  dnnl::stream stream(engine);
  std::unordered_map<int, memory> args = {{DNNL_ARG_SRC, memory(pd.src_desc(), engine)},
                                          {DNNL_ARG_WEIGHTS, memory(pd.weights_desc(), engine)},
                                          {DNNL_ARG_DST, memory(pd.dst_desc(), engine)}};
  if (pd.bias_desc().get_size()) args[DNNL_ARG_BIAS] = memory(pd.bias_desc(), engine);
  if (pd.scratchpad_desc().get_size()) args[DNNL_ARG_SCRATCHPAD] = memory(pd.scratchpad_desc(), engine);
  for (auto& [arg, m] : args) std::memset(m.get_data_handle(), 0, m.get_desc().get_size());
  dnnl::convolution_forward conv(pd);
  conv.execute(stream, args);
  stream.wait();
  std::vector<double> ms;
  for (int i = 0; i < 3; ++i) {
    const auto start = std::chrono::steady_clock::now();
    conv.execute(stream, args);
    stream.wait();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(ms.begin(), ms.end());
  return ms[1];
}

}  // namespace

void build_conv(GraphBuilder& builder, const ir::Node& node) {
  const ir::Graph& graph = builder.graph();
  const ir::ValueId x = node.inputs[0], w = node.inputs[1], y = node.outputs[0];
  const bool has_bias = node.inputs.size() > 2 && node.inputs[2] != ir::kNoValue;
  const bool has_residual = node.attrs.i("fused_add", 0) != 0;
  const ir::ValueId residual = has_residual ? node.inputs.at(3) : ir::kNoValue;
  const Dims src_dims = to_dims(graph.value(x).shape), dst_dims = to_dims(graph.value(y).shape);
  const Shape& weight_shape = graph.constant(w).shape();
  const int64_t group = node.attrs.i("group", 1), out_channels = weight_shape[0];
  const Geometry geo = geometry_of(node);

  // Grouped weights are (group, out/group, in/group, kh, kw) for oneDNN; the ONNX bytes are the same.
  const Dims weight_dims = group == 1 ? to_dims(weight_shape)
                                      : Dims{group, out_channels / group, weight_shape[1], weight_shape[2],
                                             weight_shape[3]};
  const memory::desc bias_md = has_bias ? plain_desc({out_channels}) : memory::desc();

  dnnl::post_ops post_ops;
  if (has_residual) post_ops.append_sum(1.f);
  append_activation(post_ops, activation_stages(node.attrs.s("activation", ""), node.attrs.f("alpha", 0.f),
                                                node.attrs.f("beta", 0.f)));
  dnnl::primitive_attr attr = builder.attr();
  attr.set_post_ops(post_ops);

  const std::optional<memory::desc> required_dst = builder.required_output_layout(y);
  auto make_with = [&](dnnl::algorithm algorithm, const memory::desc& src_md) {
    dnnl::convolution_forward::desc desc(dnnl::prop_kind::forward_inference, algorithm, src_md,
                                         any_desc(weight_dims), bias_md,
                                         required_dst ? *required_dst : any_desc(dst_dims), geo.strides,
                                         geo.dilations, geo.padding_begin, geo.padding_end);
    return dnnl::convolution_forward::primitive_desc(desc, attr, builder.engine());
  };
  auto make = [&](const memory::desc& src_md) { return make_with(dnnl::algorithm::convolution_direct, src_md); };
  auto pd = with_source_layout<dnnl::convolution_forward::primitive_desc>(builder, x, src_dims, make);

  // Tactic: direct, or Winograd where it exists and is faster. Timed at build time; a plan's node carries the
  // choice so loading it reuses it.
  std::string tactic = "direct";
  if (winograd_eligible(node, weight_shape, geo)) {
    std::optional<dnnl::convolution_forward::primitive_desc> winograd;
    const std::string wanted = node.attrs.s("tactic", "");
    if (builder.time_tactics() || wanted == "winograd") {
      try {
        winograd = make_with(dnnl::algorithm::convolution_winograd, any_desc(src_dims));
      } catch (const dnnl::error&) {
        // no Winograd kernel on this CPU or for these shapes
      }
    }
    if (winograd && !builder.time_tactics()) {
      pd = *winograd;
      tactic = "winograd";
    } else if (winograd && time_convolution(*winograd, builder.engine()) < 0.9 * time_convolution(pd, builder.engine())) {
      pd = *winograd;  // at least 10% faster, so that timing noise does not decide
      tactic = "winograd";
    }
  }

  const Slot src = builder.read_as(x, pd.src_desc());
  ArgMemories constants;
  constants[DNNL_ARG_WEIGHTS] = builder.constant(w, plain_desc(weight_dims), pd.weights_desc());
  if (has_bias) constants[DNNL_ARG_BIAS] = builder.constant(node.inputs[2], bias_md, pd.bias_desc());

  Slot dst;
  std::string note;
  if (has_residual && !required_dst && builder.can_overwrite(residual, pd.dst_desc())) {
    dst = builder.write_over(y, residual, pd.dst_desc());
    note = "writes over the residual";
  } else {
    dst = builder.write(y, pd.dst_desc());
    if (has_residual) builder.copy_into(residual, dst, node.name);
    if (required_dst) note = "writes into its concat in place";
  }
  builder.add_primitive(dnnl::convolution_forward(pd), pd, {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}},
                        std::move(constants),
                        LayerInfo{node.name, ir::fused_op_name(node), onednn_kernel_name(pd), Precision::fp32,
                                  describe_layout(dst.md), note, tactic});
}

void build_conv_transpose(GraphBuilder& builder, const ir::Node& node) {
  const ir::Graph& graph = builder.graph();
  const ir::ValueId x = node.inputs[0], w = node.inputs[1], y = node.outputs[0];
  const bool has_bias = node.inputs.size() > 2 && node.inputs[2] != ir::kNoValue;
  const Dims src_dims = to_dims(graph.value(x).shape), dst_dims = to_dims(graph.value(y).shape);
  const Shape& weight_shape = graph.constant(w).shape();  // Cin, Cout/group, kh, kw
  const int64_t group = node.attrs.i("group", 1);
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
  const auto pd = with_source_layout<dnnl::deconvolution_forward::primitive_desc>(builder, x, src_dims, make);
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

}  // namespace crowdrt::cpu
