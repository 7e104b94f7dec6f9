// Pad (ONNX Pad, any rank): pads are (begin..., end...) per dimension; constant fills with "value", reflect
// mirrors without repeating the edge, edge repeats it (ir::pad_source_index). A negative pad crops; as in the
// ONNX reference, the crop comes first and reflect/edge then work on what is left.
#include <algorithm>

#include "backends/cpu/reference/reference_kernels.h"
#include "backends/cpu/reference/reference_op_table.h"

namespace crowdrt::reference {

void pad(const ir::Attributes& attrs, const Tensor& input, Tensor& output) {
  const Shape& x = input.shape();
  const size_t rank = x.size();
  const ir::PadParams params = ir::pad_params(attrs);
  const std::vector<int64_t>& pads = params.pads;
  if (pads.size() != 2 * rank) throw Error(cat("Pad has ", pads.size(), " pads for rank ", rank, "; needs ", 2 * rank));

  // After cropping: the kept input range [first, first + kept) per dimension and the remaining padding.
  std::vector<int64_t> first(rank), kept(rank), begin(rank);
  Shape out(rank);
  for (size_t d = 0; d < rank; ++d) {
    const int64_t crop_begin = std::max<int64_t>(-pads[d], 0), crop_end = std::max<int64_t>(-pads[rank + d], 0);
    first[d] = crop_begin;
    kept[d] = x[d] - crop_begin - crop_end;
    begin[d] = std::max<int64_t>(pads[d], 0);
    out[d] = kept[d] + begin[d] + std::max<int64_t>(pads[rank + d], 0);
    if (kept[d] < 0) throw Error(cat("Pad crops more than dimension ", d, " of ", shape_str(x), " holds"));
    if (kept[d] == 0 && out[d] > 0 && params.mode != ir::PadMode::constant)
      throw Error(cat("Pad mode ", attrs.s("mode"), " needs at least one element along dimension ", d, " of ",
                      shape_str(x)));
  }
  require_output_shape(output, out);

  std::vector<int64_t> in_strides(rank, 1);
  for (size_t d = rank; d-- > 1;) in_strides[d - 1] = in_strides[d] * x[d];
  const float* xd = input.data<float>();
  float* yd = output.data<float>();
  std::vector<int64_t> index(rank, 0);
  for (int64_t i = 0; i < output.numel(); ++i) {
    int64_t at = 0;
    bool inside = true;
    for (size_t d = 0; d < rank && inside; ++d) {
      const int64_t s = ir::pad_source_index(params.mode, index[d] - begin[d], kept[d]);
      inside = s >= 0;
      at += (first[d] + s) * in_strides[d];
    }
    yd[i] = inside ? xd[at] : params.value;
    for (size_t d = rank; d-- > 0;) {
      if (++index[d] < out[d]) break;
      index[d] = 0;
    }
  }
}

// The op table's entry (reference_op_table.cpp).
OpEntry pad_entry() {
  return {ir::Op::Pad, [](const ir::Node& node, Inputs inputs, Tensor& output) {
            pad(node.attrs, required_input(inputs, 0, node.op), output);
          }};
}

}  // namespace crowdrt::reference
