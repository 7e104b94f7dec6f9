// The op table: one row per Op value, names that round-trip, and the classes the passes and backends ask about.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "ir/op.h"

namespace crowdrt::ir {
namespace {

TEST(OpTable, EveryOpHasExactlyOneRowAndItsNameRoundTrips) {
  const int ops = static_cast<int>(kLastOp) + 1;
  ASSERT_EQ(op_table().size(), static_cast<size_t>(ops));
  std::set<std::string> names;
  for (int i = 0; i < ops; ++i) {
    const Op op = static_cast<Op>(i);
    int rows = 0;
    for (const OpInfo& row : op_table()) rows += row.op == op;
    EXPECT_EQ(rows, 1) << op_name(op);
    Op back = Op::Conv;
    ASSERT_TRUE(op_from_name(op_name(op), &back)) << op_name(op);
    EXPECT_EQ(back, op);
    EXPECT_TRUE(names.insert(op_name(op)).second) << op_name(op) << " names two ops";
  }
  Op unchanged = Op::Relu;
  EXPECT_FALSE(op_from_name("Constant", &unchanged));  // import-only, never an IR op
  EXPECT_FALSE(op_from_name("conv", &unchanged));       // ONNX names are case-sensitive
  EXPECT_EQ(unchanged, Op::Relu);
}

TEST(OpTable, ClassesAreTheOnesThePassesRelyOn) {
  for (Op op : {Op::Relu, Op::LeakyRelu, Op::Clip, Op::Sigmoid, Op::HardSigmoid, Op::HardSwish}) {
    EXPECT_TRUE(is_elementwise_unary(op)) << op_name(op);
    EXPECT_FALSE(is_elementwise_binary(op) || is_shape_op(op)) << op_name(op);
  }
  for (Op op : {Op::Add, Op::Sub, Op::Mul, Op::Div}) {
    EXPECT_TRUE(is_elementwise_binary(op)) << op_name(op);
    EXPECT_FALSE(is_elementwise_unary(op) || is_shape_op(op)) << op_name(op);
  }
  // every op from Shape on is shape arithmetic (Neg and Transpose included), none before it
  for (const OpInfo& row : op_table())
    EXPECT_EQ(is_shape_op(row.op), row.op >= Op::Shape) << row.name;
  for (Op op : {Op::Conv, Op::Concat, Op::Resize, Op::Identity})
    EXPECT_FALSE(is_elementwise_unary(op) || is_elementwise_binary(op) || is_shape_op(op)) << op_name(op);
}

}  // namespace
}  // namespace crowdrt::ir
