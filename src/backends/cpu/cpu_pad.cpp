// Pad over H and W (constant, reflect, edge; negative pads crop first, as in the ONNX reference) as our own
// kernel on the producer's channel-blocked layout: each output pixel copies one source block or fills it.
// Padded channels of the last block stay zero, as oneDNN expects of blocked tensors.
#include "backends/cpu/cpu_graph_builder.h"
#include "ir/op_params.h"

namespace crowdrt::cpu {
namespace {

// Source coordinate (in [first, first + kept)) of each output coordinate along one axis, or -1 for `value`.
std::vector<int64_t> pad_map_axis(ir::PadMode mode, int64_t in_size, int64_t pad_begin, int64_t pad_end,
                                  int64_t out_size) {
  const int64_t first = std::max<int64_t>(-pad_begin, 0);
  const int64_t kept = in_size - first - std::max<int64_t>(-pad_end, 0);
  const int64_t begin = std::max<int64_t>(pad_begin, 0);
  std::vector<int64_t> map(out_size);
  for (int64_t o = 0; o < out_size; ++o) {
    const int64_t i = ir::pad_source_index(mode, o - begin, kept);
    map[o] = i < 0 ? -1 : first + i;
  }
  return map;
}

}  // namespace

void build_pad(GraphBuilder& builder, const ir::Node& node) {
  const ir::Graph& graph = builder.graph();
  const ir::ValueId x = node.inputs[0], y = node.outputs[0];
  const Dims in_dims = to_dims(graph.value(x).shape), out_dims = to_dims(graph.value(y).shape);
  const std::optional<dnnl::memory::desc> required = builder.required_output_layout(y);
  // The producer's format (nchw, nhwc, nChw16c, nChw8c) carries over; anything else is reordered to nChw16c.
  dnnl::memory::desc src_md = channel_blocked_desc(in_dims), dst_md = channel_blocked_desc(out_dims);
  if (required) {
    dst_md = *required;
  } else if (const auto kept = same_format(builder.layout(x), out_dims)) {
    src_md = builder.layout(x);
    dst_md = *kept;
  }
  const Slot src = builder.read_as(x, src_md);
  const Slot dst = builder.write(y, dst_md);

  const ir::PadParams params = ir::pad_params(node.attrs);
  const std::vector<int64_t>& pads = params.pads;
  const float value = params.value;
  const std::vector<int64_t> rows = pad_map_axis(params.mode, in_dims[2], pads[2], pads[6], out_dims[2]);
  const std::vector<int64_t> cols = pad_map_axis(params.mode, in_dims[3], pads[3], pads[7], out_dims[3]);
  const ChannelBlockedView s = *channel_blocked_view(src.md), d = *channel_blocked_view(dst.md);
  Kernel kernel = [=](const ArgMemories& args) {
    const auto* source = static_cast<const float*>(args.at(DNNL_ARG_SRC).get_data_handle());
    auto* target = static_cast<float*>(args.at(DNNL_ARG_DST).get_data_handle());
#pragma omp parallel for collapse(3) schedule(static)
    for (int64_t n = 0; n < d.batch; ++n) {
      for (int64_t b = 0; b < d.blocks; ++b) {
        for (int64_t oy = 0; oy < d.height; ++oy) {
          const int64_t real_lanes = std::min(d.block, d.channels - b * d.block);
          float* out_row = target + d.offset + n * d.stride_n + b * d.stride_block + oy * d.stride_h;
          const float* in_plane = source + s.offset + n * s.stride_n + b * s.stride_block;
          for (int64_t ox = 0; ox < d.width; ++ox) {
            float* out = out_row + ox * d.stride_w;
            if (rows[oy] < 0 || cols[ox] < 0) {
              for (int64_t k = 0; k < d.block; ++k) out[k] = k < real_lanes ? value : 0.f;
              continue;
            }
            const float* in = in_plane + rows[oy] * s.stride_h + cols[ox] * s.stride_w;
            for (int64_t k = 0; k < d.block; ++k) out[k] = in[k];
          }
        }
      }
    }
  };
  builder.add_kernel(std::move(kernel), {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}},
                     LayerInfo{node.name, "Pad", "crowdrt:pad", Precision::fp32, describe_layout(dst.md),
                               node.attrs.s("mode", "constant") +
                                   (required ? ", writes into its concat in place" : "")});
}

// The op table's entry (cpu_op_table.cpp): 4-D, H and W only, and something left to mirror after cropping.
namespace {

bool pad_supported(const ir::Graph& graph, const ir::Node& node) {
  const auto pads = node.attrs.ints("pads");
  const std::optional<ir::PadMode> mode = ir::pad_mode_from_name(node.attrs.s("mode", "constant"));
  const Shape& x = value_shape(graph, node.inputs[0]);
  if (x.size() != 4 || pads.size() != 8 || pads[0] != 0 || pads[1] != 0 || pads[4] != 0 || pads[5] != 0) return false;
  if (!mode) return false;
  // reflect and edge need something left to mirror after cropping
  for (int axis = 2; axis < 4; ++axis)
    if (x[axis] + std::min<int64_t>(pads[axis], 0) + std::min<int64_t>(pads[4 + axis], 0) <= 0 &&
        *mode != ir::PadMode::constant)
      return false;
  return true;
}

}  // namespace

OpEntry pad_entry() {
  return {.op = ir::Op::Pad, .supports = pad_supported, .build = build_pad, .writes_concat_slice = true};
}

}  // namespace crowdrt::cpu
