// Pass: a Resize written into its Concat. A Resize read only by a channel Concat writes straight into its slice
// of the Concat's output (our kernels take any output strides), so the upsampled tensor is never stored apart
// and never copied; where the Concat's own kernel can upsample (launch_concat_pixels, cuda_op_concat.cpp), the
// Resize's step runs nothing. The result is alias_: per value, the Concat output and channel it is written into.
#include "backends/cuda/cuda_compiled_graph.h"
#include "backends/cuda/cuda_op_table.h"

namespace crowdrt::cuda {

void CudaCompiledGraph::plan_resize_into_concat() {
  const std::vector<int> producer = graph_.producers();
  const std::vector<int> uses = graph_.use_counts();
  alias_.assign(graph_.value_count(), {ir::kNoValue, 0});
  for (const ir::Node& n : graph_.nodes()) {
    if (n.op != ir::Op::Concat || graph_.value(n.outputs[0]).shape.size() != 4 || n.attrs.i("axis", 0) != 1) continue;
    int64_t at = 0;
    for (ir::ValueId v : n.inputs) {
      const int p = producer[v];
      if (p >= 0 && cuda_op_traits(graph_.nodes()[p].op).writes_into_concat_slice && uses[v] == 1 &&
          storage_channels_[v] == 0)
        alias_[v] = {n.outputs[0], at};
      at += graph_.value(v).shape[1];
    }
  }
}

}  // namespace crowdrt::cuda
