// Pass: convolution chains. Finds the runs of 3x3 convolutions (after a nearest 2x upsampling or not) that one
// kernel of cuda_conv_chain.cu may run, before memory is planned (a chain's input and output live over all of its
// members' steps); after the members' own steps exist, runs each chain in one kernel where that is faster.
#include <algorithm>
#include <cstdio>

#include "backends/cuda/cuda_compiled_graph.h"
#include "backends/cuda/cuda_timer.h"
#include "core/log.h"

namespace crowdrt::cuda {
namespace {

using ir::Op;

// A Conv that can be a chain stage: 3x3, stride 1, dilation 1, pads 1, group 1, no residual, none or ReLU, a bias
// or none.
bool chain_stage(const ir::Graph& g, const ir::Node& n) {
  if (n.op != Op::Conv || n.attrs.i("fused_add", 0) != 0 || n.inputs.size() < 2) return false;
  const ConvShape s = conv_shape_of(n.attrs);
  const std::string act = n.attrs.s("activation", "");
  const Shape& w = g.value(n.inputs[1]).shape;
  return s.kernel[0] == 3 && s.kernel[1] == 3 && s.strides[0] == 1 && s.strides[1] == 1 && s.dilations[0] == 1 &&
         s.dilations[1] == 1 && s.pads[0] == 1 && s.pads[1] == 1 && s.pads[2] == 1 && s.pads[3] == 1 && s.group == 1 &&
         (act.empty() || act == "relu") && w.size() == 4 && g.value(n.inputs[1]).data &&
         g.value(n.inputs[1]).data->dtype() == DType::f32;
}

// A nearest Resize that doubles H and W, output pixel (h, w) reading input (h / 2, w / 2).
bool upsampling_by_2(const ir::Graph& g, const ir::Node& n) {
  if (n.op != Op::Resize || n.attrs.s("mode", "nearest") != "nearest") return false;
  const std::vector<float> scales = n.attrs.floats("scales");
  const Shape& x = g.value(n.inputs[0]).shape;
  const Shape& y = g.value(n.outputs[0]).shape;
  if (scales.size() != 4 || x.size() != 4 || y[2] != 2 * x[2] || y[3] != 2 * x[3]) return false;
  for (int axis : {2, 3}) {
    const auto map = ir::resize_axis_map(ir::resize_params(n.attrs), scales[axis], x[axis], y[axis]);
    for (size_t i = 0; i < map.lo.size(); ++i)
      if (map.lo[i] != static_cast<int64_t>(i / 2)) return false;
  }
  return true;
}

}  // namespace

std::vector<ChainCandidate> CudaCompiledGraph::find_chains() const {
  std::vector<ChainCandidate> chains;
  if (type_ != StorageType::f16) return chains;
  const auto& nodes = graph_.nodes();
  const std::vector<int> producer = graph_.producers();
  const std::vector<int> uses = graph_.use_counts();
  const auto& outs = graph_.outputs();
  const auto is_output = [&](ir::ValueId v) { return std::find(outs.begin(), outs.end(), v) != outs.end(); };
  std::vector<int> reader(graph_.value_count(), -1);  // a reader of each value (the only one where uses is 1)
  for (size_t i = 0; i < nodes.size(); ++i)
    for (ir::ValueId v : nodes[i].inputs)
      if (v != ir::kNoValue) reader[v] = static_cast<int>(i);
  const auto view_of = [&](ir::ValueId v) {
    return layout_view(graph_.value(v).shape, int8_value_[v] ? StorageType::i8 : type_, storage_channels_[v]);
  };
  const auto single_use = [&](ir::ValueId v) {
    return uses[v] == 1 && !is_output(v) && alias_[v].first == ir::kNoValue && storage_channels_[v] == 0;
  };
  std::vector<bool> taken(nodes.size(), false);
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (taken[i] || !chain_stage(graph_, nodes[i])) continue;
    ChainCandidate c;
    c.in = nodes[i].inputs[0];
    const int p = producer[c.in];
    if (p >= 0 && !taken[p] && single_use(c.in) && upsampling_by_2(graph_, nodes[p])) {
      c.members.push_back(static_cast<size_t>(p));
      c.shape.upsample = 2;
      c.in = nodes[p].inputs[0];
    }
    for (size_t at = i;;) {
      const ir::Node& n = nodes[at];
      const Shape& w = graph_.value(n.inputs[1]).shape;
      c.members.push_back(at);
      c.shape.stage[c.shape.stages++] = {static_cast<int>(w[1]), static_cast<int>(w[0]),
                                         n.attrs.s("activation", "") == "relu"};
      const ir::ValueId out = n.outputs[0];
      if (c.shape.stages == kChainMaxStages || !single_use(out)) break;
      const int next = reader[out];
      if (next < 0 || taken[next] || !chain_stage(graph_, nodes[next]) || nodes[next].inputs[0] != out) break;
      at = static_cast<size_t>(next);
    }
    // The longest prefix of two or more convolutions a compiled variant runs.
    while (c.shape.stages >= 2) {
      c.out = nodes[c.members.back()].outputs[0];
      if (!graph_.value(c.in).is_constant() && conv_chain_possible(c.shape, view_of(c.in), view_of(c.out))) break;
      c.members.pop_back();
      --c.shape.stages;
    }
    if (c.shape.stages < 2) continue;
    for (size_t m : c.members) taken[m] = true;
    chains.push_back(c);
  }
  return chains;
}

// Runs the chain in one kernel where that is faster than its members' own steps (timed side by side when the
// builder times tactics, the verdict kept in the timing cache), where a plan says so (tactics fused "chain") or,
// untimed without a plan's tactics, always. The first member's step runs the kernel; the others' run nothing.
void CudaCompiledGraph::fuse_chain(const ChainCandidate& c) {
  const auto& nodes = graph_.nodes();
  const ir::Node& head = nodes[c.members.front()];
  const View x = views_[c.in];
  View y = views_[c.out];
  // A chain whose output is only a graph output writes the float32 NCHW staging buffer itself; the output's
  // conversion step then runs nothing.
  std::optional<size_t> output_step;
  const auto& outs = graph_.outputs();
  if (graph_.use_counts()[c.out] == 1 && std::count(outs.begin(), outs.end(), c.out) == 1) {  // no node reads it
    const size_t k = static_cast<size_t>(std::find(outs.begin(), outs.end(), c.out) - outs.begin());
    y = packed_f32_view(graph_.value(c.out).shape, out_staging_[k].device.get());
    output_step = steps_.size() - outs.size() + k;
  }
  ChainShape shape = c.shape;
  std::vector<const float*> weights, biases;
  for (size_t m : c.members) {
    const ir::Node& n = nodes[m];
    if (n.op != Op::Conv) continue;
    weights.push_back(graph_.value(n.inputs[1]).data->data<float>());
    const bool bias = n.inputs.size() > 2 && n.inputs[2] != ir::kNoValue;
    biases.push_back(bias ? graph_.value(n.inputs[2]).data->data<float>() : nullptr);
  }
  weights.resize(kChainMaxStages, nullptr);
  biases.resize(kChainMaxStages, nullptr);
  const bool int8 = x.type == StorageType::i8;
  const std::vector<uint8_t> w = conv_chain_weights(shape, weights.data(), int8);
  DeviceMemory w_device = device_alloc(w.size(), "convolution chain weights");
  check(cudaMemcpy(w_device.get(), w.data(), w.size(), cudaMemcpyHostToDevice), "convolution chain weights");
  const void* w_ptr = w_device.get();
  owned_.push_back(std::move(w_device));
  const float* b_ptr =
      upload_floats(conv_chain_constants(shape, weights.data(), biases.data(), int8), "convolution chain constants");
  const ConvChainKernel kernel = prepare_conv_chain(shape, int8);
  const auto fused = [kernel, x, w_ptr, b_ptr, y](cudaStream_t s) { launch_conv_chain(kernel, x, w_ptr, b_ptr, y, s); };

  std::string names, ops;
  for (size_t m : c.members) {
    names += (names.empty() ? "" : ", ") + nodes[m].name;
    ops += (ops.empty() ? "" : " → ") + ir::fused_op_name(nodes[m]);
  }
  bool fuse = true;
  std::string why = "untimed";
  Tactic planned = node_tactic(head.attrs);
  if (planned.empty()) planned = node_tactic(nodes[c.members.back()].attrs);
  if (!options_.time_tactics && !planned.empty()) {
    fuse = planned.fused == "chain";
    why = "the plan's choice";
  } else if (options_.time_tactics) {
    std::string key = cat("conv chain: x ", static_cast<int>(x.type), " ", x.dims[0], ",", x.dims[1], ",", x.dims[2],
                          ",", x.dims[3], " up", shape.upsample, " y ", static_cast<int>(y.type), " ys", y.strides[0],
                          ",", y.strides[1], ",", y.strides[2], ",", y.strides[3]);
    for (int s = 0; s < shape.stages; ++s)
      key += cat(" ", shape.stage[s].in_channels, ">", shape.stage[s].out_channels, shape.stage[s].relu ? "r" : "");
    double fused_ms = 0, separate_ms = 0;
    const std::string* cached = timing_cache_->find(key);
    if (!cached || std::sscanf(cached->c_str(), "fused %lf separate %lf", &fused_ms, &separate_ms) != 2) {
      // Both forms on the real buffers.
      const auto separate = [&] {
        for (size_t m : c.members) steps_[node_step_[m]].run(stream_.get());
        if (output_step) steps_[*output_step].run(stream_.get());
      };
      const std::vector<double> ms = time_side_by_side(stream_.get(), {[&] { fused(stream_.get()); }, separate});
      fused_ms = ms[0];
      separate_ms = ms[1];
      timing_cache_->put(key, cat("fused ", fused_ms, " separate ", separate_ms));
    }
    fuse = fused_ms < separate_ms;
    why = cat("timed ", fused_ms, " ms against ", separate_ms, " ms for their own kernels");
    log_verbose(cat("  conv chain ", names, ": one kernel ", fused_ms, " ms, separate ", separate_ms, " ms -> ",
                    fuse ? "fused" : "separate"));
  }
  if (!fuse) return;
  for (size_t m : c.members) layers_[node_step_[m]].tactic.fused = "chain";
  const std::string inside = cat("(in ", head.name, "'s conv_chain)");
  for (size_t k = 1; k < c.members.size(); ++k)
    run_inside(node_step_[c.members[k]], inside, "fused into the chain of " + head.name);
  if (output_step)
    run_inside(*output_step, inside, layers_[*output_step].note + "; written by the chain of " + head.name);
  LayerInfo& first = layers_[node_step_[c.members.front()]];
  first.kernel = "crowdrt:conv_chain";
  first.precision = int8 ? Precision::int8 : Precision::fp16;  // int8: the first convolution
  first.note = cat("runs ", ops, " in one kernel (", why, ")");
  steps_[node_step_[c.members.front()]].run = fused;
}

}  // namespace crowdrt::cuda
