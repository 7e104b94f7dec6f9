// Resize, nearest or linear: per-axis maps (input indices and weights) uploaded once; the nearest kernel copies
// whole pixels where it can. Where cuda_pass_resize_into_concat.cpp aliased its output, it writes into its
// Concat's slice (and the Concat's kernel may run it instead: cuda_op_concat.cpp reads the maps kept here).
#include "backends/cuda/cuda_op_table.h"

namespace crowdrt::cuda {

bool resize_supported(const ir::Graph& g, const ir::Node& n) {
  if (!all_rank_4(g, n)) return false;
  const Shape& x = g.value(n.inputs[0]).shape;
  const Shape& y = g.value(n.outputs[0]).shape;
  return x[0] == y[0] && x[1] == y[1] && n.attrs.floats("scales").size() == 4 &&
         ir::resize_mode_from_name(n.attrs.s("mode", "nearest")).has_value();
}

void build_resize(CudaCompiledGraph& graph, const ir::Node& node) {
  const ir::Attributes& a = node.attrs;
  const ir::ResizeParams params = ir::resize_params(a);
  const std::vector<float>& scales = params.scales;
  const bool linear = params.mode == ir::ResizeMode::linear;
  const View x = graph.input_view(node, 0);
  const View out = graph.view(node.outputs[0]);
  const auto rows = ir::resize_axis_map(params, scales[2], x.dims[2], out.dims[2]);
  const auto cols = ir::resize_axis_map(params, scales[3], x.dims[3], out.dims[3]);
  ResizeMaps m;
  m.linear = linear;
  m.row_lo = graph.upload_ints(rows.lo, "resize map");
  m.row_hi = graph.upload_ints(rows.hi, "resize map");
  m.row_weight = graph.upload_floats(rows.weight_hi, "resize weights");
  m.col_lo = graph.upload_ints(cols.lo, "resize map");
  m.col_hi = graph.upload_ints(cols.hi, "resize map");
  m.col_weight = graph.upload_floats(cols.weight_hi, "resize weights");
  graph.keep_resize_maps(node.outputs[0], m);
  graph.add(&node, ir::fused_op_name(node), linear ? "crowdrt:resize_linear" : "crowdrt:resize_nearest",
            [x, out, m](cudaStream_t s) {
              if (!launch_resize_nearest_pixels(x, out, m, s)) launch_resize(x, out, m, s);
            },
            graph.alias(node.outputs[0]).first != ir::kNoValue ? "writes into its Concat's slice" : "");
}

}  // namespace crowdrt::cuda
