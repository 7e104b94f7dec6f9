// The operator set of the IR. Compute ops reach backends; shape ops exist only until constant folding.
// One table (op.cpp) holds every op's ONNX name and class; the functions below read it.
#pragma once
#include <span>
#include <string>

namespace crowdrt::ir {

enum class Op {
  // compute ops
  Conv, ConvTranspose, BatchNormalization, Relu, LeakyRelu, Clip, Sigmoid, HardSigmoid, HardSwish,
  Add, Sub, Mul, Div, Concat, MaxPool, AveragePool, GlobalAveragePool, ReduceMean, Resize, Pad,
  Identity,
  // shape arithmetic left behind by exporters; folded away before a backend sees the graph
  Shape, Gather, Unsqueeze, Squeeze, Cast, Floor, Ceil, Slice, ConstantOfShape, Reshape, Range,
  Equal, Where, Expand, Sqrt, Neg, Transpose,
};
inline constexpr Op kLastOp = Op::Transpose;  // the enum's last value; an op added after it moves this

enum class OpClass {
  compute,             // reaches backends
  elementwise_unary,   // a compute op applied to each element alone
  elementwise_binary,  // a compute op of two inputs with numpy broadcasting
  shape,               // shape arithmetic, folded away before backends
};

struct OpInfo {
  Op op;
  const char* name;  // the ONNX spelling
  OpClass op_class;
};

std::span<const OpInfo> op_table();         // one row per op, in the enum's order
const char* op_name(Op op);                 // the ONNX spelling: "Conv", "Resize", ...
bool op_from_name(const std::string& name, Op* op);  // false when the name is not an IR op
bool is_shape_op(Op op);                    // only valid before constant folding
bool is_elementwise_unary(Op op);           // Relu, LeakyRelu, Clip, Sigmoid, HardSigmoid, HardSwish
bool is_elementwise_binary(Op op);          // Add, Sub, Mul, Div (numpy broadcasting)

}  // namespace crowdrt::ir
