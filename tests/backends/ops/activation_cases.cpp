// The standalone activations (and Identity), with the attributes that change their shape: LeakyRelu's slope, Clip
// with both bounds and with no upper bound, HardSigmoid's alpha and beta.
#include <limits>

#include "op_case.h"

namespace crowdrt::test::ops {

std::vector<OpCase> activation_cases() {
  ir::Attributes leaky, clip, clip_lower, hard_sigmoid;
  leaky.set("alpha", 0.2f);
  clip.set("min", -0.3f);
  clip.set("max", 0.6f);
  clip_lower.set("min", 0.1f);
  clip_lower.set("max", std::numeric_limits<float>::infinity());
  hard_sigmoid.set("alpha", 0.3f);
  hard_sigmoid.set("beta", 0.4f);
  const std::vector<std::tuple<ir::Op, ir::Attributes, std::string>> ops = {
      {ir::Op::Relu, {}, ""},
      {ir::Op::LeakyRelu, leaky, "alpha 0.2"},
      {ir::Op::Clip, clip, "min -0.3 max 0.6"},
      {ir::Op::Clip, clip_lower, "min 0.1 max inf"},
      {ir::Op::Sigmoid, {}, ""},
      {ir::Op::HardSigmoid, hard_sigmoid, "alpha 0.3 beta 0.4"},
      {ir::Op::HardSwish, {}, ""},
      {ir::Op::Identity, {}, ""}};
  // The bounded Clip narrows its output to 0.9 wide while its int8 input carries the steps of the convolution's wider
  // range before it; its int8 bound is taken against that (measured on the lent H100: 0.066 of the clipped 0.6).
  Tolerance narrowing;
  narrowing.int8 = 0.15f;
  std::vector<OpCase> cases;
  for (const auto& entry : ops) {
    const ir::Op op = std::get<0>(entry);
    const ir::Attributes attrs = std::get<1>(entry);
    const bool narrows = op == ir::Op::Clip && std::get<2>(entry) == "min -0.3 max 0.6";
    for (OpCase& c : on_shapes(
             op, std::get<2>(entry),
             [op, attrs](GraphMaker& g, ir::ValueId x, const Shape&) { return g.node(op, {x}, attrs); }, nullptr,
             narrows ? narrowing : Tolerance{}))
      cases.push_back(std::move(c));
  }
  return cases;
}

}  // namespace crowdrt::test::ops
