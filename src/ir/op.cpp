#include "ir/op.h"

#include <array>
#include <utility>

namespace crowdrt::ir {
namespace {
constexpr std::array<std::pair<Op, const char*>, 36> kNames{{
    {Op::Conv, "Conv"}, {Op::ConvTranspose, "ConvTranspose"}, {Op::BatchNormalization, "BatchNormalization"},
    {Op::Relu, "Relu"}, {Op::LeakyRelu, "LeakyRelu"}, {Op::Clip, "Clip"}, {Op::Sigmoid, "Sigmoid"},
    {Op::HardSigmoid, "HardSigmoid"}, {Op::HardSwish, "HardSwish"}, {Op::Add, "Add"}, {Op::Sub, "Sub"},
    {Op::Mul, "Mul"}, {Op::Div, "Div"}, {Op::Concat, "Concat"}, {Op::MaxPool, "MaxPool"},
    {Op::AveragePool, "AveragePool"}, {Op::GlobalAveragePool, "GlobalAveragePool"},
    {Op::ReduceMean, "ReduceMean"}, {Op::Resize, "Resize"}, {Op::Pad, "Pad"}, {Op::Identity, "Identity"},
    {Op::Shape, "Shape"}, {Op::Gather, "Gather"}, {Op::Unsqueeze, "Unsqueeze"}, {Op::Squeeze, "Squeeze"},
    {Op::Cast, "Cast"}, {Op::Floor, "Floor"}, {Op::Ceil, "Ceil"}, {Op::Slice, "Slice"},
    {Op::ConstantOfShape, "ConstantOfShape"}, {Op::Reshape, "Reshape"}, {Op::Range, "Range"},
    {Op::Equal, "Equal"}, {Op::Where, "Where"}, {Op::Expand, "Expand"}, {Op::Sqrt, "Sqrt"},
}};
}  // namespace

const char* op_name(Op op) {
  if (op == Op::Neg) return "Neg";
  if (op == Op::Transpose) return "Transpose";
  for (const auto& [o, n] : kNames)
    if (o == op) return n;
  return "?";
}

bool op_from_name(const std::string& name, Op* op) {
  if (name == "Neg") { *op = Op::Neg; return true; }
  if (name == "Transpose") { *op = Op::Transpose; return true; }
  for (const auto& [o, n] : kNames)
    if (name == n) { *op = o; return true; }
  return false;
}

bool is_shape_op(Op op) { return op >= Op::Shape; }

bool is_elementwise_unary(Op op) {
  return op == Op::Relu || op == Op::LeakyRelu || op == Op::Clip || op == Op::Sigmoid ||
         op == Op::HardSigmoid || op == Op::HardSwish;
}

bool is_elementwise_binary(Op op) { return op == Op::Add || op == Op::Sub || op == Op::Mul || op == Op::Div; }

}  // namespace crowdrt::ir
