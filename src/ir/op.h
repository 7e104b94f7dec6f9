// The operator set of the IR. Compute ops reach backends; shape ops exist only until constant folding.
#pragma once
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

const char* op_name(Op op);                 // the ONNX spelling: "Conv", "Resize", ...
bool op_from_name(const std::string& name, Op* op);  // false when the name is not an IR op
bool is_shape_op(Op op);                    // only valid before constant folding
bool is_elementwise_unary(Op op);           // Relu, LeakyRelu, Clip, Sigmoid, HardSigmoid, HardSwish
bool is_elementwise_binary(Op op);          // Add, Sub, Mul, Div (numpy broadcasting)

}  // namespace crowdrt::ir
