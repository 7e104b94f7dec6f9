#include <gtest/gtest.h>

#include "ir/passes/passes.h"
#include "pass_test_helpers.h"

using namespace crowdrt;
using namespace crowdrt::test;

namespace {
ir::Graph concat_of_two_convs(bool second_input_is_graph_input) {
  ir::Graph g;
  const ir::ValueId x = add_input(g, "input", {1, 16, 4, 4});
  const ir::ValueId a = add_conv(g, x, 16, 1, false, "a");
  const ir::ValueId b = second_input_is_graph_input ? x : add_conv(g, x, 16, 2, false, "b");
  const ir::ValueId y = g.add_value("cat", DType::f32, {1, 32, 4, 4}, true);
  ir::Attributes attrs;
  attrs.set("axis", int64_t{1});
  g.add_node(ir::Op::Concat, "concat", {a, b}, {y}, attrs);
  g.outputs().push_back(y);
  return g;
}
const ir::Node& concat_node(const ir::Graph& g) { return g.nodes().back(); }
}  // namespace

TEST(PlanConcatInPlace, MarksConcatsOfSingleUseProducersWhenTheBackendAllows) {
  const auto yes = [](const ir::Graph&, const ir::Node&) { return true; };
  const auto no = [](const ir::Graph&, const ir::Node&) { return false; };
  EXPECT_EQ(concat_node(ir::plan_concat_in_place(concat_of_two_convs(false), yes)).attrs.i("in_place"), 1);
  EXPECT_EQ(concat_node(ir::plan_concat_in_place(concat_of_two_convs(false), no)).attrs.i("in_place"), 0);
}

TEST(PlanConcatInPlace, NeverMarksAConcatReadingAGraphInput) {
  const auto yes = [](const ir::Graph&, const ir::Node&) { return true; };
  EXPECT_EQ(concat_node(ir::plan_concat_in_place(concat_of_two_convs(true), yes)).attrs.i("in_place"), 0);
}
