// Pad in every mode (constant with a value, reflect, edge), asymmetric, symmetric, and negative pads (crops).
#include "op_case.h"

namespace crowdrt::test::ops {

std::vector<OpCase> pad_cases() {
  const std::vector<std::vector<int64_t>> pad_sets = {{0, 0, 1, 2, 0, 0, 3, 0}, {0, 0, 2, 2, 0, 0, 2, 2},
                                                      {0, 0, -1, 1, 0, 0, 1, -1}, {0, 0, 1, 2, 0, 0, 2, 1}};
  std::vector<OpCase> cases;
  for (const char* mode : {"constant", "reflect", "edge"})
    for (const auto& pads : pad_sets) {
      ir::Attributes a;
      a.set("mode", std::string(mode));
      a.set("pads", pads);
      a.set("value", 0.25f);
      for (OpCase& c : on_shapes(
               ir::Op::Pad, cat(mode, " pads ", shape_str(pads)),
               [a](GraphMaker& g, ir::ValueId x, const Shape&) { return g.node(ir::Op::Pad, {x}, a); },
               [](const Shape& s) { return s[2] >= 3 && s[3] >= 3; }))  // crops and reflections need room
        cases.push_back(std::move(c));
    }
  return cases;
}

}  // namespace crowdrt::test::ops
