#include <gtest/gtest.h>

#include "ir/passes/passes.h"
#include "pass_test_helpers.h"

using namespace crowdrt;
using namespace crowdrt::test;

namespace {
ir::ValueId add_batchnorm(ir::Graph& g, ir::ValueId x, uint32_t seed, const std::string& name) {
  const int64_t c = g.value(x).shape[1];
  const ir::ValueId gamma = g.add_constant(name + ".weight", random_tensor({c}, seed, 0.5f, 2.f));
  const ir::ValueId beta = g.add_constant(name + ".bias", random_tensor({c}, seed + 1));
  const ir::ValueId mean = g.add_constant(name + ".running_mean", random_tensor({c}, seed + 2));
  const ir::ValueId var = g.add_constant(name + ".running_var", random_tensor({c}, seed + 3, 0.1f, 3.f));
  const ir::ValueId y = g.add_value(name + "_out", DType::f32, g.value(x).shape, true);
  ir::Attributes a;
  a.set("epsilon", 1e-5f);
  g.add_node(ir::Op::BatchNormalization, name, {x, gamma, beta, mean, var}, {y}, a);
  return y;
}
}  // namespace

TEST(FoldBatchnorm, ConvThenBatchnormBecomesOneConvWithTheSameOutput) {
  for (bool bias : {false, true}) {
    ir::Graph g;
    const ir::ValueId x = add_input(g, "input", {1, 3, 7, 9});
    const ir::ValueId c = add_conv(g, x, 5, 11, bias, "conv");
    g.outputs().push_back(add_batchnorm(g, c, 21, "bn"));
    const Tensor input = random_tensor({1, 3, 7, 9}, 5);
    const Tensor before = run_reference(g, input);
    const ir::Graph folded = ir::fold_batchnorm(g);
    EXPECT_EQ(count_ops(folded, ir::Op::BatchNormalization), 0);
    EXPECT_EQ(count_ops(folded, ir::Op::Conv), 1);
    EXPECT_EQ(folded.value(folded.outputs()[0]).name, "bn_out");  // the output keeps its ONNX name
    EXPECT_LT(max_abs_diff(before, run_reference(folded, input)), 1e-4f);
  }
}

TEST(FoldBatchnorm, KeepsBatchnormWhenTheConvOutputHasAnotherReader) {
  ir::Graph g;
  const ir::ValueId x = add_input(g, "input", {1, 3, 5, 5});
  const ir::ValueId c = add_conv(g, x, 4, 1, true, "conv");
  const ir::ValueId bn = add_batchnorm(g, c, 2, "bn");
  g.outputs().push_back(add_binary(g, ir::Op::Add, bn, c, "add"));
  const ir::Graph folded = ir::fold_batchnorm(g);
  EXPECT_EQ(count_ops(folded, ir::Op::BatchNormalization), 1);
}

TEST(FoldBatchnorm, LeavesAStandaloneBatchnormAlone) {
  ir::Graph g;
  const ir::ValueId x = add_input(g, "input", {1, 3, 5, 5});
  g.outputs().push_back(add_batchnorm(g, x, 2, "bn"));
  EXPECT_EQ(count_ops(ir::fold_batchnorm(g), ir::Op::BatchNormalization), 1);
}
