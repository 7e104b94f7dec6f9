#include <gtest/gtest.h>

#include "ir/passes/passes.h"
#include "pass_test_helpers.h"

using namespace crowdrt;
using namespace crowdrt::test;

TEST(RemoveIdentity, ChainsOfIdentitiesOnWeightsAndActivationsDisappear) {
  ir::Graph g;
  const ir::ValueId x = add_input(g, "input", {1, 2, 4, 4});
  const ir::ValueId i1 = add_unary(g, ir::Op::Identity, x, "id1");
  const ir::ValueId i2 = add_unary(g, ir::Op::Identity, i1, "id2");
  const ir::ValueId c = add_conv(g, i2, 2, 3, false, "conv");
  g.outputs().push_back(add_unary(g, ir::Op::Relu, c, "relu"));
  const ir::Graph out = ir::remove_identity(g);
  EXPECT_EQ(count_ops(out, ir::Op::Identity), 0);
  EXPECT_EQ(out.nodes()[0].inputs[0], x);
  out.validate();
}

TEST(RemoveIdentity, AnIdentityProducingTheGraphOutputKeepsTheOutputName) {
  ir::Graph g;
  const ir::ValueId x = add_input(g, "input", {1, 2, 4, 4});
  const ir::ValueId c = add_conv(g, x, 2, 3, false, "conv");
  const ir::ValueId out = add_unary(g, ir::Op::Identity, c, "id");
  g.outputs().push_back(out);
  const ir::Graph r = ir::remove_identity(g);
  EXPECT_EQ(count_ops(r, ir::Op::Identity), 0);
  EXPECT_EQ(r.nodes()[0].outputs[0], out);
  EXPECT_EQ(r.value(r.outputs()[0]).name, "id_out");
  r.validate();
}
