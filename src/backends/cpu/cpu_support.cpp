#include "backends/cpu/cpu_support.h"

#include <algorithm>
#include <set>

#include "backends/cpu/cpu_layout.h"
#include "backends/cpu/cpu_op_table.h"

namespace crowdrt::cpu {

const Shape& value_shape(const ir::Graph& graph, ir::ValueId v) {
  const ir::Value& value = graph.value(v);
  return value.is_constant() ? value.data->shape() : value.shape;
}

int64_t value_rank(const ir::Graph& graph, ir::ValueId v) { return static_cast<int64_t>(value_shape(graph, v).size()); }

bool is_constant_value(const ir::Graph& graph, ir::ValueId v) {
  return v != ir::kNoValue && graph.value(v).is_constant();
}

bool input_present(const ir::Node& node, size_t i) { return node.inputs.size() > i && node.inputs[i] != ir::kNoValue; }

int64_t pool_padding_end(int64_t in, int64_t out, int64_t kernel_extent, int64_t stride, int64_t pad_begin,
                         int64_t pad_end) {
  return std::max(pad_end, (out - 1) * stride + kernel_extent - in - pad_begin);
}

bool node_supported(const ir::Graph& graph, const ir::Node& node, Precision precision) {
  const OpEntry* entry = find_op(node.op);
  if (!entry) return false;
  // bf16 and int8: ops with such kernels (Conv), where oneDNN has one (cpu_conv_choice.cpp checks that, and
  // falls back if not).
  if (precision == Precision::bf16 || precision == Precision::int8)
    return entry->reduced_precision && node_supported(graph, node, Precision::fp32);
  if (precision != Precision::fp32 || node.outputs.size() != 1 || node.inputs.empty()) return false;
  for (ir::ValueId v : node.inputs) {
    if (v == ir::kNoValue) continue;
    const ir::Value& value = graph.value(v);
    if (value.dtype != DType::f32 || (!value.is_constant() && !value.shape_known)) return false;
    if (value.is_constant() && value.data->dtype() != DType::f32) return false;
  }
  const ir::Value& out = graph.value(node.outputs[0]);
  if (out.dtype != DType::f32 || !out.shape_known || out.shape.empty() || out.shape.size() > 6) return false;
  if (node.inputs[0] == ir::kNoValue) return false;
  return entry->supports(graph, node);
}

bool concat_can_be_in_place(const ir::Graph& graph, const ir::Node& concat) {
  if (concat.op != ir::Op::Concat || concat.attrs.i("axis", 0) != 1 || concat.outputs.size() != 1) return false;
  const ir::Value& out = graph.value(concat.outputs[0]);
  if (!out.shape_known || out.shape.size() != 4 || out.shape[0] != 1 || out.dtype != DType::f32) return false;
  const std::vector<int> producers = graph.producers();
  const std::vector<int> uses = graph.use_counts();
  const auto& outputs = graph.outputs();
  std::set<ir::ValueId> seen;
  for (size_t i = 0; i < concat.inputs.size(); ++i) {
    const ir::ValueId v = concat.inputs[i];
    if (v == ir::kNoValue || graph.value(v).is_constant() || producers[v] < 0 || uses[v] != 1 ||
        !seen.insert(v).second || std::find(outputs.begin(), outputs.end(), v) != outputs.end())
      return false;
    const ir::Node& producer = graph.nodes()[producers[v]];
    const OpEntry* entry = find_op(producer.op);
    if (!entry || !entry->writes_concat_slice || !node_supported(graph, producer, Precision::fp32)) return false;
    const Shape& shape = graph.value(v).shape;
    if (shape.size() != 4 || shape[0] != 1 || shape[2] != out.shape[2] || shape[3] != out.shape[3]) return false;
    // every input but the last must end on a block boundary, so the next one starts on one
    if (i + 1 < concat.inputs.size() && shape[1] % kChannelBlock != 0) return false;
  }
  return !concat.inputs.empty();
}

}  // namespace crowdrt::cpu
