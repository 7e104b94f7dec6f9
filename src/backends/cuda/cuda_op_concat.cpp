// Concat: channels of NHWC pixels in one kernel (launch_concat_pixels), which also upsamples the inputs whose
// Resize cuda_pass_resize_into_concat.cpp wrote into this Concat's slice (their Resize steps then run nothing);
// otherwise one copy per input into its slice.
#include "backends/cuda/cuda_op_table.h"

namespace crowdrt::cuda {

bool concat_supported(const ir::Graph& g, const ir::Node& n) {
  return std::all_of(n.inputs.begin(), n.inputs.end(), [&](ir::ValueId v) { return rank_at_most_4(g, v); });
}

void build_concat(CudaCompiledGraph& graph, const ir::Node& node) {
  const ir::Graph& g = graph.graph();
  const std::string op = ir::fused_op_name(node);
  const View out = graph.view(node.outputs[0]);
  const int rank = static_cast<int>(g.value(node.outputs[0]).shape.size());
  int64_t axis = node.attrs.i("axis", 0);
  if (axis < 0) axis += rank;
  const int axis4 = static_cast<int>(axis) + 4 - rank;
  if (axis4 == 1 && node.inputs.size() <= static_cast<size_t>(kMaxConcatInputs)) {
    std::vector<ConcatInput> inputs;
    std::vector<size_t> resizes;
    const std::vector<int> producer = g.producers();
    for (ir::ValueId v : node.inputs) {
      ConcatInput in;
      if (graph.alias(v).first != ir::kNoValue) {
        const ResizeMaps& m = graph.resize_maps(v);
        if (m.linear) break;
        in.x = graph.view(g.nodes()[producer[v]].inputs[0]);
        in.rows = m.row_lo;
        in.cols = m.col_lo;
        resizes.push_back(static_cast<size_t>(producer[v]));
      } else {
        in.x = graph.input_view(node, inputs.size());
      }
      inputs.push_back(in);
    }
    if (inputs.size() == node.inputs.size() &&
        concat_pixels_possible(inputs.data(), static_cast<int>(inputs.size()), out)) {
      for (size_t r : resizes)
        graph.run_inside(graph.node_step(r), cat("(in ", node.name, "'s concat)"),
                         "upsampled by " + node.name + "'s kernel");
      graph.add(&node, op, "crowdrt:concat_pixels", [inputs, out](cudaStream_t s) {
        launch_concat_pixels(inputs.data(), static_cast<int>(inputs.size()), out, s);
      }, resizes.empty() ? "" : "upsamples its Resize inputs itself");
      return;
    }
  }
  std::vector<std::pair<View, View>> copies;
  int64_t at = 0;
  for (size_t k = 0; k < node.inputs.size(); ++k) {
    const View x = graph.input_view(node, k);
    if (graph.alias(node.inputs[k]).first != ir::kNoValue) {  // written in place by its producer
      at += x.dims[axis4];
      continue;
    }
    View slice = out;
    slice.dims[axis4] = x.dims[axis4];
    slice.data = static_cast<char*>(out.data) + at * out.strides[axis4] * storage_bytes(out.type);
    at += x.dims[axis4];
    copies.emplace_back(x, slice);
  }
  graph.add(&node, op, "crowdrt:concat_copy", [copies](cudaStream_t s) {
    for (const auto& [x, slice] : copies)
      if (!launch_copy_pixels(x, slice, s)) launch_activation(x, slice, {}, s);
  });
}

}  // namespace crowdrt::cuda
