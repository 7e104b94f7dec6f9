// The model around the nodes: opset and IR version, initializers, typed inputs and outputs, and ONNX's
// checker plus its strict shape inference as the last word on whether the file is valid.
#include "onnx/export.h"

#include <onnx/checker.h>
#include <onnx/shape_inference/implementation.h>

#include "core/file.h"
#include "onnx/export_rules.h"

namespace crowdrt::onnx_export {
namespace {

int onnx_type(DType dtype) {
  switch (dtype) {
    case DType::i64: return onnx::TensorProto::INT64;
    case DType::i32: return onnx::TensorProto::INT32;
    case DType::i8: return onnx::TensorProto::INT8;
    case DType::u8: return onnx::TensorProto::UINT8;
    case DType::boolean: return onnx::TensorProto::BOOL;
    default: return onnx::TensorProto::FLOAT;  // every float type is written as float32
  }
}

void fill_tensor(onnx::TensorProto& proto, const std::string& name, const Tensor& tensor) {
  proto.set_name(name);
  for (int64_t d : tensor.shape()) proto.add_dims(d);
  const int type = onnx_type(tensor.dtype());
  proto.set_data_type(type);
  // raw_data is little-endian (onnx.proto); so is every machine crowdrt builds for.
  const auto set_raw = [&](const Tensor& t) {
    proto.set_raw_data(std::string(reinterpret_cast<const char*>(t.raw()), t.bytes()));
  };
  if (type == onnx::TensorProto::FLOAT && tensor.dtype() != DType::f32) set_raw(tensor.cast(DType::f32));
  else set_raw(tensor);
}

void describe_value(onnx::ValueInfoProto& info, const ir::Value& value) {
  info.set_name(value.name);
  onnx::TypeProto_Tensor& t = *info.mutable_type()->mutable_tensor_type();
  t.set_elem_type(onnx_type(value.dtype));
  for (int64_t d : value.shape) t.mutable_shape()->add_dim()->set_dim_value(d);
}

// ONNX's checker validates structure; strict shape inference also catches attribute/weight mismatches
// (ONNX's check_model(full_check=True)). Run on a copy whose large weights carry dims but no bytes.
void check(const onnx::ModelProto& model) {
  onnx::ModelProto light = model;
  for (onnx::TensorProto& t : *light.mutable_graph()->mutable_initializer())
    if (t.raw_data().size() > 4096) t.clear_raw_data();
  try {
    onnx::checker::check_model(model);
    onnx::ShapeInferenceOptions options{true, 1, false};
    onnx::shape_inference::InferShapes(light, onnx::OpSchemaRegistry::Instance(), options);
  } catch (const std::exception& e) {
    throw Error(cat("ONNX export produced a model that ONNX rejects (a crowdrt bug; please report it): ", e.what()));
  }
}

}  // namespace

int64_t ir_version_for_opset(int opset) {
  if (opset <= 11) return 6;
  if (opset <= 14) return 7;
  return 8;
}

std::string OnnxGraphWriter::add_floats(const std::string& name, const std::vector<float>& values, const Shape& dims) {
  fill_tensor(*proto_.add_initializer(), name, Tensor::from<float>(dims, std::span<const float>(values)));
  return name;
}

std::string OnnxGraphWriter::add_int64s(const std::string& name, const std::vector<int64_t>& values,
                                        const Shape& dims) {
  fill_tensor(*proto_.add_initializer(), name, Tensor::from<int64_t>(dims, std::span<const int64_t>(values)));
  return name;
}

onnx::NodeProto& OnnxGraphWriter::add_node(const std::string& op_type, const std::string& name,
                                           const std::vector<std::string>& inputs,
                                           const std::vector<std::string>& outputs) {
  onnx::NodeProto& n = *proto_.add_node();
  n.set_op_type(op_type);
  n.set_name(name);
  for (const std::string& i : inputs) n.add_input(i);
  for (const std::string& o : outputs) n.add_output(o);
  return n;
}

onnx::ModelProto export_onnx(const ir::Graph& graph, const ExportOptions& options) {
  if (options.opset < kOldestExportOpset || options.opset > kNewestExportOpset)
    throw Error(cat("ONNX export: opset ", options.opset, " is not one crowdrt writes; choose ", kOldestExportOpset,
                    " to ", kNewestExportOpset));
  graph.validate();
  onnx::ModelProto model;
  model.set_ir_version(ir_version_for_opset(options.opset));
  model.set_producer_name(options.producer);
  model.set_producer_version(CROWDRT_VERSION);
  onnx::OperatorSetIdProto& opset = *model.add_opset_import();
  opset.set_domain("");
  opset.set_version(options.opset);
  onnx::GraphProto& proto = *model.mutable_graph();
  proto.set_name(options.graph_name);

  const std::vector<int> uses = graph.use_counts();
  for (size_t v = 0; v < graph.value_count(); ++v) {
    const ir::Value& value = graph.value(static_cast<ir::ValueId>(v));
    if (!value.is_constant() && !value.shape_known && uses[v] > 0)
      throw Error(cat("ONNX export: value '", value.name, "' has no known shape; run shape inference first"));
    if (value.is_constant() && uses[v] > 0) fill_tensor(*proto.add_initializer(), value.name, *value.data);
  }
  for (ir::ValueId v : graph.inputs()) describe_value(*proto.add_input(), graph.value(v));
  for (ir::ValueId v : graph.outputs()) describe_value(*proto.add_output(), graph.value(v));

  OnnxGraphWriter writer(graph, proto, options.opset);
  for (const ir::Node& node : graph.nodes()) export_node(node, writer);
  check(model);
  return model;
}

void write_onnx(const ir::Graph& graph, const std::string& path, const ExportOptions& options) {
  const onnx::ModelProto model = export_onnx(graph, options);
  std::string bytes;
  if (!model.SerializeToString(&bytes))
    throw Error(cat(path, ": the ONNX model could not be serialised (over protobuf's 2 GB limit?)"));
  write_file_atomic(path, std::span<const std::byte>(reinterpret_cast<const std::byte*>(bytes.data()), bytes.size()));
}

}  // namespace crowdrt::onnx_export
