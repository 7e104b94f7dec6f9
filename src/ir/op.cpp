#include "ir/op.h"

#include <array>

namespace crowdrt::ir {
namespace {

constexpr OpClass kCompute = OpClass::compute, kUnary = OpClass::elementwise_unary,
                  kBinary = OpClass::elementwise_binary, kShapeArithmetic = OpClass::shape;

// In the enum's order, so that a row is found by the op's value (checked below, at compile time).
constexpr std::array kOpTable{
    OpInfo{Op::Conv, "Conv", kCompute},
    OpInfo{Op::ConvTranspose, "ConvTranspose", kCompute},
    OpInfo{Op::BatchNormalization, "BatchNormalization", kCompute},
    OpInfo{Op::Relu, "Relu", kUnary},
    OpInfo{Op::LeakyRelu, "LeakyRelu", kUnary},
    OpInfo{Op::Clip, "Clip", kUnary},
    OpInfo{Op::Sigmoid, "Sigmoid", kUnary},
    OpInfo{Op::HardSigmoid, "HardSigmoid", kUnary},
    OpInfo{Op::HardSwish, "HardSwish", kUnary},
    OpInfo{Op::Add, "Add", kBinary},
    OpInfo{Op::Sub, "Sub", kBinary},
    OpInfo{Op::Mul, "Mul", kBinary},
    OpInfo{Op::Div, "Div", kBinary},
    OpInfo{Op::Concat, "Concat", kCompute},
    OpInfo{Op::MaxPool, "MaxPool", kCompute},
    OpInfo{Op::AveragePool, "AveragePool", kCompute},
    OpInfo{Op::GlobalAveragePool, "GlobalAveragePool", kCompute},
    OpInfo{Op::ReduceMean, "ReduceMean", kCompute},
    OpInfo{Op::Resize, "Resize", kCompute},
    OpInfo{Op::Pad, "Pad", kCompute},
    OpInfo{Op::Identity, "Identity", kCompute},
    OpInfo{Op::Shape, "Shape", kShapeArithmetic},
    OpInfo{Op::Gather, "Gather", kShapeArithmetic},
    OpInfo{Op::Unsqueeze, "Unsqueeze", kShapeArithmetic},
    OpInfo{Op::Squeeze, "Squeeze", kShapeArithmetic},
    OpInfo{Op::Cast, "Cast", kShapeArithmetic},
    OpInfo{Op::Floor, "Floor", kShapeArithmetic},
    OpInfo{Op::Ceil, "Ceil", kShapeArithmetic},
    OpInfo{Op::Slice, "Slice", kShapeArithmetic},
    OpInfo{Op::ConstantOfShape, "ConstantOfShape", kShapeArithmetic},
    OpInfo{Op::Reshape, "Reshape", kShapeArithmetic},
    OpInfo{Op::Range, "Range", kShapeArithmetic},
    OpInfo{Op::Equal, "Equal", kShapeArithmetic},
    OpInfo{Op::Where, "Where", kShapeArithmetic},
    OpInfo{Op::Expand, "Expand", kShapeArithmetic},
    OpInfo{Op::Sqrt, "Sqrt", kShapeArithmetic},
    OpInfo{Op::Neg, "Neg", kShapeArithmetic},
    OpInfo{Op::Transpose, "Transpose", kShapeArithmetic},
};

constexpr bool op_table_is_in_enum_order() {
  for (size_t i = 0; i < kOpTable.size(); ++i)
    if (static_cast<size_t>(kOpTable[i].op) != i) return false;
  return kOpTable.size() == static_cast<size_t>(kLastOp) + 1;
}
static_assert(op_table_is_in_enum_order(), "kOpTable needs one row per Op, in the enum's order");

const OpInfo* op_row(Op op) {
  const auto i = static_cast<size_t>(op);
  return i < kOpTable.size() ? &kOpTable[i] : nullptr;
}

bool op_has_class(Op op, OpClass op_class) {
  const OpInfo* row = op_row(op);
  return row != nullptr && row->op_class == op_class;
}

}  // namespace

std::span<const OpInfo> op_table() { return kOpTable; }

const char* op_name(Op op) {
  const OpInfo* row = op_row(op);
  return row != nullptr ? row->name : "?";
}

bool op_from_name(const std::string& name, Op* op) {
  for (const OpInfo& row : kOpTable)
    if (name == row.name) {
      *op = row.op;
      return true;
    }
  return false;
}

bool is_shape_op(Op op) { return op_has_class(op, OpClass::shape); }
bool is_elementwise_unary(Op op) { return op_has_class(op, OpClass::elementwise_unary); }
bool is_elementwise_binary(Op op) { return op_has_class(op, OpClass::elementwise_binary); }

}  // namespace crowdrt::ir
