// The op tables of the reference and CPU backends (reference_op_table.h, cpu_op_table.h): one entry for every
// compute op of the IR and none for a shape op, the traits the CPU backend reads from them, and supports answers
// that go through them.
#include <gtest/gtest.h>

#include <algorithm>

#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/cpu_op_table.h"
#include "backends/cpu/reference/reference_backend.h"
#include "backends/cpu/reference/reference_op_table.h"
#include "graph_maker.h"

namespace crowdrt::test {
namespace {

// Every op of ir/op.h: the compute ops come first, then the shape ops from Op::Shape to Op::Transpose.
std::vector<ir::Op> every_op() {
  std::vector<ir::Op> ops;
  for (int i = 0; i <= static_cast<int>(ir::Op::Transpose); ++i) ops.push_back(static_cast<ir::Op>(i));
  return ops;
}

template <class Entry>
size_t entries_of(std::span<const Entry> table, ir::Op op) {
  return static_cast<size_t>(std::count_if(table.begin(), table.end(), [op](const Entry& e) { return e.op == op; }));
}

TEST(OpTables, EveryComputeOpHasExactlyOneEntryPerBackendAndNoShapeOpHasOne) {
  const auto reference_table = reference::op_table();
  const auto cpu_table = cpu::op_table();
  size_t compute_ops = 0;
  for (ir::Op op : every_op()) {
    const size_t expected = ir::is_shape_op(op) ? 0 : 1;
    compute_ops += expected;
    EXPECT_EQ(entries_of(reference_table, op), expected) << "reference, " << ir::op_name(op);
    EXPECT_EQ(entries_of(cpu_table, op), expected) << "cpu, " << ir::op_name(op);
    EXPECT_EQ(reference::find_op(op) != nullptr, expected == 1) << ir::op_name(op);
    EXPECT_EQ(cpu::find_op(op) != nullptr, expected == 1) << ir::op_name(op);
    if (expected == 1) {
      EXPECT_EQ(reference::find_op(op)->op, op);
      EXPECT_EQ(cpu::find_op(op)->op, op);
      EXPECT_NE(reference::find_op(op)->run, nullptr) << ir::op_name(op);
      EXPECT_NE(cpu::find_op(op)->supports, nullptr) << ir::op_name(op);
      EXPECT_NE(cpu::find_op(op)->build, nullptr) << ir::op_name(op);
    }
  }
  EXPECT_EQ(reference_table.size(), compute_ops);
  EXPECT_EQ(cpu_table.size(), compute_ops);
}

TEST(OpTables, CpuTraitsAreTheOnesTheBuilderReliesOn) {
  using ir::Op;
  for (const cpu::OpEntry& entry : cpu::op_table()) {
    // Concat's output is the slice-holding buffer itself; ReduceMean writes a plain tensor of its own.
    EXPECT_EQ(entry.writes_concat_slice, entry.op != Op::Concat && entry.op != Op::ReduceMean)
        << ir::op_name(entry.op);
    EXPECT_EQ(entry.reduced_precision, entry.op == Op::Conv) << ir::op_name(entry.op);
    const bool may_pass_bf16 = entry.op == Op::MaxPool || entry.op == Op::Resize || entry.op == Op::Concat;
    EXPECT_EQ(entry.passes_bf16_through != nullptr, may_pass_bf16) << ir::op_name(entry.op);
  }
  ir::Node resize;
  resize.op = Op::Resize;
  EXPECT_TRUE(cpu::find_op(Op::Resize)->passes_bf16_through(resize));  // mode defaults to nearest
  resize.attrs.set("mode", std::string("linear"));
  EXPECT_FALSE(cpu::find_op(Op::Resize)->passes_bf16_through(resize));
}

ir::Attributes resize_attrs(const std::string& mode, const std::string& transform) {
  ir::Attributes a;
  a.set("mode", mode);
  a.set("coordinate_transformation_mode", transform);
  a.set("scales", std::vector<float>{1.f, 1.f, 2.f, 2.f});
  return a;
}

TEST(OpTables, SupportsAnswersGoThroughEachOpsEntry) {
  GraphMaker g;
  const ir::ValueId x = g.input({1, 4, 6, 5});
  g.node(ir::Op::Resize, {x}, resize_attrs("linear", "align_corners"));
  g.node(ir::Op::Resize, {x}, resize_attrs("linear", "half_pixel_symmetric"));  // a mode the CPU maps do not know
  ir::Attributes conv;
  conv.set("kernel_shape", ints({3, 3}));
  conv.set("pads", ints({1, 1, 1, 1}));
  g.node(ir::Op::Conv, {x, g.weight({8, 4, 3, 3}), g.weight({8})}, conv);
  g.node(ir::Op::MaxPool, {x}, [] {
    ir::Attributes a;
    a.set("kernel_shape", ints({2, 2}));
    a.set("strides", ints({2, 2}));
    return a;
  }());
  ir::Attributes reflect;
  reflect.set("mode", std::string("reflect"));
  reflect.set("pads", ints({0, 0, 0, -5, 0, 0, 0, 3}));  // crops all 5 columns: nothing left to mirror
  g.node(ir::Op::Pad, {x}, reflect);
  ir::Attributes transposed_with_activation;
  transposed_with_activation.set("kernel_shape", ints({2, 2}));
  transposed_with_activation.set("strides", ints({2, 2}));
  transposed_with_activation.set("activation", std::string("relu"));
  g.node(ir::Op::ConvTranspose, {x, g.weight({4, 3, 2, 2})}, transposed_with_activation);
  const ir::Graph& graph = g.graph;
  const auto& nodes = graph.nodes();
  ASSERT_EQ(nodes.size(), 6u);

  const CpuBackend cpu;
  const ReferenceBackend reference;
  // {node, cpu fp32, cpu bf16, cpu int8}
  const std::vector<std::tuple<size_t, bool, bool, bool>> expected = {
      {0, true, false, false},  // linear align_corners Resize: fp32 only
      {1, false, false, false},
      {2, true, true, true},    // Conv: bf16 and int8 kernels too
      {3, true, false, false},  // MaxPool passes bf16 through but has no bf16 kernel of its own
      {4, false, false, false},
      {5, false, false, false},  // ConvTranspose takes no fused activation
  };
  for (const auto& [i, fp32, bf16, int8] : expected) {
    SCOPED_TRACE(ir::describe(graph, nodes[i]));
    EXPECT_EQ(cpu.supports(graph, nodes[i], Precision::fp32), fp32);
    EXPECT_EQ(cpu.supports(graph, nodes[i], Precision::bf16), bf16);
    EXPECT_EQ(cpu.supports(graph, nodes[i], Precision::int8), int8);
    EXPECT_FALSE(cpu.supports(graph, nodes[i], Precision::fp16));
    // The reference runs every float32 node of an op in its table.
    EXPECT_TRUE(reference.supports(graph, nodes[i], Precision::fp32));
    EXPECT_FALSE(reference.supports(graph, nodes[i], Precision::bf16));
  }

  ir::Graph with_shape_op = graph;
  const ir::ValueId shape = with_shape_op.add_value("shape", DType::i64, Shape{4}, true);
  const ir::Node& shape_node = with_shape_op.add_node(ir::Op::Shape, "shape", {x}, {shape});
  EXPECT_FALSE(cpu.supports(with_shape_op, shape_node, Precision::fp32));
  EXPECT_FALSE(reference.supports(with_shape_op, shape_node, Precision::fp32));
}

TEST(OpTables, CpuLayersOfOpsWithoutReducedPrecisionKernelsSayTheyFellBack) {
  GraphMaker g;
  const ir::ValueId x = g.input({1, 4, 5, 5});
  ir::Attributes up;
  up.set("kernel_shape", ints({2, 2}));
  up.set("strides", ints({2, 2}));
  const ir::ValueId y = g.node(ir::Op::ConvTranspose, {x, g.weight({4, 3, 2, 2}), g.weight({3})}, up);
  g.output(g.node(ir::Op::Sigmoid, {y}));
  CompileOptions options;
  options.precision = Precision::bf16;
  options.threads = 1;
  const auto compiled = CpuBackend().compile(g.graph, options);
  size_t checked = 0;
  for (const LayerInfo& layer : compiled->layers()) {
    if (layer.op != "ConvTranspose" && layer.op != "Sigmoid") continue;
    ++checked;
    EXPECT_EQ(layer.precision, Precision::fp32) << layer.op;
    EXPECT_NE(layer.note.find(cat("fell back to fp32: no bf16 kernel for ", layer.op, " on cpu")), std::string::npos)
        << layer.op << ": " << layer.note;
  }
  EXPECT_EQ(checked, 2u);
}

}  // namespace
}  // namespace crowdrt::test
