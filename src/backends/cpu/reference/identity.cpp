// Identity: the output is a copy of the input (remove_identity drops most Identity nodes; one producing a graph
// output may stay).
#include <algorithm>

#include "backends/cpu/reference/reference_kernels.h"
#include "backends/cpu/reference/reference_op_table.h"

namespace crowdrt::reference {

// The op table's entry (reference_op_table.cpp).
OpEntry identity_entry() {
  return {ir::Op::Identity, [](const ir::Node& node, Inputs inputs, Tensor& output) {
            const Tensor& x = required_input(inputs, 0, node.op);
            require_output_shape(output, x.shape());
            std::copy(x.span<float>().begin(), x.span<float>().end(), output.data<float>());
          }};
}

}  // namespace crowdrt::reference
