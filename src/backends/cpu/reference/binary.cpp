// Add, Sub, Mul, Div with numpy broadcasting (ONNX multidirectional broadcasting), any rank up to 6:
// shapes are right-aligned, and a dimension of 1 repeats along the other operand's dimension.
#include "backends/cpu/reference/reference_kernels.h"
#include "backends/cpu/reference/reference_op_table.h"

namespace crowdrt::reference {
namespace {

constexpr size_t kMaxRank = 6;

// Strides of `shape` right-aligned to `rank` dimensions, 0 where the dimension is broadcast.
std::vector<int64_t> broadcast_strides(const Shape& shape, const Shape& out) {
  std::vector<int64_t> strides(out.size(), 0);
  int64_t stride = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    const size_t d = shape.size() - 1 - i, od = out.size() - 1 - i;
    if (shape[d] != 1) strides[od] = stride;
    stride *= shape[d];
  }
  return strides;
}

float apply(ir::Op op, float a, float b) {
  switch (op) {
    case ir::Op::Add: return a + b;
    case ir::Op::Sub: return a - b;
    case ir::Op::Mul: return a * b;
    case ir::Op::Div: return a / b;
    default: throw Error(cat(ir::op_name(op), " is not a binary element-wise op"));
  }
}

}  // namespace

void binary(ir::Op op, const Tensor& a, const Tensor& b, Tensor& output) {
  const Shape& sa = a.shape();
  const Shape& sb = b.shape();
  const size_t rank = std::max(sa.size(), sb.size());
  if (rank > kMaxRank) throw Error(cat(ir::op_name(op), " supports rank up to ", kMaxRank, ", got ", rank));
  Shape out(rank);
  for (size_t i = 0; i < rank; ++i) {
    const int64_t da = i < sa.size() ? sa[sa.size() - 1 - i] : 1;
    const int64_t db = i < sb.size() ? sb[sb.size() - 1 - i] : 1;
    if (da != db && da != 1 && db != 1)
      throw Error(cat(ir::op_name(op), " cannot broadcast ", shape_str(sa), " with ", shape_str(sb)));
    out[rank - 1 - i] = da == 1 ? db : da;
  }
  require_output_shape(output, out);
  apply(op, 0.f, 1.f);  // rejects a non-binary op before the loop

  const std::vector<int64_t> stride_a = broadcast_strides(sa, out), stride_b = broadcast_strides(sb, out);
  const float* ad = a.data<float>();
  const float* bd = b.data<float>();
  float* yd = output.data<float>();
  // Walk the output in order with an odometer over its dimensions, moving both input offsets along.
  std::vector<int64_t> index(rank, 0);
  int64_t offset_a = 0, offset_b = 0;
  for (int64_t i = 0; i < output.numel(); ++i) {
    yd[i] = apply(op, ad[offset_a], bd[offset_b]);
    for (size_t d = rank; d-- > 0;) {
      ++index[d];
      offset_a += stride_a[d];
      offset_b += stride_b[d];
      if (index[d] < out[d]) break;
      offset_a -= stride_a[d] * out[d];
      offset_b -= stride_b[d] * out[d];
      index[d] = 0;
    }
  }
}

// The op table's entry (reference_op_table.cpp).
OpEntry binary_entry(ir::Op op) {
  return {op, [](const ir::Node& node, Inputs inputs, Tensor& output) {
            binary(node.op, required_input(inputs, 0, node.op), required_input(inputs, 1, node.op), output);
          }};
}

}  // namespace crowdrt::reference
