// Concat along any axis: the output is, for each index over the dimensions before the axis, every input's
// slab (its extent along the axis times the dimensions after it) one after another.
#include <algorithm>

#include "backends/cpu/reference/reference_kernels.h"
#include "backends/cpu/reference/reference_op_table.h"

namespace crowdrt::reference {

void concat(const ir::Attributes& attrs, Inputs inputs, Tensor& output) {
  if (inputs.empty() || !inputs[0]) throw Error("Concat needs at least one input");
  const Shape& first = inputs[0]->shape();
  const int64_t axis = attrs.i("axis", 0);
  if (axis < 0 || axis >= static_cast<int64_t>(first.size()))
    throw Error(cat("Concat axis ", axis, " is out of range for ", shape_str(first),
                    " (canonical axes are non-negative)"));
  Shape out = first;
  out[axis] = 0;
  for (const Tensor* t : inputs) {
    if (!t) throw Error("Concat has a missing input");
    Shape s = t->shape();
    if (s.size() != first.size())
      throw Error(cat("Concat inputs ", shape_str(first), " and ", shape_str(s), " differ in rank"));
    out[axis] += s[axis];
    s[axis] = first[axis];
    if (s != first)
      throw Error(cat("Concat inputs ", shape_str(first), " and ", shape_str(t->shape()), " differ outside axis ",
                      axis));
  }
  require_output_shape(output, out);

  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= out[d];
  for (size_t d = axis + 1; d < out.size(); ++d) inner *= out[d];
  float* yd = output.data<float>();
  for (int64_t o = 0; o < outer; ++o) {
    for (const Tensor* t : inputs) {
      const int64_t slab = t->shape()[axis] * inner;
      const float* src = t->data<float>() + o * slab;
      yd = std::copy(src, src + slab, yd);
    }
  }
}

// The op table's entry (reference_op_table.cpp).
OpEntry concat_entry() {
  return {ir::Op::Concat,
          [](const ir::Node& node, Inputs inputs, Tensor& output) { concat(node.attrs, inputs, output); }};
}

}  // namespace crowdrt::reference
