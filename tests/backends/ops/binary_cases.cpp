// Add, Sub, Mul, Div with numpy broadcasting of either operand: two computed operands, a per-channel constant on
// either side, a lower-rank constant, a scalar, a computed spatial map; and a per-channel constant then a pooled
// per-channel value (the GPU tests' pair).
#include "op_case.h"

namespace crowdrt::test::ops {

std::vector<OpCase> binary_cases() {
  std::vector<OpCase> cases;
  for (ir::Op op : {ir::Op::Add, ir::Op::Sub, ir::Op::Mul, ir::Op::Div}) {
    Build chain = [op](GraphMaker& g, ir::ValueId x, const Shape& s) {
      auto positive = [&](Shape shape) {
        return g.graph.add_constant(cat("k", g.graph.value_count()), random_tensor(std::move(shape), 9, 0.5f, 1.5f));
      };
      ir::ValueId y = g.node(op, {x, g.node(ir::Op::Sigmoid, {x})});
      y = g.node(op, {y, positive({1, s[1], 1, 1})});
      y = g.node(op, {positive({1, s[1], 1, 1}), y});
      y = g.node(op, {y, positive({s[1], 1, 1})});
      y = g.node(op, {y, positive({1})});
      ir::Attributes mean_over_channels;
      mean_over_channels.set("axes", ints({1}));
      mean_over_channels.set("keepdims", int64_t{1});
      const ir::ValueId map = g.node(ir::Op::Sigmoid, {g.node(ir::Op::ReduceMean, {x}, mean_over_channels)});
      y = g.node(op, {y, g.node(ir::Op::Add, {map, positive({1})})});
      return g.node(op, {g.node(ir::Op::Add, {map, positive({1})}), y});
    };
    for (OpCase& c : on_shapes(op, "computed, per-channel either side, lower rank, scalar, spatial map", chain))
      cases.push_back(std::move(c));
    Build pooled = [op](GraphMaker& g, ir::ValueId x, const Shape& s) {
      const ir::ValueId per_channel = g.graph.add_constant("c", random_tensor({s[1], 1, 1}, 9, 0.5f, 1.5f));
      const ir::ValueId y = g.node(op, {x, per_channel});
      const ir::ValueId mean = g.node(ir::Op::GlobalAveragePool, {x});
      return g.node(op, {y, g.node(ir::Op::Add, {mean, g.graph.add_constant("two", random_tensor({1}, 3, 2.f, 3.f))})});
    };
    for (OpCase& c : on_shapes(op, "per-channel constant, pooled per channel", pooled)) cases.push_back(std::move(c));
  }
  return cases;
}

}  // namespace crowdrt::test::ops
