// ReduceMean over the listed axes (canonical: non-negative, sorted), keepdims or not. Dropping or keeping the
// reduced dimensions (of extent 1) does not change the order of the output elements, so one flat index
// serves both.
#include "backends/cpu/reference/reference_kernels.h"
#include "backends/cpu/reference/reference_op_table.h"

namespace crowdrt::reference {

void reduce_mean(const ir::Attributes& attrs, const Tensor& input, Tensor& output) {
  const Shape& x = input.shape();
  const int64_t rank = static_cast<int64_t>(x.size());
  std::vector<int64_t> axes = attrs.ints("axes");
  if (axes.empty())
    for (int64_t d = 0; d < rank; ++d) axes.push_back(d);
  std::vector<bool> reduced(rank, false);
  for (int64_t axis : axes) {
    if (axis < 0 || axis >= rank)
      throw Error(cat("ReduceMean axis ", axis, " is out of range for ", shape_str(x),
                      " (canonical axes are non-negative)"));
    reduced[axis] = true;
  }
  const bool keepdims = attrs.i("keepdims", 1) != 0;
  Shape kept_shape = x, out_shape;
  for (int64_t d = 0; d < rank; ++d) {
    if (reduced[d]) kept_shape[d] = 1;
    if (!reduced[d] || keepdims) out_shape.push_back(kept_shape[d]);
  }
  require_output_shape(output, out_shape);

  std::vector<double> sums(output.numel(), 0.0);
  const float* xd = input.data<float>();
  std::vector<int64_t> index(rank, 0);
  for (int64_t i = 0; i < input.numel(); ++i) {
    int64_t at = 0;
    for (int64_t d = 0; d < rank; ++d) at = at * kept_shape[d] + (reduced[d] ? 0 : index[d]);
    sums[at] += xd[i];
    for (int64_t d = rank; d-- > 0;) {
      if (++index[d] < x[d]) break;
      index[d] = 0;
    }
  }
  const double count =
      output.numel() == 0 ? 1.0 : static_cast<double>(input.numel()) / static_cast<double>(output.numel());
  float* yd = output.data<float>();
  for (int64_t i = 0; i < output.numel(); ++i) yd[i] = static_cast<float>(sums[i] / count);
}

// The op table's entry (reference_op_table.cpp).
OpEntry reduce_mean_entry() {
  return {ir::Op::ReduceMean, [](const ir::Node& node, Inputs inputs, Tensor& output) {
            reduce_mean(node.attrs, required_input(inputs, 0, node.op), output);
          }};
}

}  // namespace crowdrt::reference
