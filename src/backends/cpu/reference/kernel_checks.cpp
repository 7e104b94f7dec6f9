// Shape and attribute checks shared by the reference kernels.
#include "backends/cpu/reference/reference_kernels.h"

namespace crowdrt::reference {

void require_rank(const Tensor& tensor, size_t rank, const char* what) {
  if (tensor.shape().size() != rank)
    throw Error(cat(what, " is ", shape_str(tensor.shape()), " but must have ", rank,
                    " dimensions; the reference backend runs this op on NCHW tensors only"));
}

void require_output_shape(const Tensor& output, const Shape& expected) {
  if (output.shape() != expected)
    throw Error(cat("output is allocated as ", shape_str(output.shape()), " but the op computes ",
                    shape_str(expected), "; run shape inference (fold_constants) on the graph first"));
}

std::vector<int64_t> per_axis(const ir::Attributes& attrs, const std::string& name, size_t count, int64_t fallback) {
  std::vector<int64_t> values = attrs.ints(name, std::vector<int64_t>(count, fallback));
  if (values.size() != count)
    throw Error(cat("attribute ", name, " has ", values.size(), " values where ", count, " are needed"));
  return values;
}

}  // namespace crowdrt::reference
