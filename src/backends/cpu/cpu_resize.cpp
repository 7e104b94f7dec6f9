// Resize (nearest and linear, every ONNX coordinate_transformation_mode) as our own kernel on the producer's
// layout (nhwc or channel-blocked: whole channel blocks are copied or blended per pixel). oneDNN's resampling
// maps coordinates half_pixel-style only, so instead each output row and column gets its source rows/columns and
// weights once at compile time (ir::resize_axis_map, which the reference kernel uses too), and the run copies or
// blends whole 16-channel blocks.
#include <type_traits>

#include "backends/cpu/cpu_graph_builder.h"
#include "ir/op_params.h"

namespace crowdrt::cpu {
namespace {

// kBlock > 0 fixes the block size at compile time so the lane loop vectorises; 0 reads it from the view.
// T is float, or uint16_t for bf16 values, which only nearest Resize keeps (copied bit for bit).
template <class T, int64_t kBlock>
void resize_blocks(const ChannelBlockedView& s, const T* src, const ChannelBlockedView& d, T* dst,
                   const ir::ResizeAxisMap& rows, const ir::ResizeAxisMap& cols, bool linear) {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, uint16_t>);
  const int64_t block = kBlock > 0 ? kBlock : d.block;
#pragma omp parallel for collapse(3) schedule(static)
  for (int64_t n = 0; n < d.batch; ++n) {
    for (int64_t b = 0; b < d.blocks; ++b) {
      for (int64_t oy = 0; oy < d.height; ++oy) {
        const T* plane = src + s.offset + n * s.stride_n + b * s.stride_block;
        const T* row_lo = plane + rows.lo[oy] * s.stride_h;
        const T* row_hi = plane + rows.hi[oy] * s.stride_h;
        const float wy = rows.weight_hi[oy];
        T* out_row = dst + d.offset + n * d.stride_n + b * d.stride_block + oy * d.stride_h;
        for (int64_t ox = 0; ox < d.width; ++ox) {
          T* out = out_row + ox * d.stride_w;
          const T* a = row_lo + cols.lo[ox] * s.stride_w;
          if (!std::is_same_v<T, float> || !linear) {  // copied, not weighted: inf and NaN pass unchanged
            for (int64_t k = 0; k < block; ++k) out[k] = a[k];
            continue;
          }
          const T* c = row_lo + cols.hi[ox] * s.stride_w;
          const T* e = row_hi + cols.lo[ox] * s.stride_w;
          const T* f = row_hi + cols.hi[ox] * s.stride_w;
          const float wx = cols.weight_hi[ox];
          for (int64_t k = 0; k < block; ++k) {
            const float top = a[k] * (1.f - wx) + c[k] * wx;
            const float bottom = e[k] * (1.f - wx) + f[k] * wx;
            out[k] = top * (1.f - wy) + bottom * wy;
          }
        }
      }
    }
  }
}

}  // namespace

void build_resize(GraphBuilder& builder, const ir::Node& node) {
  const ir::Graph& graph = builder.graph();
  const ir::ValueId x = node.inputs[0], y = node.outputs[0];
  const Dims in_dims = to_dims(graph.value(x).shape), out_dims = to_dims(graph.value(y).shape);
  // nChw16c unless the producer wrote plain nchw (then plain stays plain); other layouts are reordered.
  const std::optional<dnnl::memory::desc> required = builder.required_output_layout(y);
  // The producer's format (nchw, nhwc, nChw16c, nChw8c) carries over; anything else is reordered to nChw16c.
  // bf16 in and out when nearest Resize passes bf16 through (GraphBuilder::passes_bf16_through).
  const dnnl::memory::data_type type = builder.stored_type(y);
  const bool bf16 = type == dnnl::memory::data_type::bf16;
  dnnl::memory::desc src_md = channel_blocked_desc(in_dims), dst_md = channel_blocked_desc(out_dims);
  if (required) {
    dst_md = *required;
  } else if (const auto kept = same_format(builder.layout(x), out_dims)) {
    src_md = builder.layout(x);
    dst_md = *kept;
  }
  src_md = with_data_type(src_md, type);
  dst_md = with_data_type(dst_md, type);
  const Slot src = builder.read_as(x, src_md);
  const Slot dst = builder.write(y, dst_md);

  const ir::ResizeParams params = ir::resize_params(node.attrs);
  const bool linear = params.mode == ir::ResizeMode::linear;
  const ir::ResizeAxisMap rows = ir::resize_axis_map(params, params.scales.at(2), in_dims[2], out_dims[2]);
  const ir::ResizeAxisMap cols = ir::resize_axis_map(params, params.scales.at(3), in_dims[3], out_dims[3]);
  const ChannelBlockedView src_view = *channel_blocked_view(src.md), dst_view = *channel_blocked_view(dst.md);
  auto run = [=]<class T>(const ArgMemories& args, T) {
    const auto* s = static_cast<const T*>(args.at(DNNL_ARG_SRC).get_data_handle());
    auto* d = static_cast<T*>(args.at(DNNL_ARG_DST).get_data_handle());
    if (dst_view.block == kChannelBlock) resize_blocks<T, kChannelBlock>(src_view, s, dst_view, d, rows, cols, linear);
    else resize_blocks<T, 0>(src_view, s, dst_view, d, rows, cols, linear);
  };
  Kernel kernel = bf16 ? Kernel([=](const ArgMemories& args) { run(args, uint16_t{}); })
                       : Kernel([=](const ArgMemories& args) { run(args, float{}); });
  builder.add_kernel(std::move(kernel), {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}},
                     LayerInfo{node.name, "Resize", linear ? "crowdrt:resize_linear" : "crowdrt:resize_nearest",
                               bf16 ? Precision::bf16 : Precision::fp32, describe_layout(dst.md),
                               cat(node.attrs.s("mode", "nearest"), " ",
                                   node.attrs.s("coordinate_transformation_mode", "half_pixel"),
                                   required ? ", writes into its concat in place" : "")});
}

// The op table's entry (cpu_op_table.cpp): 4-D, over H and W only, in the modes the maps above know. Nearest
// copies values, so bf16 passes through it.
namespace {

bool resize_supported(const ir::Graph& graph, const ir::Node& node) {
  const Shape& x = value_shape(graph, node.inputs[0]);
  const Shape& y = graph.value(node.outputs[0]).shape;
  return x.size() == 4 && y.size() == 4 && x[0] == y[0] && x[1] == y[1] && x[2] > 0 && x[3] > 0 &&
         node.attrs.floats("scales").size() == 4 && ir::resize_mode_from_name(node.attrs.s("mode", "nearest")) &&
         ir::coordinate_transform_from_name(node.attrs.s("coordinate_transformation_mode", "half_pixel")) &&
         ir::nearest_mode_from_name(node.attrs.s("nearest_mode", "round_prefer_floor"));
}

}  // namespace

OpEntry resize_entry() {
  return {.op = ir::Op::Resize,
          .supports = resize_supported,
          .build = build_resize,
          .writes_concat_slice = true,
          .passes_bf16_through = [](const ir::Node& node) { return node.attrs.s("mode", "nearest") == "nearest"; }};
}

}  // namespace crowdrt::cpu
