// BatchNormalization with global statistics (a graph the builder did not fold: statistics as constants).
#include "op_case.h"

namespace crowdrt::test::ops {

std::vector<OpCase> batch_normalization_cases() {
  return on_shapes(ir::Op::BatchNormalization, "epsilon 1e-3", [](GraphMaker& g, ir::ValueId x, const Shape& s) {
    ir::Attributes eps;
    eps.set("epsilon", 1e-3f);
    const ir::ValueId var =
        g.graph.add_constant(cat("var", g.graph.value_count()), random_tensor({s[1]}, 5, 0.5f, 2.f));
    return g.node(ir::Op::BatchNormalization, {x, g.weight({s[1]}), g.weight({s[1]}), g.weight({s[1]}), var}, eps);
  });
}

}  // namespace crowdrt::test::ops
