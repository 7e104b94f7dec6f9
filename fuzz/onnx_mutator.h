// Our own structure-aware mutator for ONNX models (libFuzzer's LLVMFuzzerCustomMutator): the bytes are parsed as
// a ModelProto, one to three of its fields are changed the way a damaged or hostile model differs from a good
// one (dimensions, attribute values, which value a node reads or writes, nodes dropped or repeated, initializer
// shapes and data, op types, opsets, element types), and the model is serialised again. One mutation in four is
// libFuzzer's own byte mutation instead, for the raw protobuf path; input that does not parse becomes a seed.
#pragma once
#include <onnx/onnx_pb.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "mutant.h"
#include "onnx_seeds.h"


namespace crowdrt::fuzz {

class OnnxMutator {
 public:
  explicit OnnxMutator(unsigned seed) : rng_(seed) {}

  size_t mutate(uint8_t* data, size_t size, size_t max_size) {
    if (pick(4) == 0) return LLVMFuzzerMutate(data, size, max_size);
    onnx::ModelProto model;
    if (size == 0 || !model.ParseFromArray(data, static_cast<int>(size)) || !model.has_graph()) {
      const auto seeds = onnx_seeds();
      model = seeds[pick(seeds.size())].second;
    }
    for (size_t n = 1 + pick(3); n > 0; --n) mutate_once(model);
    return write_mutant(model.SerializeAsString(), data, size, max_size);
  }

 private:
  size_t pick(size_t n) { return n == 0 ? 0 : std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }

  int64_t interesting_int() {
    static const int64_t values[] = {0, 1, 2, 3, 4, 5, 7, 8, 16, 32, 64, -1, -2, -3, 1 << 16, int64_t{1} << 31,
                                     int64_t{1} << 32, int64_t{1} << 40, (int64_t{1} << 62) + 4,
                                     std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::min()};
    return pick(3) == 0 ? static_cast<int64_t>(pick(40)) - 8 : values[pick(std::size(values))];
  }
  float interesting_float() {
    static const float values[] = {0.f, -0.f, 1.f, -1.f, 0.5f, 2.f, 1e-45f, 1e-38f, 3.4028235e38f, 1e30f,
                                   std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                                   std::numeric_limits<float>::quiet_NaN(), 1e6f, 0.1f};
    return values[pick(std::size(values))];
  }

  std::string some_value_name(const onnx::GraphProto& g) {
    std::vector<std::string> names{""};
    for (const auto& i : g.input()) names.push_back(i.name());
    for (const auto& t : g.initializer()) names.push_back(t.name());
    for (const auto& n : g.node())
      for (const auto& o : n.output()) names.push_back(o);
    names.push_back("no_such_value");
    return names[pick(names.size())];
  }

  void mutate_tensor(onnx::TensorProto& t) {
    switch (pick(5)) {
      case 0:
        if (t.dims_size() > 0) t.set_dims(static_cast<int>(pick(t.dims_size())), interesting_int());
        break;
      case 1: t.add_dims(interesting_int()); break;
      case 2:
        if (t.float_data_size() > 0) t.mutable_float_data()->RemoveLast();
        else if (t.int64_data_size() > 0) t.mutable_int64_data()->RemoveLast();
        else if (t.has_raw_data() && !t.raw_data().empty()) t.mutable_raw_data()->pop_back();
        break;
      case 3:
        if (t.float_data_size() > 0) t.set_float_data(static_cast<int>(pick(t.float_data_size())), interesting_float());
        else if (t.int64_data_size() > 0)
          t.set_int64_data(static_cast<int>(pick(t.int64_data_size())), interesting_int());
        break;
      case 4: {
        static const int types[] = {onnx::TensorProto::FLOAT, onnx::TensorProto::INT64, onnx::TensorProto::FLOAT16,
                                    onnx::TensorProto::UINT8, onnx::TensorProto::STRING, 0, 99};
        t.set_data_type(types[pick(std::size(types))]);
        break;
      }
    }
  }

  void mutate_attribute(onnx::NodeProto& node) {
    if (node.attribute_size() == 0 || pick(4) == 0) {  // add one that the ops read
      static const char* names[] = {"strides", "dilations", "pads", "kernel_shape", "group", "axis", "axes",
                                    "scales", "alpha", "min", "max", "epsilon", "output_padding", "auto_pad",
                                    "mode", "keepdims", "perm", "to", "ceil_mode"};
      auto* a = node.add_attribute();
      a->set_name(names[pick(std::size(names))]);
      switch (pick(4)) {
        case 0: a->set_type(onnx::AttributeProto::INT); a->set_i(interesting_int()); break;
        case 1:
          a->set_type(onnx::AttributeProto::INTS);
          for (size_t n = pick(5); n > 0; --n) a->add_ints(interesting_int());
          break;
        case 2: a->set_type(onnx::AttributeProto::FLOAT); a->set_f(interesting_float()); break;
        case 3:
          a->set_type(onnx::AttributeProto::FLOATS);
          for (size_t n = pick(5); n > 0; --n) a->add_floats(interesting_float());
          break;
      }
      return;
    }
    onnx::AttributeProto& a = *node.mutable_attribute(static_cast<int>(pick(node.attribute_size())));
    switch (a.type()) {
      case onnx::AttributeProto::INT: a.set_i(interesting_int()); break;
      case onnx::AttributeProto::FLOAT: a.set_f(interesting_float()); break;
      case onnx::AttributeProto::INTS:
        if (a.ints_size() > 0 && pick(3) != 0) a.set_ints(static_cast<int>(pick(a.ints_size())), interesting_int());
        else if (pick(2) == 0 && a.ints_size() > 0) a.mutable_ints()->RemoveLast();
        else a.add_ints(interesting_int());
        break;
      case onnx::AttributeProto::FLOATS:
        if (a.floats_size() > 0) a.set_floats(static_cast<int>(pick(a.floats_size())), interesting_float());
        else a.add_floats(interesting_float());
        break;
      case onnx::AttributeProto::STRING: {
        static const char* words[] = {"nearest", "linear", "cubic", "SAME_UPPER", "SAME_LOWER", "VALID", "NOTSET",
                                      "reflect", "edge", "constant", "asymmetric", "align_corners", ""};
        a.set_s(words[pick(std::size(words))]);
        break;
      }
      case onnx::AttributeProto::TENSOR: mutate_tensor(*a.mutable_t()); break;
      default: a.set_type(onnx::AttributeProto::INT); break;
    }
  }

  void mutate_once(onnx::ModelProto& model) {
    onnx::GraphProto& g = *model.mutable_graph();
    const int nodes = g.node_size();
    switch (pick(10)) {
      case 0: {  // a graph input's dimension
        if (g.input_size() == 0) break;
        auto* shape = g.mutable_input(static_cast<int>(pick(g.input_size())))
                          ->mutable_type()
                          ->mutable_tensor_type()
                          ->mutable_shape();
        if (shape->dim_size() == 0 || pick(6) == 0) shape->add_dim()->set_dim_value(interesting_int());
        else shape->mutable_dim(static_cast<int>(pick(shape->dim_size())))->set_dim_value(interesting_int());
        break;
      }
      case 1:
      case 2:
        if (nodes > 0) mutate_attribute(*g.mutable_node(static_cast<int>(pick(nodes))));
        break;
      case 3: {  // which value a node reads or writes
        if (nodes == 0) break;
        onnx::NodeProto& n = *g.mutable_node(static_cast<int>(pick(nodes)));
        const std::string name = some_value_name(g);
        if (pick(3) != 0 && n.input_size() > 0) n.set_input(static_cast<int>(pick(n.input_size())), name);
        else if (pick(2) == 0) n.add_input(name);
        else if (n.output_size() > 0) n.set_output(static_cast<int>(pick(n.output_size())), name);
        break;
      }
      case 4: {  // drop a node, or its last input
        if (nodes == 0) break;
        const int i = static_cast<int>(pick(nodes));
        if (pick(2) == 0 && g.node(i).input_size() > 0) {
          g.mutable_node(i)->mutable_input()->RemoveLast();
        } else {
          g.mutable_node()->SwapElements(i, nodes - 1);
          g.mutable_node()->RemoveLast();
        }
        break;
      }
      case 5:  // repeat a node (its output is then produced twice), or move one
        if (nodes == 0) break;
        if (pick(2) == 0) *g.add_node() = g.node(static_cast<int>(pick(nodes)));
        else g.mutable_node()->SwapElements(static_cast<int>(pick(nodes)), static_cast<int>(pick(nodes)));
        break;
      case 6:  // an initializer's shape or data
        if (g.initializer_size() > 0)
          mutate_tensor(*g.mutable_initializer(static_cast<int>(pick(g.initializer_size()))));
        break;
      case 7: {  // an op type
        if (nodes == 0) break;
        static const char* ops[] = {"Conv", "ConvTranspose", "Relu", "Add", "Concat", "MaxPool", "AveragePool",
                                    "Resize", "Pad", "BatchNormalization", "Reshape", "Slice", "Gather", "Squeeze",
                                    "Unsqueeze", "Transpose", "Expand", "ConstantOfShape", "Range", "Where",
                                    "Upsample", "Constant", "Identity", "Cast", "ReduceMean", "NoSuchOp"};
        g.mutable_node(static_cast<int>(pick(nodes)))->set_op_type(ops[pick(std::size(ops))]);
        break;
      }
      case 8: {  // an opset or an element type
        if (pick(2) == 0 && model.opset_import_size() > 0)
          model.mutable_opset_import(0)->set_version(6 + static_cast<int64_t>(pick(14)));
        else if (g.input_size() > 0)
          g.mutable_input(0)->mutable_type()->mutable_tensor_type()->set_elem_type(static_cast<int>(pick(17)));
        break;
      }
      case 9:  // a graph output
        if (g.output_size() > 0 && pick(2) == 0) g.mutable_output(0)->set_name(some_value_name(g));
        else g.add_output()->set_name(some_value_name(g));
        break;
    }
  }

  std::minstd_rand rng_;
};

}  // namespace crowdrt::fuzz
