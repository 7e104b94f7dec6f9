#include <gtest/gtest.h>

#include <limits>

#include "ir/passes/passes.h"
#include "pass_test_helpers.h"

using namespace crowdrt;
using namespace crowdrt::test;

TEST(FuseActivation, EveryActivationAfterAConvRunsAsItsEpilogueWithTheSameResult) {
  struct Case { ir::Op op; ir::Attributes attrs; std::string kind; };
  ir::Attributes leaky, clip, hsig;
  leaky.set("alpha", 0.1f);
  clip.set("min", 0.f);
  clip.set("max", 6.f);
  hsig.set("alpha", 0.25f);
  hsig.set("beta", 0.4f);
  const std::vector<Case> cases = {{ir::Op::Relu, {}, "relu"},         {ir::Op::LeakyRelu, leaky, "leaky_relu"},
                                   {ir::Op::Clip, clip, "clip"},       {ir::Op::Sigmoid, {}, "sigmoid"},
                                   {ir::Op::HardSigmoid, hsig, "hard_sigmoid"}, {ir::Op::HardSwish, {}, "hard_swish"}};
  for (const Case& c : cases) {
    ir::Graph g;
    const ir::ValueId x = add_input(g, "input", {1, 2, 6, 5});
    const ir::ValueId conv = add_conv(g, x, 3, 7, true, "conv");
    g.outputs().push_back(add_unary(g, c.op, conv, "act", c.attrs));
    const Tensor input = random_tensor({1, 2, 6, 5}, 9, -3.f, 3.f);
    const Tensor before = run_reference(g, input);
    const ir::Graph fused = ir::fuse_activation(g);
    ASSERT_EQ(fused.nodes().size(), 1u) << c.kind;
    EXPECT_EQ(fused.nodes()[0].attrs.s("activation"), c.kind);
    EXPECT_EQ(fused.value(fused.outputs()[0]).name, "act_out");
    EXPECT_LT(max_abs_diff(before, run_reference(fused, input)), 1e-5f) << c.kind;
  }
}

TEST(FuseActivation, DoesNotFuseWhenTheConvOutputIsAlsoAGraphOutput) {
  ir::Graph g;
  const ir::ValueId x = add_input(g, "input", {1, 2, 4, 4});
  const ir::ValueId conv = add_conv(g, x, 2, 1, false, "conv");
  g.outputs().push_back(add_unary(g, ir::Op::Relu, conv, "relu"));
  g.outputs().push_back(conv);
  EXPECT_EQ(ir::fuse_activation(g).nodes().size(), 2u);
}

TEST(FuseActivation, DoesNotFuseIntoANonConv) {
  ir::Graph g;
  const ir::ValueId x = add_input(g, "input", {1, 2, 4, 4});
  const ir::ValueId s = add_binary(g, ir::Op::Add, x, x, "add");
  g.outputs().push_back(add_unary(g, ir::Op::Relu, s, "relu"));
  EXPECT_EQ(ir::fuse_activation(g).nodes().size(), 2u);
}
