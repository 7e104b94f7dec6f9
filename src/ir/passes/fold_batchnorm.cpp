// Conv → BatchNormalization (inference) becomes one Conv: W' = W·s, b' = (b − mean)·s + beta,
// s = gamma / sqrt(var + eps), per output channel.
#include <cmath>

#include "ir/passes/passes.h"

namespace crowdrt::ir {
namespace {
bool all_constant(const Graph& g, const Node& n, size_t from) {
  for (size_t i = from; i < n.inputs.size(); ++i)
    if (n.inputs[i] == kNoValue || !g.value(n.inputs[i]).is_constant()) return false;
  return true;
}
}  // namespace

Graph fold_batchnorm(Graph graph) {
  std::vector<int> producer = graph.producers();
  const std::vector<int> uses = graph.use_counts();
  std::vector<bool> drop(graph.nodes().size(), false);
  for (size_t bn_index = 0; bn_index < graph.nodes().size(); ++bn_index) {
    Node& bn = graph.nodes()[bn_index];
    if (bn.op != Op::BatchNormalization || bn.inputs.size() < 5 || !all_constant(graph, bn, 1)) continue;
    const ValueId x = bn.inputs[0];
    const int p = producer[x];
    if (p < 0 || uses[x] != 1) continue;
    Node& conv = graph.nodes()[p];
    const bool transposed = conv.op == Op::ConvTranspose;
    if ((conv.op != Op::Conv && !transposed) || conv.attrs.has("activation") || conv.attrs.i("fused_add")) continue;
    if (!graph.value(conv.inputs[1]).is_constant()) continue;
    if (conv.inputs.size() > 2 && conv.inputs[2] != kNoValue && !graph.value(conv.inputs[2]).is_constant()) continue;

    const std::vector<float> gamma = graph.constant(bn.inputs[1]).to_float();
    const std::vector<float> beta = graph.constant(bn.inputs[2]).to_float();
    const std::vector<float> mean = graph.constant(bn.inputs[3]).to_float();
    const std::vector<float> var = graph.constant(bn.inputs[4]).to_float();
    const float eps = bn.attrs.f("epsilon", 1e-5f);
    const Tensor& w_in = graph.constant(conv.inputs[1]);
    const Shape& ws = w_in.shape();
    const int64_t group = conv.attrs.i("group", 1);
    const int64_t out_channels = transposed ? ws[1] * group : ws[0];
    if (static_cast<int64_t>(gamma.size()) != out_channels || beta.size() != gamma.size() ||
        mean.size() != gamma.size() || var.size() != gamma.size())
      continue;

    std::vector<double> scale(out_channels);
    for (int64_t c = 0; c < out_channels; ++c) scale[c] = gamma[c] / std::sqrt(static_cast<double>(var[c]) + eps);

    Tensor w = w_in.cast(DType::f32);
    float* wd = w.data<float>();
    const int64_t spatial = shape_numel(Shape(ws.begin() + 2, ws.end()));
    if (!transposed) {
      for (int64_t o = 0; o < ws[0]; ++o)
        for (int64_t k = 0; k < ws[1] * spatial; ++k) wd[o * ws[1] * spatial + k] *= static_cast<float>(scale[o]);
    } else {  // weight (Cin, Cout/group, k...): output channel = group index * Cout/group + j
      const int64_t cin_per_group = ws[0] / group;
      for (int64_t ci = 0; ci < ws[0]; ++ci)
        for (int64_t j = 0; j < ws[1]; ++j) {
          const int64_t o = (ci / cin_per_group) * ws[1] + j;
          for (int64_t k = 0; k < spatial; ++k) wd[(ci * ws[1] + j) * spatial + k] *= static_cast<float>(scale[o]);
        }
    }
    std::vector<float> bias(out_channels, 0.f);
    if (conv.inputs.size() > 2 && conv.inputs[2] != kNoValue) bias = graph.constant(conv.inputs[2]).to_float();
    for (int64_t c = 0; c < out_channels; ++c)
      bias[c] = static_cast<float>((bias[c] - mean[c]) * scale[c] + beta[c]);

    const std::string base = graph.value(conv.inputs[1]).name;
    const ValueId new_w = graph.add_constant(base + "_bnfolded", std::move(w));
    const ValueId new_b = graph.add_constant(graph.value(bn.outputs[0]).name + "_bias",
                                             Tensor::from<float>({out_channels}, std::span<const float>(bias)));
    Node& c = graph.nodes()[p];  // add_constant does not touch nodes, but re-take the reference for clarity
    c.inputs[1] = new_w;
    if (c.inputs.size() < 3) c.inputs.resize(3, kNoValue);
    c.inputs[2] = new_b;
    c.outputs[0] = graph.nodes()[bn_index].outputs[0];
    drop[bn_index] = true;
  }
  graph.erase_nodes(drop);
  return graph;
}

}  // namespace crowdrt::ir
