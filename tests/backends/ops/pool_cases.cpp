// MaxPool and AveragePool with strides, pads (asymmetric too), dilations and ceil_mode, AveragePool counting the
// padding or not; GlobalAveragePool.
#include "op_case.h"

namespace crowdrt::test::ops {
namespace {

struct PoolCase {
  ir::Op op;
  std::vector<int64_t> kernel, strides, pads, dilations;
  int64_t ceil_mode, count_include_pad;
};

}  // namespace

std::vector<OpCase> pool_cases() {
  const std::vector<PoolCase> list = {
      {ir::Op::MaxPool, {3, 3}, {2, 2}, {1, 1, 1, 1}, {1, 1}, 0, 0},  // resnet stem
      {ir::Op::MaxPool, {3, 3}, {2, 2}, {1, 1, 1, 1}, {1, 1}, 1, 0},
      {ir::Op::MaxPool, {2, 2}, {2, 2}, {0, 0, 0, 0}, {1, 1}, 1, 0},
      {ir::Op::MaxPool, {3, 2}, {1, 2}, {0, 1, 1, 0}, {2, 1}, 0, 0},
      {ir::Op::MaxPool, {3, 3}, {2, 2}, {1, 1, 0, 0}, {1, 1}, 1, 0},
      {ir::Op::AveragePool, {3, 3}, {2, 2}, {1, 1, 1, 1}, {1, 1}, 0, 1},
      {ir::Op::AveragePool, {3, 3}, {2, 2}, {1, 1, 1, 1}, {1, 1}, 0, 0},
      {ir::Op::AveragePool, {3, 3}, {2, 2}, {1, 1, 1, 1}, {1, 1}, 1, 1},
      {ir::Op::AveragePool, {2, 3}, {2, 2}, {0, 1, 0, 1}, {1, 1}, 1, 0},
      {ir::Op::AveragePool, {2, 2}, {2, 2}, {1, 0, 1, 0}, {1, 1}, 0, 1},
  };
  std::vector<OpCase> cases;
  for (const PoolCase& c : list) {
    Build build = [c](GraphMaker& g, ir::ValueId x, const Shape&) {
      ir::Attributes a;
      a.set("kernel_shape", c.kernel);
      a.set("strides", c.strides);
      a.set("pads", c.pads);
      if (c.op == ir::Op::MaxPool) a.set("dilations", c.dilations);
      a.set("ceil_mode", c.ceil_mode);
      a.set("count_include_pad", c.count_include_pad);
      return g.node(c.op, {x}, a);
    };
    // a pool window must fit the (padded) input
    auto fits = [c](const Shape& s) {
      return s[2] + c.pads[0] + c.pads[2] >= (c.kernel[0] - 1) * c.dilations[0] + 1 &&
             s[3] + c.pads[1] + c.pads[3] >= (c.kernel[1] - 1) * c.dilations[1] + 1;
    };
    const std::string name = cat("k", shape_str(c.kernel), " s", shape_str(c.strides), " pads ", shape_str(c.pads),
                                 c.op == ir::Op::MaxPool ? cat(" d", shape_str(c.dilations)) : std::string(),
                                 " ceil ", c.ceil_mode,
                                 c.op == ir::Op::AveragePool ? cat(" count_include_pad ", c.count_include_pad) : "");
    for (OpCase& oc : on_shapes(c.op, name, build, fits)) cases.push_back(std::move(oc));
  }
  for (OpCase& oc : on_shapes(ir::Op::GlobalAveragePool, "", [](GraphMaker& g, ir::ValueId x, const Shape&) {
         return g.node(ir::Op::GlobalAveragePool, {x});
       }))
    cases.push_back(std::move(oc));
  return cases;
}

}  // namespace crowdrt::test::ops
