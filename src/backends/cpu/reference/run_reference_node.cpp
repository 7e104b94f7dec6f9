// Runs one compute node on its reference kernel, found in the op table; errors from a kernel come back naming
// the node.
#include "backends/cpu/reference/reference_backend.h"
#include "backends/cpu/reference/reference_op_table.h"

namespace crowdrt {

void run_reference_node(const ir::Graph& graph, const ir::Node& node, std::span<const Tensor* const> inputs,
                        std::span<Tensor* const> outputs) {
  try {
    if (outputs.size() != 1 || !outputs[0])
      throw Error(cat("reference kernels write one output, the node has ", outputs.size()));
    const reference::OpEntry* entry = reference::find_op(node.op);
    if (!entry)
      throw Error(cat("the reference backend has no kernel for ", ir::op_name(node.op),
                      "; shape ops must be folded by fold_constants before a backend sees the graph"));
    entry->run(node, inputs, *outputs[0]);
  } catch (const Error& e) {
    throw Error(cat("reference backend, ", ir::describe(graph, node), ": ", e.what()));
  }
}

}  // namespace crowdrt
