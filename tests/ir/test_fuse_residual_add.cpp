#include <gtest/gtest.h>

#include "ir/passes/passes.h"
#include "pass_test_helpers.h"

using namespace crowdrt;
using namespace crowdrt::test;

TEST(FuseResidualAdd, ResnetBlockBecomesTwoConvsWithTheSameResult) {
  // x → conv1 → relu → conv2 → add(x) → relu: the add and the last relu join conv2's epilogue.
  ir::Graph g;
  const ir::ValueId x = add_input(g, "input", {1, 4, 6, 7});
  const ir::ValueId c1 = add_conv(g, x, 4, 1, true, "conv1");
  const ir::ValueId r1 = add_unary(g, ir::Op::Relu, c1, "relu1");
  const ir::ValueId c2 = add_conv(g, r1, 4, 2, true, "conv2");
  const ir::ValueId sum = add_binary(g, ir::Op::Add, c2, x, "add");
  g.outputs().push_back(add_unary(g, ir::Op::Relu, sum, "relu2"));
  const Tensor input = random_tensor({1, 4, 6, 7}, 3);
  const Tensor before = run_reference(g, input);
  const ir::Graph fused = ir::fuse_activation(ir::fuse_residual_add(g));
  ASSERT_EQ(fused.nodes().size(), 2u);
  const ir::Node& conv2 = fused.nodes()[1];
  EXPECT_EQ(conv2.attrs.i("fused_add"), 1);
  EXPECT_EQ(conv2.inputs.at(3), x);
  EXPECT_EQ(conv2.attrs.s("activation"), "relu");
  EXPECT_LT(max_abs_diff(before, run_reference(fused, input)), 1e-5f);
}

TEST(FuseResidualAdd, PicksTheLaterConvWhenBothAddendsAreConvs) {
  ir::Graph g;
  const ir::ValueId x = add_input(g, "input", {1, 3, 5, 5});
  const ir::ValueId a = add_conv(g, x, 3, 1, false, "a");
  const ir::ValueId b = add_conv(g, x, 3, 2, false, "b");
  g.outputs().push_back(add_binary(g, ir::Op::Add, a, b, "add"));
  const Tensor input = random_tensor({1, 3, 5, 5}, 4);
  const Tensor before = run_reference(g, input);
  const ir::Graph fused = ir::fuse_residual_add(g);
  ASSERT_EQ(fused.nodes().size(), 2u);
  EXPECT_EQ(fused.nodes()[1].name, "b");
  EXPECT_EQ(fused.nodes()[1].inputs.at(3), a);
  EXPECT_LT(max_abs_diff(before, run_reference(fused, input)), 1e-5f);
}

TEST(FuseResidualAdd, KeepsBroadcastingAddsAndAddsAfterAnActivation) {
  ir::Graph g;
  const ir::ValueId x = add_input(g, "input", {1, 3, 5, 5});
  const ir::ValueId c = add_conv(g, x, 3, 1, false, "c");
  const ir::ValueId bias = g.add_constant("k", random_tensor({1, 3, 1, 1}, 2));
  g.outputs().push_back(add_binary(g, ir::Op::Add, c, bias, "add"));
  EXPECT_EQ(ir::fuse_residual_add(g).nodes().size(), 2u);

  ir::Graph h;
  const ir::ValueId y = add_input(h, "input", {1, 3, 5, 5});
  const ir::ValueId r = add_unary(h, ir::Op::Relu, add_conv(h, y, 3, 1, false, "c"), "relu");
  h.outputs().push_back(add_binary(h, ir::Op::Add, r, y, "add"));
  EXPECT_EQ(count_ops(ir::fuse_residual_add(ir::fuse_activation(h)), ir::Op::Add), 1);
}
