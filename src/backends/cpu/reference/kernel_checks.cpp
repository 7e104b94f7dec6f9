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
}  // namespace crowdrt::reference
