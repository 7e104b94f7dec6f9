// ONNX ModelProto → IR graph. Operator semantics per the ONNX operator docs (opsets 7 to 18); rules that
// differ between opsets (Upsample, Resize 10, Clip and Pad attributes before 11) are resolved here, the rest
// is left in ONNX form for ir::fold_constants to evaluate and canonicalise.
#include "onnx/import.h"

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <climits>
#include <limits>
#include <set>

#include "core/file.h"
#include "ir/validate.h"
#include "onnx/tensor_proto.h"

namespace crowdrt::onnx_import {
namespace {

constexpr int kOldestOpset = 7;
constexpr int kNewestOpset = 18;

// ONNX op types the importer turns into something other than the IR op of the same name.
bool is_import_only_op(const std::string& type) { return type == "Constant" || type == "Upsample"; }

std::string supported_op_list() {
  std::string list;
  for (const ir::OpInfo& row : ir::op_table()) list += cat(list.empty() ? "" : ", ", row.name);
  return list + ", Constant, Upsample";
}

std::string node_label(const onnx::NodeProto& node) {
  return node.name().empty() ? cat(node.op_type(), " producing '", node.output_size() ? node.output(0) : "", "'")
                             : node.name();
}

ir::Attr attr_from_proto(const onnx::AttributeProto& a, const std::string& where) {
  switch (a.type()) {
    case onnx::AttributeProto::INT: return a.i();
    case onnx::AttributeProto::FLOAT: return a.f();
    case onnx::AttributeProto::STRING: return a.s();
    case onnx::AttributeProto::INTS: return std::vector<int64_t>(a.ints().begin(), a.ints().end());
    case onnx::AttributeProto::FLOATS: return std::vector<float>(a.floats().begin(), a.floats().end());
    default: break;
  }
  throw Error(cat(where, ": attribute '", a.name(), "' has type ",
                  onnx::AttributeProto::AttributeType_Name(a.type()), ", which crowdrt does not read"));
}

class Importer {
 public:
  Importer(const onnx::ModelProto& model, std::string what, const ImportOptions& options)
      : model_(model), what_(std::move(what)), options_(options) {}

  ir::Graph run() {
    opset_ = default_domain_opset();
    check_operators_supported();
    import_initializers();
    import_inputs();
    // Values first, so that nodes listed out of order (invalid ONNX, but seen in the wild) still import
    // and sort_topologically puts them in order.
    for (const onnx::NodeProto& node : model_.graph().node()) declare_outputs(node);
    for (const onnx::NodeProto& node : model_.graph().node())
      if (node.op_type() != "Constant") import_node(node);
    import_outputs();
    try {
      graph_.sort_topologically();
      graph_.validate();
    } catch (const Error& e) {
      throw Error(cat(what_, ": ", e.what()));
    }
    ir::validate_graph(graph_, ir::GraphForm::imported, what_);
    return std::move(graph_);
  }

 private:
  int default_domain_opset() const {
    for (const onnx::OperatorSetIdProto& id : model_.opset_import())
      if (id.domain().empty() || id.domain() == "ai.onnx") {
        const int64_t v = id.version();
        if (v < kOldestOpset || v > kNewestOpset)
          throw Error(cat(what_, ": opset ", v, " is outside what crowdrt reads (", kOldestOpset, " to ", kNewestOpset,
                          "); export with opset_version between 11 and 17"));
        return static_cast<int>(v);
      }
    throw Error(cat(what_, ": the model imports no ai.onnx opset; it is not a model crowdrt can read"));
  }

  // One error that names every unsupported op type once, with the first node of each, so that the user
  // sees the whole list at once instead of fixing one op per run.
  void check_operators_supported() const {
    std::vector<std::pair<std::string, std::string>> unsupported;  // (type, first node), in model order
    for (const onnx::NodeProto& node : model_.graph().node()) {
      ir::Op op;
      const bool default_domain = node.domain().empty() || node.domain() == "ai.onnx";
      const std::string type = default_domain ? node.op_type() : node.domain() + "." + node.op_type();
      const bool known = default_domain && (ir::op_from_name(node.op_type(), &op) || is_import_only_op(type));
      if (known) continue;
      if (std::none_of(unsupported.begin(), unsupported.end(), [&](const auto& u) { return u.first == type; }))
        unsupported.emplace_back(type, node_label(node));
    }
    if (unsupported.empty()) return;
    std::string list;
    for (const auto& [type, node] : unsupported) list += cat(list.empty() ? "" : ", ", type, " (node ", node, ")");
    throw Error(cat(what_, ": unsupported operators: ", list, "; crowdrt supports: ", supported_op_list()));
  }

  void import_initializers() {
    if (model_.graph().sparse_initializer_size() > 0)
      throw Error(cat(what_, ": sparse initializers are not supported; store the weights as dense tensors"));
    for (const onnx::TensorProto& t : model_.graph().initializer()) {
      if (graph_.find_value(t.name()) != ir::kNoValue)
        throw Error(cat(what_, ": initializer '", t.name(), "' is defined twice"));
      graph_.add_constant(t.name(), tensor_from_proto(t, cat(what_, ": initializer '", t.name(), "'")));
    }
  }

  void import_inputs() {
    std::vector<std::string> runtime_inputs;  // graph inputs that are not initializers
    for (const onnx::ValueInfoProto& input : model_.graph().input())
      if (graph_.find_value(input.name()) == ir::kNoValue) runtime_inputs.push_back(input.name());
    for (const auto& [name, shape] : options_.input_shapes)
      if (std::find(runtime_inputs.begin(), runtime_inputs.end(), name) == runtime_inputs.end()) {
        std::string names;
        for (const std::string& n : runtime_inputs) names += cat(names.empty() ? "" : ", ", n);
        throw Error(cat(what_, ": a shape is given for '", name,
                        "', which is not an input of the model; its inputs are: ", names));
      }
    for (const onnx::ValueInfoProto& input : model_.graph().input()) {
      if (graph_.find_value(input.name()) != ir::kNoValue) continue;  // an initializer: a constant
      const std::string where = cat(what_, ": input '", input.name(), "'");
      if (!input.type().has_tensor_type())
        throw Error(cat(where, " is not a tensor; crowdrt takes tensor inputs only"));
      const onnx::TypeProto::Tensor& type = input.type().tensor_type();
      const DType dtype = dtype_from_onnx(type.elem_type(), where);
      const Shape shape = input_shape(input.name(), type, where);
      graph_.inputs().push_back(graph_.add_value(input.name(), dtype, shape, true));
    }
  }

  Shape input_shape(const std::string& name, const onnx::TypeProto::Tensor& type, const std::string& where) const {
    auto override_it = options_.input_shapes.find(name);
    if (override_it != options_.input_shapes.end()) {
      const Shape& given = override_it->second;
      if (type.has_shape() && type.shape().dim_size() != static_cast<int>(given.size()))
        throw Error(cat(where, " has ", type.shape().dim_size(), " dimensions but the shape given for it, ",
                        shape_str(given), ", has ", given.size()));
      for (int64_t d : given)
        if (d <= 0) throw Error(cat(where, ": the shape given for it, ", shape_str(given), ", has a dimension <= 0"));
      return given;
    }
    if (!type.has_shape())
      throw Error(cat(where, " has no shape in the model; pass a fixed shape (e.g. --input-shape ", name,
                      ":1x3x608x608)"));
    Shape shape;
    std::string shown;
    bool dynamic = false;
    for (const onnx::TensorShapeProto::Dimension& d : type.shape().dim()) {
      const bool fixed = d.has_dim_value() && d.dim_value() > 0;
      dynamic |= !fixed;
      shape.push_back(fixed ? d.dim_value() : -1);
      shown += cat(shown.empty() ? "" : "x", fixed ? std::to_string(d.dim_value())
                                                   : (d.has_dim_param() ? d.dim_param() : std::string("?")));
    }
    if (dynamic)
      throw Error(cat(where, " has dynamic dimensions (", shown, "); pass a fixed shape (e.g. --input-shape ", name,
                      ":1x3x608x608)"));
    return shape;
  }

  ir::ValueId input_value(const std::string& name, const onnx::NodeProto& node) const {
    if (name.empty()) return ir::kNoValue;
    if (dropped_outputs_.count(name))
      throw Error(cat(what_, ": node ", node_label(node), " reads '", name, "', ", dropped_outputs_.at(name),
                      ", which crowdrt does not compute (export the model in inference mode)"));
    const ir::ValueId v = graph_.find_value(name);
    if (v == ir::kNoValue)
      throw Error(cat(what_, ": node ", node_label(node), " reads '", name,
                      "', which no node, input or initializer defines; the model is broken"));
    return v;
  }

  std::string unique_node_name(const onnx::NodeProto& node, const std::string& type) {
    std::string base = node.name().empty() ? cat(type, "_", node_names_.size()) : node.name();
    std::string name = base;
    for (int i = 1; node_names_.count(name); ++i) name = cat(base, "_", i);
    node_names_.insert(name);
    return name;
  }

  // Constant nodes become constants; other nodes get their first output as a value. Outputs past the first
  // are training statistics (BatchNormalization), indices (MaxPool) or masks: nothing in the IR computes
  // them, so reading one is an error.
  void declare_outputs(const onnx::NodeProto& node) {
    if (node.op_type() == "Constant") return import_constant(node, cat(what_, ": node ", node_label(node)));
    const std::string name = node.output_size() ? node.output(0) : "";
    if (name.empty()) throw Error(cat(what_, ": node ", node_label(node), " has no output"));
    if (graph_.find_value(name) != ir::kNoValue)
      throw Error(cat(what_, ": value '", name, "' is produced twice (node ", node_label(node),
                      "); the model is not valid SSA"));
    graph_.add_value(name);
    for (int i = 1; i < node.output_size(); ++i)
      if (!node.output(i).empty()) dropped_outputs_[node.output(i)] = cat("output ", i, " of ", node_label(node));
  }

  void import_node(const onnx::NodeProto& node) {
    const std::string where = cat(what_, ": node ", node_label(node));
    // Every op crowdrt reads takes at least one input (Constant is imported elsewhere); the rules below read it.
    if (node.input_size() == 0) throw Error(cat(where, ": ", node.op_type(), " has no inputs; the model is broken"));

    ir::Attributes attrs;
    for (const onnx::AttributeProto& a : node.attribute()) {
      if (node.op_type() == "ConstantOfShape" && a.name() == "value") continue;
      attrs.set(a.name(), attr_from_proto(a, where));
    }
    std::vector<ir::ValueId> inputs;
    for (const std::string& name : node.input()) inputs.push_back(input_value(name, node));

    ir::Op op = ir::Op::Resize;
    if (node.op_type() != "Upsample") ir::op_from_name(node.op_type(), &op);
    if (node.op_type() == "Upsample") upsample_to_resize(inputs, attrs, where);
    else if (op == ir::Op::Resize) resize_inputs_and_defaults(inputs, attrs, where);
    else if (op == ir::Op::Clip && opset_ < 11) clip_attributes_before_opset11(attrs);
    else if (op == ir::Op::Pad && opset_ < 11) pad_attributes_before_opset11(attrs, where);
    else if (op == ir::Op::ConstantOfShape) constant_of_shape_value(node, attrs, where);
    else if (op == ir::Op::LeakyRelu && !attrs.has("alpha")) attrs.set("alpha", 0.01f);
    else if (op == ir::Op::HardSigmoid) {
      attrs.set("alpha", attrs.f("alpha", 0.2f));
      attrs.set("beta", attrs.f("beta", 0.5f));
    } else if (op == ir::Op::BatchNormalization) attrs.set("epsilon", attrs.f("epsilon", 1e-5f));
    else if (op == ir::Op::Concat && !attrs.has("axis"))
      throw Error(cat(where, ": Concat has no axis attribute; the model is broken"));

    const ir::ValueId out = graph_.find_value(node.output(0));
    graph_.add_node(op, unique_node_name(node, node.op_type()), std::move(inputs), {out}, std::move(attrs));
  }

  void import_constant(const onnx::NodeProto& node, const std::string& where) {
    if (node.attribute_size() != 1) throw Error(cat(where, ": Constant needs exactly one value attribute"));
    const onnx::AttributeProto& a = node.attribute(0);
    Tensor value;
    if (a.name() == "value") value = tensor_from_proto(a.t(), where);
    else if (a.name() == "value_float") value = Tensor::from<float>({}, {a.f()});
    else if (a.name() == "value_int") value = Tensor::from<int64_t>({}, {a.i()});
    else if (a.name() == "value_floats")
      value = Tensor::from<float>({a.floats_size()}, std::span<const float>(a.floats().data(), a.floats_size()));
    else if (a.name() == "value_ints")
      value = Tensor::from<int64_t>({a.ints_size()}, std::span<const int64_t>(a.ints().data(), a.ints_size()));
    else
      throw Error(cat(where, ": Constant with attribute '", a.name(),
                      "' is not supported; crowdrt reads value, value_float(s) and value_int(s)"));
    const std::string& name = node.output_size() ? node.output(0) : "";
    if (name.empty() || graph_.find_value(name) != ir::kNoValue)
      throw Error(cat(where, ": Constant output '", name, "' is unnamed or defined twice"));
    graph_.add_constant(name, std::move(value));
  }

  // Upsample (opsets 7 to 9) is Resize with asymmetric coordinates and floor rounding; opset 7 gives the
  // scales as an attribute (already canonical), opset 9 as an input.
  void upsample_to_resize(std::vector<ir::ValueId>& inputs, ir::Attributes& attrs, const std::string& where) const {
    std::string mode = attrs.s("mode", "nearest");
    if (mode == "bilinear") mode = "linear";
    if (mode != "nearest" && mode != "linear")
      throw Error(cat(where, ": Upsample mode '", mode, "' is not supported; crowdrt supports nearest and linear"));
    ir::Attributes resize;
    resize.set("mode", mode);
    resize.set("coordinate_transformation_mode", std::string("asymmetric"));
    resize.set("nearest_mode", std::string("floor"));
    if (attrs.has("scales")) {
      resize.set("scales", attrs.floats("scales"));
      inputs.resize(1);
    } else {
      if (inputs.size() < 2 || inputs[1] == ir::kNoValue)
        throw Error(cat(where, ": Upsample has neither a scales attribute nor a scales input"));
      inputs = {inputs[0], ir::kNoValue, inputs[1]};
    }
    attrs = std::move(resize);
  }

  void resize_inputs_and_defaults(std::vector<ir::ValueId>& inputs, ir::Attributes& attrs,
                                  const std::string& where) const {
    const std::string mode = attrs.s("mode", "nearest");
    if (mode == "cubic")
      throw Error(cat(where, ": Resize mode 'cubic' is not supported; crowdrt supports nearest and linear "
                             "(use mode='bilinear' or 'nearest' in the model)"));
    if (mode != "nearest" && mode != "linear")
      throw Error(cat(where, ": Resize mode '", mode, "' is not supported; crowdrt supports nearest and linear"));
    if (attrs.i("antialias", 0) != 0 || attrs.has("axes") || attrs.has("keep_aspect_ratio_policy"))
      throw Error(cat(where, ": Resize with antialias, axes or keep_aspect_ratio_policy (opset 18) is not "
                             "supported; export with opset 17 or lower"));
    if (opset_ < 11) {  // Resize-10: inputs X, scales; ONNX Runtime maps coordinates asymmetrically
      inputs = {inputs.at(0), ir::kNoValue, inputs.size() > 1 ? inputs[1] : ir::kNoValue};
      attrs.set("coordinate_transformation_mode", std::string("asymmetric"));
      attrs.set("nearest_mode", std::string("floor"));
    }
    const std::string transform = attrs.s("coordinate_transformation_mode", "half_pixel");
    static const std::set<std::string> kTransforms = {"half_pixel", "pytorch_half_pixel", "align_corners",
                                                      "asymmetric", "tf_half_pixel_for_nearest"};
    if (!kTransforms.count(transform))
      throw Error(cat(where, ": Resize coordinate_transformation_mode '", transform,
                      "' is not supported; crowdrt supports half_pixel, pytorch_half_pixel, align_corners, "
                      "asymmetric and tf_half_pixel_for_nearest"));
    const std::string nearest = attrs.s("nearest_mode", "round_prefer_floor");
    static const std::set<std::string> kNearest = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};
    if (!kNearest.count(nearest))
      throw Error(cat(where, ": Resize nearest_mode '", nearest, "' is not one of round_prefer_floor, "
                             "round_prefer_ceil, floor, ceil"));
    ir::Attributes kept;
    kept.set("mode", mode);
    kept.set("coordinate_transformation_mode", transform);
    kept.set("nearest_mode", nearest);
    attrs = std::move(kept);
  }

  static void clip_attributes_before_opset11(ir::Attributes& attrs) {
    attrs.set("min", attrs.f("min", -std::numeric_limits<float>::infinity()));
    attrs.set("max", attrs.f("max", std::numeric_limits<float>::infinity()));
  }

  static void pad_attributes_before_opset11(ir::Attributes& attrs, const std::string& where) {
    if (!attrs.has("pads")) throw Error(cat(where, ": Pad has no pads attribute; the model is broken"));
    attrs.set("mode", attrs.s("mode", "constant"));
    attrs.set("value", attrs.f("value", 0.f));
  }

  // The value tensor of ConstantOfShape becomes two attributes, "value" (int or float) and "dtype"
  // (its ONNX data type code, as Cast's "to"), because IR attributes hold no tensors.
  static void constant_of_shape_value(const onnx::NodeProto& node, ir::Attributes& attrs, const std::string& where) {
    attrs.set("dtype", int64_t{onnx::TensorProto::FLOAT});
    attrs.set("value", 0.f);
    for (const onnx::AttributeProto& a : node.attribute()) {
      if (a.name() != "value") continue;
      const Tensor t = tensor_from_proto(a.t(), where);
      if (t.numel() != 1) throw Error(cat(where, ": ConstantOfShape value must hold one element"));
      attrs.set("dtype", int64_t{a.t().data_type()});
      const bool is_float = t.dtype() == DType::f32 || t.dtype() == DType::f16 || t.dtype() == DType::bf16 ||
                            t.dtype() == DType::f64;
      if (is_float) attrs.set("value", t.to_float()[0]);
      else attrs.set("value", t.to_int64()[0]);
    }
  }

  void import_outputs() {
    for (const onnx::ValueInfoProto& output : model_.graph().output()) {
      const ir::ValueId v = graph_.find_value(output.name());
      if (v == ir::kNoValue || dropped_outputs_.count(output.name()))
        throw Error(cat(what_, ": graph output '", output.name(), "' is not produced by any node crowdrt computes"));
      graph_.outputs().push_back(v);
    }
    if (graph_.outputs().empty()) throw Error(cat(what_, ": the model has no outputs"));
  }

  const onnx::ModelProto& model_;
  const std::string what_;
  const ImportOptions& options_;
  int opset_ = 0;
  ir::Graph graph_;
  std::set<std::string> node_names_;
  std::map<std::string, std::string> dropped_outputs_;  // name → which node output it was
};

}  // namespace

ir::Graph import_onnx_bytes(std::span<const std::byte> bytes, const std::string& what, const ImportOptions& options) {
  onnx::ModelProto model;
  if (bytes.size() > static_cast<size_t>(INT_MAX))
    throw Error(cat(what, ": model is larger than 2 GiB, the most protobuf parses in one piece"));
  if (bytes.empty() || !model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    throw Error(cat(what, ": not a valid ONNX model (protobuf parse failed); the file is damaged, truncated or "
                          "not an .onnx file"));
  if (!model.has_graph() || model.ir_version() <= 0 || model.graph().output_size() == 0)
    throw Error(cat(what, ": not a valid ONNX model (no graph, IR version or outputs); the file is damaged or "
                          "not an .onnx file"));
  return Importer(model, what, options).run();
}

ir::Graph import_onnx(const std::string& path, const ImportOptions& options) {
  const std::vector<std::byte> bytes = read_file(path);
  return import_onnx_bytes(bytes, path, options);
}

}  // namespace crowdrt::onnx_import
