// Pad (ONNX Pad, any rank): pads are (begin..., end...) per dimension; constant fills with "value", reflect
// mirrors without repeating the edge, edge repeats it. A negative pad crops; as in the ONNX reference, the crop
// comes first and reflect/edge then work on what is left.
#include <algorithm>

#include "backends/cpu/reference/reference_kernels.h"
#include "backends/cpu/reference/reference_op_table.h"

namespace crowdrt::reference {
namespace {

// Index into [0, size) of padded coordinate i (may be outside), or -1 for the constant value.
int64_t source_index(const std::string& mode, int64_t i, int64_t size) {
  if (i >= 0 && i < size) return i;
  if (mode == "constant") return -1;
  if (mode == "edge") return i < 0 ? 0 : size - 1;
  // reflect: fold back and forth over a period of 2*(size-1), which is what reflecting again and again gives
  // (numpy.pad) when a pad exceeds the size; a single element reflects onto itself
  if (size == 1) return 0;
  const int64_t period = 2 * (size - 1);
  int64_t m = i % period;
  if (m < 0) m += period;
  return m < size ? m : period - m;
}

}  // namespace

void pad(const ir::Attributes& attrs, const Tensor& input, Tensor& output) {
  const Shape& x = input.shape();
  const size_t rank = x.size();
  const std::vector<int64_t> pads = attrs.ints("pads");
  if (pads.size() != 2 * rank) throw Error(cat("Pad has ", pads.size(), " pads for rank ", rank, "; needs ", 2 * rank));
  const std::string mode = attrs.s("mode", "constant");
  if (mode != "constant" && mode != "reflect" && mode != "edge")
    throw Error(cat("Pad mode '", mode, "' is unknown; expected constant, reflect or edge"));
  const float value = attrs.f("value", 0.f);

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
    if (kept[d] == 0 && out[d] > 0 && mode != "constant")
      throw Error(cat("Pad mode ", mode, " needs at least one element along dimension ", d, " of ", shape_str(x)));
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
      const int64_t s = source_index(mode, index[d] - begin[d], kept[d]);
      inside = s >= 0;
      at += (first[d] + s) * in_strides[d];
    }
    yd[i] = inside ? xd[at] : value;
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
