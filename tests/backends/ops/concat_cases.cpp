// Concat along every axis of three computed inputs, and of one value read twice beside a computed one.
#include "op_case.h"

namespace crowdrt::test::ops {

std::vector<OpCase> concat_cases() {
  std::vector<OpCase> cases;
  for (int64_t axis : {1, 2, 3}) {
    ir::Attributes a;
    a.set("axis", axis);
    for (OpCase& c : on_shapes(ir::Op::Concat, cat("axis ", axis, " [x, sigmoid(x), relu(x)]"),
                               [a](GraphMaker& g, ir::ValueId x, const Shape&) {
                                 return g.node(ir::Op::Concat,
                                               {x, g.node(ir::Op::Sigmoid, {x}), g.node(ir::Op::Relu, {x})}, a);
                               }))
      cases.push_back(std::move(c));
    for (OpCase& c : on_shapes(ir::Op::Concat, cat("axis ", axis, " [x, relu(x), x]"),
                               [a](GraphMaker& g, ir::ValueId x, const Shape&) {
                                 return g.node(ir::Op::Concat, {x, g.node(ir::Op::Relu, {x}), x}, a);
                               }))
      cases.push_back(std::move(c));
  }
  return cases;
}

}  // namespace crowdrt::test::ops
