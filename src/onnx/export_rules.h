// How each IR op is written as ONNX nodes at a given opset (export_rules.cpp), and the writer it writes into.
#pragma once
#include <onnx/onnx_pb.h>

#include <string>
#include <vector>

#include "ir/graph.h"

namespace crowdrt::onnx_export {

class OnnxGraphWriter {
 public:
  OnnxGraphWriter(const ir::Graph& graph, onnx::GraphProto& proto, int opset)
      : graph_(graph), proto_(proto), opset_(opset) {}

  int opset() const { return opset_; }
  const ir::Graph& graph() const { return graph_; }
  // The ONNX name of a value; "" for an omitted optional input.
  std::string name(ir::ValueId v) const { return v == ir::kNoValue ? "" : graph_.value(v).name; }

  // Small constants the ONNX form needs as inputs (Resize scales, Clip bounds, Pad pads): initializers named
  // after the node, dims empty for a scalar.
  std::string add_floats(const std::string& name, const std::vector<float>& values, const Shape& dims);
  std::string add_int64s(const std::string& name, const std::vector<int64_t>& values, const Shape& dims);

  onnx::NodeProto& add_node(const std::string& op_type, const std::string& name, const std::vector<std::string>& inputs,
                            const std::vector<std::string>& outputs);

 private:
  const ir::Graph& graph_;
  onnx::GraphProto& proto_;
  int opset_;
};

// Writes one IR node; Error naming the node when ONNX at this opset cannot express it.
void export_node(const ir::Node& node, OnnxGraphWriter& writer);

void set_attribute(onnx::NodeProto& node, const std::string& name, const ir::Attr& value);

}  // namespace crowdrt::onnx_export
