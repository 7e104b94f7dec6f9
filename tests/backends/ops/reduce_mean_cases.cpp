// ReduceMean over the plane, the channels, everything and one axis, keeping the reduced axes or dropping them.
#include "op_case.h"

namespace crowdrt::test::ops {

std::vector<OpCase> reduce_mean_cases() {
  std::vector<OpCase> cases;
  for (const auto& [axes, keepdims] : std::vector<std::pair<std::vector<int64_t>, int64_t>>{
           {{2, 3}, 1}, {{1}, 0}, {{1, 2, 3}, 1}, {{3}, 0}}) {
    const std::vector<int64_t> reduced = axes;
    const int64_t keep = keepdims;
    for (OpCase& c : on_shapes(ir::Op::ReduceMean, cat("axes ", shape_str(axes), " keepdims ", keepdims),
                               [reduced, keep](GraphMaker& g, ir::ValueId x, const Shape&) {
                                 ir::Attributes a;
                                 a.set("axes", reduced);
                                 a.set("keepdims", keep);
                                 return g.node(ir::Op::ReduceMean, {x}, a);
                               }))
      cases.push_back(std::move(c));
  }
  return cases;
}

}  // namespace crowdrt::test::ops
