// Builds an IR graph op by op while taking each weight out of a state_dict by its key, checking its shape
// against what the layer needs. Problems are collected, not thrown at once, so that one Error can list every
// missing key, unexpected key and shape mismatch (finish()).
#pragma once
#include <set>
#include <string>
#include <vector>

#include "checkpoint/checkpoint.h"
#include "ir/graph.h"

namespace crowdrt::models {

struct ConvSpec {
  int64_t out_channels = 0;
  int64_t kernel = 1;
  int64_t stride = 1;
  std::vector<int64_t> pads{0, 0, 0, 0};  // top, left, bottom, right (ONNX order)
  int64_t group = 1;
  bool bias = false;
};

// What build_smp_model found wrong with the weights; empty when they fit.
struct WeightProblems {
  std::vector<std::string> missing;     // keys the model needs that the state_dict lacks
  std::vector<std::string> unexpected;  // keys the state_dict has that the model does not read
  std::vector<std::string> mismatched;  // "key: checkpoint AxB, model CxD"
  bool empty() const { return missing.empty() && unexpected.empty() && mismatched.empty(); }
  std::string summary() const;  // first few of each kind, with counts
};

class WeightedGraphBuilder {
 public:
  explicit WeightedGraphBuilder(const checkpoint::StateDict& weights) : weights_(weights) {}

  ir::ValueId input(const std::string& name, const Shape& shape);
  const Shape& shape(ir::ValueId v) const { return graph_.value(v).shape; }
  int64_t channels(ir::ValueId v) const { return shape(v).at(1); }

  // `module` is the state_dict prefix of the layer: "encoder.conv1" reads "encoder.conv1.weight" (and ".bias").
  // `output_name` names the result (the model's last layer writes "output"); default: from the node name.
  ir::ValueId conv(ir::ValueId x, const std::string& module, const ConvSpec& spec, const std::string& output_name = "");
  ir::ValueId batchnorm(ir::ValueId x, const std::string& module, float epsilon);
  ir::ValueId relu(ir::ValueId x, const std::string& module);
  ir::ValueId clip(ir::ValueId x, const std::string& module, float min, float max);
  ir::ValueId sigmoid(ir::ValueId x, const std::string& module);
  ir::ValueId mul(ir::ValueId a, ir::ValueId b, const std::string& module);
  ir::ValueId add(ir::ValueId a, ir::ValueId b, const std::string& module);
  ir::ValueId concat(const std::vector<ir::ValueId>& parts, const std::string& module);
  ir::ValueId max_pool(ir::ValueId x, const std::string& module, int64_t kernel, int64_t stride, int64_t pad);
  ir::ValueId zero_pad(ir::ValueId x, const std::string& module, const std::vector<int64_t>& pads_tlbr);
  ir::ValueId mean_over_height_width(ir::ValueId x, const std::string& module);
  ir::ValueId upsample_nearest_2x(ir::ValueId x, const std::string& module);

  // Keys a module holds that the forward pass never reads (efficientnet's _conv_head): not "unexpected".
  void tolerate(const std::string& key) { tolerated_.insert(key); }

  // Missing / unexpected / mismatched keys so far (unexpected: every key no layer read nor tolerated).
  WeightProblems problems() const;
  // The graph, with `output` as its only output.
  ir::Graph finish(ir::ValueId output);

 private:
  ir::ValueId weight(const std::string& key, const Shape& expected);
  ir::ValueId node(ir::Op op, const std::string& module, std::vector<ir::ValueId> inputs, ir::Attributes attrs = {},
                   const std::string& output_name = "");

  const checkpoint::StateDict& weights_;
  ir::Graph graph_;
  std::set<std::string> used_, tolerated_, node_names_;
  std::vector<std::string> missing_, mismatched_;
};

}  // namespace crowdrt::models
