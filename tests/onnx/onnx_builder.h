// Small ONNX models built in C++ with the protobuf API, for importer tests.
#pragma once
#include <onnx/onnx_pb.h>

#include <cstring>
#include <string>
#include <vector>

#include "onnx/import.h"

namespace crowdrt::test {

class OnnxBuilder {
 public:
  explicit OnnxBuilder(int opset = 13) {
    model_.set_ir_version(7);
    model_.set_producer_name("crowdrt-test");
    auto* id = model_.add_opset_import();
    id->set_domain("");
    id->set_version(opset);
    model_.mutable_graph()->set_name("test");
  }

  // Dimensions < 0 become a symbolic dimension "N".
  void input(const std::string& name, const Shape& dims, int elem_type = onnx::TensorProto::FLOAT) {
    describe(model_.mutable_graph()->add_input(), name, dims, elem_type);
  }
  void output(const std::string& name) { model_.mutable_graph()->add_output()->set_name(name); }

  onnx::TensorProto& initializer_f(const std::string& name, const Shape& dims, const std::vector<float>& values) {
    onnx::TensorProto& t = *model_.mutable_graph()->add_initializer();
    fill_float(t, name, dims, values);
    return t;
  }
  onnx::TensorProto& initializer_i(const std::string& name, const Shape& dims, const std::vector<int64_t>& values) {
    onnx::TensorProto& t = *model_.mutable_graph()->add_initializer();
    fill_int64(t, name, dims, values);
    return t;
  }
  onnx::TensorProto& initializer_raw(const std::string& name, const Shape& dims, int data_type, const void* bytes,
                                     size_t size) {
    onnx::TensorProto& t = *model_.mutable_graph()->add_initializer();
    t.set_name(name);
    t.set_data_type(data_type);
    for (int64_t d : dims) t.add_dims(d);
    t.set_raw_data(std::string(static_cast<const char*>(bytes), size));
    return t;
  }

  onnx::NodeProto& node(const std::string& op, const std::vector<std::string>& inputs,
                        const std::vector<std::string>& outputs, const std::string& name = "") {
    onnx::NodeProto& n = *model_.mutable_graph()->add_node();
    n.set_op_type(op);
    n.set_name(name.empty() ? "/" + op + "_" + std::to_string(model_.graph().node_size()) : name);
    for (const auto& i : inputs) n.add_input(i);
    for (const auto& o : outputs) n.add_output(o);
    return n;
  }

  // A Constant node holding int64 or float values (a 1-D tensor, or a scalar when dims is empty).
  void constant_i(const std::string& name, const Shape& dims, const std::vector<int64_t>& values) {
    fill_int64(*tensor_attr(node("Constant", {}, {name}, "const_" + name), "value"), "", dims, values);
  }
  void constant_f(const std::string& name, const Shape& dims, const std::vector<float>& values) {
    fill_float(*tensor_attr(node("Constant", {}, {name}, "const_" + name), "value"), "", dims, values);
  }

  static void attr_i(onnx::NodeProto& n, const std::string& name, int64_t v) {
    auto* a = add_attr(n, name, onnx::AttributeProto::INT);
    a->set_i(v);
  }
  static void attr_f(onnx::NodeProto& n, const std::string& name, float v) {
    auto* a = add_attr(n, name, onnx::AttributeProto::FLOAT);
    a->set_f(v);
  }
  static void attr_s(onnx::NodeProto& n, const std::string& name, const std::string& v) {
    auto* a = add_attr(n, name, onnx::AttributeProto::STRING);
    a->set_s(v);
  }
  static void attr_ints(onnx::NodeProto& n, const std::string& name, const std::vector<int64_t>& v) {
    auto* a = add_attr(n, name, onnx::AttributeProto::INTS);
    for (int64_t x : v) a->add_ints(x);
  }
  static void attr_floats(onnx::NodeProto& n, const std::string& name, const std::vector<float>& v) {
    auto* a = add_attr(n, name, onnx::AttributeProto::FLOATS);
    for (float x : v) a->add_floats(x);
  }
  static onnx::TensorProto* tensor_attr(onnx::NodeProto& n, const std::string& name) {
    return add_attr(n, name, onnx::AttributeProto::TENSOR)->mutable_t();
  }

  onnx::ModelProto& model() { return model_; }

  std::vector<std::byte> bytes() const {
    const std::string s = model_.SerializeAsString();
    std::vector<std::byte> out(s.size());
    std::memcpy(out.data(), s.data(), s.size());
    return out;
  }

  ir::Graph import(const onnx_import::ImportOptions& options = {}) const {
    return onnx_import::import_onnx_bytes(bytes(), "model.onnx", options);
  }

 private:
  static void describe(onnx::ValueInfoProto* v, const std::string& name, const Shape& dims, int elem_type) {
    v->set_name(name);
    auto* tensor = v->mutable_type()->mutable_tensor_type();
    tensor->set_elem_type(elem_type);
    auto* shape = tensor->mutable_shape();
    for (int64_t d : dims) {
      if (d < 0) shape->add_dim()->set_dim_param("N");
      else shape->add_dim()->set_dim_value(d);
    }
  }
  static onnx::AttributeProto* add_attr(onnx::NodeProto& n, const std::string& name,
                                        onnx::AttributeProto::AttributeType type) {
    auto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(type);
    return a;
  }
  static void fill_float(onnx::TensorProto& t, const std::string& name, const Shape& dims,
                         const std::vector<float>& v) {
    t.set_name(name);
    t.set_data_type(onnx::TensorProto::FLOAT);
    for (int64_t d : dims) t.add_dims(d);
    for (float x : v) t.add_float_data(x);
  }
  static void fill_int64(onnx::TensorProto& t, const std::string& name, const Shape& dims,
                         const std::vector<int64_t>& v) {
    t.set_name(name);
    t.set_data_type(onnx::TensorProto::INT64);
    for (int64_t d : dims) t.add_dims(d);
    for (int64_t x : v) t.add_int64_data(x);
  }

  onnx::ModelProto model_;
};

}  // namespace crowdrt::test
