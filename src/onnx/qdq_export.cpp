#include "onnx/qdq_export.h"

#include <onnx/checker.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>

#include "core/file.h"
#include "onnx/export.h"
#include "quant/scheme.h"

namespace crowdrt::onnx_export {
namespace {

constexpr int kQdqOpset = 13;  // per-channel (axis) QuantizeLinear / DequantizeLinear

void scalar_initializer(onnx::GraphProto& graph, const std::string& name, float value) {
  onnx::TensorProto& t = *graph.add_initializer();
  t.set_name(name);
  t.set_data_type(onnx::TensorProto::FLOAT);
  t.set_raw_data(std::string(reinterpret_cast<const char*>(&value), sizeof value));
}

void int8_initializer(onnx::GraphProto& graph, const std::string& name, const std::vector<int8_t>& values,
                      const Shape& dims) {
  onnx::TensorProto& t = *graph.add_initializer();
  t.set_name(name);
  for (int64_t d : dims) t.add_dims(d);
  t.set_data_type(onnx::TensorProto::INT8);
  t.set_raw_data(std::string(reinterpret_cast<const char*>(values.data()), values.size()));
}

void float_initializer(onnx::GraphProto& graph, const std::string& name, const std::vector<float>& values,
                       const Shape& dims) {
  onnx::TensorProto& t = *graph.add_initializer();
  t.set_name(name);
  for (int64_t d : dims) t.add_dims(d);
  t.set_data_type(onnx::TensorProto::FLOAT);
  t.set_raw_data(std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float)));
}

onnx::NodeProto make_node(const std::string& op, const std::string& name, std::vector<std::string> inputs,
                          const std::string& output, int64_t axis = -1) {
  onnx::NodeProto n;
  n.set_op_type(op);
  n.set_name(name);
  for (const std::string& i : inputs) n.add_input(i);
  n.add_output(output);
  if (axis >= 0) {
    onnx::AttributeProto& a = *n.add_attribute();
    a.set_name("axis");
    a.set_type(onnx::AttributeProto::INT);
    a.set_i(axis);
  }
  return n;
}

}  // namespace

onnx::ModelProto export_qdq_onnx(const ir::Graph& graph, const std::map<std::string, float>& activation_amax,
                                 const std::set<std::string>& keep_float, QdqResult* result) {
  ExportOptions options;
  options.opset = kQdqOpset;
  onnx::ModelProto model = export_onnx(graph, options);
  onnx::GraphProto& proto = *model.mutable_graph();
  QdqResult counts;

  // Which node inputs get a DQ'd tensor instead: activation name → its DQ output (one Q/DQ pair per tensor,
  // shared by all the Convs reading it), and per node, its weight's DQ output.
  std::map<std::string, std::string> activation_dq;
  std::map<std::string, std::string> weight_dq;  // node name → DQ output
  std::vector<onnx::NodeProto> inserted_before;  // all Q/DQ nodes; weights' and inputs' DQs go first
  for (const ir::Node& node : graph.nodes()) {
    if (node.op != ir::Op::Conv && node.op != ir::Op::ConvTranspose) continue;
    const std::string& x = graph.value(node.inputs[0]).name;
    const auto amax = activation_amax.find(x);
    const bool grouped_transpose = node.op == ir::Op::ConvTranspose && node.attrs.i("group", 1) != 1;
    if (keep_float.count(node.name) || amax == activation_amax.end() || !(amax->second > 0) || grouped_transpose ||
        !graph.value(node.inputs[1]).is_constant()) {
      ++counts.skipped_layers;
      continue;
    }
    ++counts.quantised_layers;
    if (!activation_dq.count(x)) {
      const std::string scale = x + "_scale", zero = x + "_zero_point", q = x + "_QuantizeLinear",
                        dq = x + "_DequantizeLinear";
      scalar_initializer(proto, scale, quant::activation_scale(amax->second));
      int8_initializer(proto, zero, {0}, {});
      inserted_before.push_back(make_node("QuantizeLinear", q, {x, scale, zero}, q + "_Output"));
      inserted_before.push_back(make_node("DequantizeLinear", dq, {q + "_Output", scale, zero}, dq + "_Output"));
      activation_dq[x] = dq + "_Output";
    }
    // Weights: per output channel, which is axis 0 for Conv (O, I, kh, kw) and axis 1 for ConvTranspose
    // (I, O, kh, kw).
    const Tensor weights = graph.constant(node.inputs[1]).cast(DType::f32);
    const Shape& dims = weights.shape();
    const int axis = node.op == ir::Op::Conv ? 0 : 1;
    const int64_t channels = dims.at(axis);
    const int64_t inner = std::accumulate(dims.begin() + axis + 1, dims.end(), int64_t{1}, std::multiplies<>());
    const int64_t outer = weights.numel() / (channels * inner);
    const float* w = weights.data<float>();
    const std::vector<float> scales = quant::weight_scales(weights, axis);
    std::vector<int8_t> quantised(weights.numel());
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t c = 0; c < channels; ++c)
        for (int64_t i = 0; i < inner; ++i) {
          const int64_t k = (o * channels + c) * inner + i;
          quantised[k] = quant::quantise_weight(w[k], scales[c]);
        }
    const std::string base = node.name + "_weight";
    int8_initializer(proto, base + "_quantized", quantised, dims);
    float_initializer(proto, base + "_scale", scales, {channels});
    int8_initializer(proto, base + "_zero_point", std::vector<int8_t>(channels, 0), {channels});
    inserted_before.push_back(make_node("DequantizeLinear", base + "_DequantizeLinear",
                                        {base + "_quantized", base + "_scale", base + "_zero_point"},
                                        base + "_DequantizeLinear_Output", axis));
    weight_dq[node.name] = base + "_DequantizeLinear_Output";
  }

  // Rewire the Convs, then put each Q/DQ node right before its first reader (the graph stays topologically
  // sorted: a Q reads a value produced earlier).
  std::vector<onnx::NodeProto> nodes(proto.node().begin(), proto.node().end());
  proto.clear_node();
  std::map<std::string, const onnx::NodeProto*> producer_of_dq;
  for (const onnx::NodeProto& n : inserted_before) producer_of_dq[n.output(0)] = &n;
  std::set<std::string> emitted;
  std::function<void(const std::string&)> emit_dq = [&](const std::string& value) {
    const auto it = producer_of_dq.find(value);
    if (it == producer_of_dq.end() || emitted.count(value)) return;
    for (const std::string& in : it->second->input()) emit_dq(in);
    *proto.add_node() = *it->second;
    emitted.insert(value);
  };
  for (onnx::NodeProto& n : nodes) {
    if (n.op_type() == "Conv" || n.op_type() == "ConvTranspose") {
      if (auto w = weight_dq.find(n.name()); w != weight_dq.end()) {
        n.set_input(1, w->second);
        if (auto x = activation_dq.find(n.input(0)); x != activation_dq.end()) n.set_input(0, x->second);
      }
    }
    for (const std::string& in : n.input()) emit_dq(in);
    *proto.add_node() = n;
  }
  // The float weights the DQs replaced are no longer read.
  std::set<std::string> read;
  for (const onnx::NodeProto& n : proto.node())
    for (const std::string& in : n.input()) read.insert(in);
  auto* initializers = proto.mutable_initializer();
  initializers->erase(std::remove_if(initializers->begin(), initializers->end(),
                                     [&](const onnx::TensorProto& t) { return !read.count(t.name()); }),
                      initializers->end());
  try {
    onnx::checker::check_model(model);
  } catch (const std::exception& e) {
    throw Error(cat("QDQ export produced a model that ONNX rejects (a crowdrt bug; please report it): ", e.what()));
  }
  if (result) *result = counts;
  return model;
}

QdqResult write_qdq_onnx(const ir::Graph& graph, const std::map<std::string, float>& activation_amax,
                         const std::set<std::string>& keep_float, const std::string& path) {
  QdqResult result;
  const onnx::ModelProto model = export_qdq_onnx(graph, activation_amax, keep_float, &result);
  std::string bytes;
  if (!model.SerializeToString(&bytes))
    throw Error(cat(path, ": the QDQ ONNX model could not be serialised (over protobuf's 2 GB limit?)"));
  write_file_atomic(path, std::span<const std::byte>(reinterpret_cast<const std::byte*>(bytes.data()), bytes.size()));
  return result;
}

}  // namespace crowdrt::onnx_export
