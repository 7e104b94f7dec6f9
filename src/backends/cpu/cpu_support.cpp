#include "backends/cpu/cpu_support.h"

#include <algorithm>
#include <set>

#include "backends/cpu/cpu_layout.h"
#include "ir/op_params.h"

namespace crowdrt::cpu {
namespace {

using ir::Op;

int64_t rank_of(const ir::Graph& graph, ir::ValueId v) {
  const ir::Value& value = graph.value(v);
  return static_cast<int64_t>(value.is_constant() ? value.data->shape().size() : value.shape.size());
}

const Shape& shape_of(const ir::Graph& graph, ir::ValueId v) {
  const ir::Value& value = graph.value(v);
  return value.is_constant() ? value.data->shape() : value.shape;
}

bool is_constant(const ir::Graph& graph, ir::ValueId v) { return v != ir::kNoValue && graph.value(v).is_constant(); }

bool input_present(const ir::Node& node, size_t i) { return node.inputs.size() > i && node.inputs[i] != ir::kNoValue; }

// Numpy broadcasting of `shape` against the output, right-aligned: the shape the operand takes.
Shape aligned(const Shape& shape, size_t rank) {
  Shape out(rank - std::min(rank, shape.size()), 1);
  out.insert(out.end(), shape.begin(), shape.end());
  return out;
}

bool conv_supported(const ir::Graph& graph, const ir::Node& node, bool transposed) {
  if (node.inputs.size() < 2 || rank_of(graph, node.inputs[0]) != 4 || !is_constant(graph, node.inputs[1]) ||
      rank_of(graph, node.inputs[1]) != 4)
    return false;
  if (input_present(node, 2) && !is_constant(graph, node.inputs[2])) return false;
  const int64_t group = node.attrs.i("group", 1);
  const Shape& x = shape_of(graph, node.inputs[0]);
  const Shape& w = shape_of(graph, node.inputs[1]);
  if (group < 1 || x[1] % group != 0) return false;
  if (transposed) return w[0] == x[1] && !node.attrs.has("activation") && node.attrs.i("fused_add", 0) == 0;
  if (w[1] * group != x[1] || w[0] % group != 0) return false;
  if (!ir::epilogue_activation_kind(node.attrs.s("activation", ""))) return false;
  if (node.attrs.i("fused_add", 0) != 0)
    return input_present(node, 3) && shape_of(graph, node.inputs[3]) == graph.value(node.outputs[0]).shape;
  return true;
}

bool pool_supported(const ir::Graph& graph, const ir::Node& node) {
  if (rank_of(graph, node.inputs[0]) != 4) return false;
  if (node.op == Op::GlobalAveragePool) return true;
  if (node.op != Op::AveragePool || node.attrs.i("count_include_pad", 0) == 0) return true;
  // oneDNN divides by the whole kernel when it counts padding; ONNX clips a ceil_mode window to the given
  // padding, so the two differ exactly when ceil_mode needs padding beyond it.
  const Shape& x = shape_of(graph, node.inputs[0]);
  const Shape& y = graph.value(node.outputs[0]).shape;
  const auto kernel = node.attrs.ints("kernel_shape");
  const auto strides = node.attrs.ints("strides", {1, 1});
  const auto pads = node.attrs.ints("pads", {0, 0, 0, 0});
  if (kernel.size() != 2 || strides.size() != 2 || pads.size() != 4) return false;
  for (int axis = 0; axis < 2; ++axis)
    if (pool_padding_end(x[2 + axis], y[2 + axis], kernel[axis], strides[axis], pads[axis], pads[2 + axis]) >
        pads[2 + axis])
      return false;
  return true;
}

bool resize_supported(const ir::Graph& graph, const ir::Node& node) {
  const Shape& x = shape_of(graph, node.inputs[0]);
  const Shape& y = graph.value(node.outputs[0]).shape;
  return x.size() == 4 && y.size() == 4 && x[0] == y[0] && x[1] == y[1] && x[2] > 0 && x[3] > 0 &&
         node.attrs.floats("scales").size() == 4 && ir::resize_mode_from_name(node.attrs.s("mode", "nearest")) &&
         ir::coordinate_transform_from_name(node.attrs.s("coordinate_transformation_mode", "half_pixel")) &&
         ir::nearest_mode_from_name(node.attrs.s("nearest_mode", "round_prefer_floor"));
}

bool pad_supported(const ir::Graph& graph, const ir::Node& node) {
  const auto pads = node.attrs.ints("pads");
  const std::optional<ir::PadMode> mode = ir::pad_mode_from_name(node.attrs.s("mode", "constant"));
  const Shape& x = shape_of(graph, node.inputs[0]);
  if (x.size() != 4 || pads.size() != 8 || pads[0] != 0 || pads[1] != 0 || pads[4] != 0 || pads[5] != 0) return false;
  if (!mode) return false;
  // reflect and edge need something left to mirror after cropping
  for (int axis = 2; axis < 4; ++axis)
    if (x[axis] + std::min<int64_t>(pads[axis], 0) + std::min<int64_t>(pads[4 + axis], 0) <= 0 &&
        *mode != ir::PadMode::constant)
      return false;
  return true;
}

}  // namespace

int64_t pool_padding_end(int64_t in, int64_t out, int64_t kernel_extent, int64_t stride, int64_t pad_begin,
                         int64_t pad_end) {
  return std::max(pad_end, (out - 1) * stride + kernel_extent - in - pad_begin);
}

bool node_supported(const ir::Graph& graph, const ir::Node& node, Precision precision) {
  // bf16 and int8: Convs, where oneDNN has a kernel (cpu_conv_choice.cpp checks that, and falls back if not).
  if (precision == Precision::bf16 || precision == Precision::int8)
    return node.op == Op::Conv && node_supported(graph, node, Precision::fp32);
  if (precision != Precision::fp32 || ir::is_shape_op(node.op) || node.outputs.size() != 1 || node.inputs.empty())
    return false;
  for (ir::ValueId v : node.inputs) {
    if (v == ir::kNoValue) continue;
    const ir::Value& value = graph.value(v);
    if (value.dtype != DType::f32 || (!value.is_constant() && !value.shape_known)) return false;
    if (value.is_constant() && value.data->dtype() != DType::f32) return false;
  }
  const ir::Value& out = graph.value(node.outputs[0]);
  if (out.dtype != DType::f32 || !out.shape_known || out.shape.empty() || out.shape.size() > 6) return false;
  if (node.inputs[0] == ir::kNoValue) return false;
  switch (node.op) {
    case Op::Conv: return conv_supported(graph, node, false);
    case Op::ConvTranspose: return conv_supported(graph, node, true);
    case Op::BatchNormalization: {
      if (node.inputs.size() != 5 || rank_of(graph, node.inputs[0]) < 2 || rank_of(graph, node.inputs[0]) > 5)
        return false;
      const int64_t channels = shape_of(graph, node.inputs[0])[1];
      for (size_t i = 1; i < 5; ++i)
        if (!is_constant(graph, node.inputs[i]) || graph.constant(node.inputs[i]).numel() != channels) return false;
      return true;
    }
    case Op::Relu: case Op::LeakyRelu: case Op::Clip: case Op::Sigmoid: case Op::HardSigmoid: case Op::HardSwish:
    case Op::Identity:
      return shape_of(graph, node.inputs[0]) == out.shape;
    case Op::Add: case Op::Sub: case Op::Mul: case Op::Div: {
      if (node.inputs.size() != 2 || node.inputs[1] == ir::kNoValue) return false;
      const Shape a = aligned(shape_of(graph, node.inputs[0]), out.shape.size());
      const Shape b = aligned(shape_of(graph, node.inputs[1]), out.shape.size());
      return a.size() == out.shape.size() && b.size() == out.shape.size() && (a == out.shape || b == out.shape);
    }
    case Op::Concat: {
      const int64_t axis = node.attrs.i("axis", 0);
      for (ir::ValueId v : node.inputs)
        if (v == ir::kNoValue || rank_of(graph, v) != static_cast<int64_t>(out.shape.size())) return false;
      return axis >= 0 && axis < static_cast<int64_t>(out.shape.size());
    }
    case Op::MaxPool: case Op::AveragePool: case Op::GlobalAveragePool: return pool_supported(graph, node);
    case Op::ReduceMean: {
      const int64_t rank = rank_of(graph, node.inputs[0]);
      for (int64_t axis : node.attrs.ints("axes"))
        if (axis < 0 || axis >= rank) return false;
      return rank <= 6;
    }
    case Op::Resize: return resize_supported(graph, node);
    case Op::Pad: return pad_supported(graph, node);
    default: return false;
  }
}

bool concat_can_be_in_place(const ir::Graph& graph, const ir::Node& concat) {
  if (concat.op != Op::Concat || concat.attrs.i("axis", 0) != 1 || concat.outputs.size() != 1) return false;
  const ir::Value& out = graph.value(concat.outputs[0]);
  if (!out.shape_known || out.shape.size() != 4 || out.shape[0] != 1 || out.dtype != DType::f32) return false;
  const std::vector<int> producers = graph.producers();
  const std::vector<int> uses = graph.use_counts();
  const auto& outputs = graph.outputs();
  static const std::set<Op> kWritesBlocked = {Op::Conv, Op::ConvTranspose, Op::BatchNormalization, Op::Relu,
                                              Op::LeakyRelu, Op::Clip, Op::Sigmoid, Op::HardSigmoid, Op::HardSwish,
                                              Op::Identity, Op::Add, Op::Sub, Op::Mul, Op::Div, Op::MaxPool,
                                              Op::AveragePool, Op::GlobalAveragePool, Op::Resize, Op::Pad};
  std::set<ir::ValueId> seen;
  for (size_t i = 0; i < concat.inputs.size(); ++i) {
    const ir::ValueId v = concat.inputs[i];
    if (v == ir::kNoValue || graph.value(v).is_constant() || producers[v] < 0 || uses[v] != 1 ||
        !seen.insert(v).second || std::find(outputs.begin(), outputs.end(), v) != outputs.end())
      return false;
    const ir::Node& producer = graph.nodes()[producers[v]];
    if (!kWritesBlocked.count(producer.op) || !node_supported(graph, producer, Precision::fp32)) return false;
    const Shape& shape = graph.value(v).shape;
    if (shape.size() != 4 || shape[0] != 1 || shape[2] != out.shape[2] || shape[3] != out.shape[3]) return false;
    // every input but the last must end on a block boundary, so the next one starts on one
    if (i + 1 < concat.inputs.size() && shape[1] % kChannelBlock != 0) return false;
  }
  return !concat.inputs.empty();
}

}  // namespace crowdrt::cpu
