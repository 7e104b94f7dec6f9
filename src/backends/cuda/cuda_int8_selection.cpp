// int8 value selection (a permission, as in TensorRT): the engine is fp16, and a Conv runs int8 (cuDNN int8
// operation graph, epilogue fused) where its input has a calibrated amax, it is expressible (group 1, none/ReLU,
// channels a multiple of 16, or a graph input padded to 16) and, when the builder times tactics, its best int8
// kernel beats its best fp16 one by 10% (the two timed side by side; the verdict is kept in the timing cache and,
// as the tactic's precision "int8", in the plan). A value is stored int8 (scale amax / 127) where it has an amax,
// every Conv reading it as input runs int8, and a Conv writing it (or reading it as residual) runs int8 or fp16 in
// the scaled form whose epilogue requantises (an fp16 Conv's only where that costs under 10% more); other ops
// read and write int8 through their load/store, so a MaxPool, Resize or Concat next to int8 Convs quantises in
// its own kernel.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>

#include "backends/cuda/cuda_compiled_graph.h"
#include "backends/cuda/cuda_timer.h"
#include "core/log.h"
#include "quant/scheme.h"

namespace crowdrt::cuda {
namespace {

using ir::Op;

constexpr double kInt8Margin = 0.9;   // int8 must time at least 10% faster than fp16 to be kept (as on the CPU:
                                      // in the graph, near ties often came out slower)
constexpr double kScaledSlack = 1.1;  // fp16 with an int8 output may cost 10% more (its readers gain)

}  // namespace

std::optional<float> CudaCompiledGraph::amax(ir::ValueId v) const {
  const auto it = options_.activation_amax.find(graph_.value(v).name);
  if (it == options_.activation_amax.end() || !(it->second > 0.f) || !std::isfinite(it->second)) return std::nullopt;
  return it->second;
}

// A Conv that may read or write int8 values: the scaled cuDNN graph's form (group 1, no activation or ReLU).
bool CudaCompiledGraph::scaled_form(const ir::Node& n) const {
  if (!int8_ || n.op != Op::Conv || options_.keep_fp32.count(n.name)) return false;
  const std::string act = n.attrs.s("activation", "");
  return n.attrs.i("group", 1) == 1 && (act.empty() || act == "relu");
}

// A Conv that may run int8: the scaled form and an int8-able input.
bool CudaCompiledGraph::int8_eligible(const ir::Node& n) const {
  return scaled_form(n) && int8_candidate(n.inputs[0]);
}

// A value read only as the input of ungrouped Convs (a graph input may then be stored with padding channels).
bool CudaCompiledGraph::read_only_by_convs(ir::ValueId v) const {
  for (const ir::Node& n : graph_.nodes())
    for (size_t k = 0; k < n.inputs.size(); ++k)
      if (n.inputs[k] == v && (n.op != Op::Conv || k != 0 || n.attrs.i("group", 1) != 1)) return false;
  return true;
}

// The storage channels of a graph input stored int8: its channels padded to 16 (0 where no padding is needed),
// -1 where it cannot be int8 (read by other than ungrouped Convs).
int CudaCompiledGraph::int8_input_channels(ir::ValueId v) const {
  const int64_t c = graph_.value(v).shape[1];
  if (!read_only_by_convs(v)) return -1;
  return c % kInt8Channels == 0 ? 0 : static_cast<int>(round_up(c, kInt8Channels));
}

// A value that may be stored int8: a 4-D activation with an amax, not a graph output (converted to float32),
// with channels that fill 16-byte vectors; a graph input also where it is padded to them (read by Convs only).
bool CudaCompiledGraph::int8_candidate(ir::ValueId v) const {
  const ir::Value& value = graph_.value(v);
  const auto& ins = graph_.inputs();
  const auto& outs = graph_.outputs();
  if (value.is_constant() || value.shape.size() != 4 || !amax(v) ||
      std::find(outs.begin(), outs.end(), v) != outs.end())
    return false;
  if (std::find(ins.begin(), ins.end(), v) != ins.end()) return int8_input_channels(v) >= 0;
  return value.shape[1] % kInt8Channels == 0;
}

// Times the Conv's best kernel for fp16 x, y and residual, for int8 ones (each int8 where it may be), and for
// fp16 x with the others int8, on scratch buffers; the times go into the timing cache.
CudaCompiledGraph::Int8Timing CudaCompiledGraph::time_int8(const ir::Node& node) {
  const auto& ins = graph_.inputs();
  const auto storage_of = [&](ir::ValueId v, bool q) {
    if (std::find(ins.begin(), ins.end(), v) == ins.end()) return 0;
    return q ? int8_input_channels(v) : storage_channels_[v];
  };
  const auto view_of = [&](ir::ValueId v, bool int8) {
    const bool q = int8 && int8_candidate(v);
    View view = layout_view(graph_.value(v).shape, q ? StorageType::i8 : type_, storage_of(v, q));
    if (q) view.scale = quant::activation_scale(*amax(v));
    return view;
  };
  std::vector<DeviceMemory> scratch;
  const auto problem = [&](bool x_int8, bool others_int8) {
    ConvProblem p;
    p.x = view_of(node.inputs[0], x_int8);
    const int x_storage = storage_of(node.inputs[0], p.x.type == StorageType::i8);
    p.x_storage_channels = x_storage > 0 ? x_storage : p.x.dims[1];
    p.y = view_of(node.outputs[0], others_int8);
    p.weight = graph_.value(node.inputs[1]).data.get();
    p.bias = node.inputs.size() > 2 && node.inputs[2] != ir::kNoValue ? graph_.value(node.inputs[2]).data.get()
                                                                         : nullptr;
    p.has_residual = node.attrs.i("fused_add", 0) != 0;
    if (p.has_residual) p.residual = view_of(node.inputs[3], others_int8);
    p.shape = conv_shape_of(node.attrs);
    p.act = to_cuda(ir::epilogue_activation(node.attrs));
    for (View* v : {&p.x, &p.y, &p.residual}) {
      if (v == &p.residual && !p.has_residual) continue;
      const size_t bytes = view_bytes(*v, v == &p.x ? p.x_storage_channels : 0);
      scratch.push_back(device_alloc(std::max<size_t>(bytes, 256), "int8 timing scratch"));
      check(cudaMemsetAsync(scratch.back().get(), 0, bytes, stream_.get()), "cudaMemset");
      v->data = scratch.back().get();
    }
    return p;
  };
  const bool x_int8 = int8_eligible(node);
  const ConvProblem p16 = problem(false, false), p8 = problem(x_int8, true), p16q = problem(false, true);
  const std::string key = "int8 timing: " + p16.key();
  Int8Timing t;
  if (const std::string* cached = timing_cache_->find(key)) {
    if (std::sscanf(cached->c_str(), "fp16 %lf int8 %lf fp16->int8 %lf", &t.fp16_ms, &t.int8_ms,
                    &t.fp16_to_int8_ms) == 3)
      return t;
  }
  // Each form's best tactic (ConvStep's own timing), then the winners timed again side by side: the per-tactic
  // timing's 5 runs leave near ties to noise. A form that fails when it runs is not a candidate.
  const auto make = [&](const ConvProblem& p) -> std::unique_ptr<ConvStep> {
    try {
      return std::make_unique<ConvStep>(p, cudnn_.get(), stream_.get(), "", nullptr, true);
    } catch (const Error&) {
      return nullptr;
    }
  };
  std::array<std::unique_ptr<ConvStep>, 3> steps = {make(p16), p8.x.type == StorageType::i8 ? make(p8) : nullptr,
                                                    p16q.quantised() ? make(p16q) : nullptr};
  size_t workspace_bytes = 256;
  for (const auto& step : steps)
    if (step) workspace_bytes = std::max(workspace_bytes, step->workspace_bytes());
  const DeviceMemory workspace = device_alloc(workspace_bytes, "int8 timing workspace");
  std::vector<std::function<void()>> forms;
  for (const auto& step : steps)
    forms.push_back(step ? std::function<void()>([&] { step->run(stream_.get(), workspace.get()); }) : nullptr);
  const std::vector<double> ms = time_side_by_side(stream_.get(), std::move(forms), "int8 timing", true);
  t.fp16_ms = ms[0];
  t.int8_ms = ms[1];
  t.fp16_to_int8_ms = ms[2];
  timing_cache_->put(key, cat("fp16 ", t.fp16_ms, " int8 ", t.int8_ms, " fp16->int8 ", t.fp16_to_int8_ms));
  log_verbose(cat("  int8 timing ", node.name, ": fp16 ", t.fp16_ms, " ms, int8 ", t.int8_ms, " ms, fp16 with int8 ",
                  "output/residual ", t.fp16_to_int8_ms, " ms"));
  return t;
}

// Which Convs run int8 and which values are stored int8 (see the top of this file).
void CudaCompiledGraph::choose_int8_values() {
  const size_t n_values = graph_.value_count();
  const size_t n_nodes = graph_.nodes().size();
  const std::vector<int> producer = graph_.producers();
  // Per Conv: may it run int8 (x int8), may it run fp16 with an int8 output or residual (scaled)?
  std::vector<bool> wants(n_nodes, false), scaled(n_nodes, false);
  for (size_t i = 0; i < n_nodes; ++i) {
    const ir::Node& n = graph_.nodes()[i];
    if (!scaled_form(n)) continue;
    const Tactic planned = node_tactic(n.attrs);
    if (!options_.time_tactics &&
        !(planned.algorithm.empty() && planned.precision.empty() && planned.int8_io.empty())) {
      // The plan's choice: precision int8 ran int8, int8_io "scaled" ran fp16 reading or writing int8.
      wants[i] = planned.precision == "int8";
      scaled[i] = wants[i] || planned.int8_io == "scaled";
    } else if (options_.time_tactics) {
      const Int8Timing t = time_int8(n);
      wants[i] = int8_eligible(n) && t.int8_ms < kInt8Margin * t.fp16_ms;
      scaled[i] = t.fp16_to_int8_ms <= kScaledSlack * t.fp16_ms;
      if (int8_eligible(n) && !wants[i])
        int8_notes_[n.name] =
            cat("int8 permitted, fp16: int8 timed ", t.int8_ms, " ms against fp16 ", t.fp16_ms, " ms");
    } else {
      wants[i] = int8_eligible(n);  // untimed: the lowest permitted precision
      scaled[i] = true;
    }
  }
  std::vector<std::vector<std::pair<size_t, size_t>>> readers(n_values);  // (node, input index)
  for (size_t i = 0; i < n_nodes; ++i)
    for (size_t k = 0; k < graph_.nodes()[i].inputs.size(); ++k)
      if (graph_.nodes()[i].inputs[k] != ir::kNoValue) readers[graph_.nodes()[i].inputs[k]].emplace_back(i, k);
  const auto& ins = graph_.inputs();
  for (size_t v = 0; v < n_values; ++v) {
    const auto id = static_cast<ir::ValueId>(v);
    int8_value_[v] = int8_candidate(id) && !readers[v].empty() &&
                     (producer[v] >= 0 || std::find(ins.begin(), ins.end(), id) != ins.end());
  }
  // Drop values until every constraint holds: a Conv runs int8 only with an int8 input; a Conv reads an int8
  // input only if it runs int8; a Conv writes an int8 output or reads an int8 residual only if it runs int8 or in
  // the scaled fp16 form. Other ops convert in their own kernels.
  const auto runs_int8 = [&](size_t node) { return wants[node] && int8_value_[graph_.nodes()[node].inputs[0]]; };
  const auto int8_operands = [&](size_t node) { return runs_int8(node) || scaled[node]; };
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t v = 0; v < n_values; ++v) {
      if (!int8_value_[v]) continue;
      bool ok = producer[v] < 0 || graph_.nodes()[producer[v]].op != Op::Conv || int8_operands(producer[v]);
      for (const auto& [node, k] : readers[v]) {
        if (graph_.nodes()[node].op != Op::Conv) continue;
        if (k == 0) ok = ok && wants[node];
        if (k == 3) ok = ok && int8_operands(node);
      }
      if (!ok) {
        int8_value_[v] = false;
        changed = true;
      }
    }
  }
  for (size_t i = 0; i < n_nodes; ++i) {
    const ir::Node& n = graph_.nodes()[i];
    if (n.op != Op::Conv || int8_notes_.count(n.name) || runs_int8(i)) continue;
    if (wants[i])
      int8_notes_[n.name] = cat("int8 permitted, fp16: its input '", graph_.value(n.inputs[0]).name,
                                "' stays fp16 (a reader or writer of it is not int8)");
    else if (options_.keep_fp32.count(n.name))
      int8_notes_[n.name] = "int8 permitted, fp16: kept out of int8 (--keep-fp32)";
    else if (!amax(n.inputs[0]))
      int8_notes_[n.name] =
          cat("int8 permitted, fp16: no int8 scale for its input '", graph_.value(n.inputs[0]).name, "'");
    else
      int8_notes_[n.name] = "int8 permitted, fp16: no int8 form (group, activation, channels not a multiple of 16, "
                            "or a graph input read by other than Convs)";
  }
}

}  // namespace crowdrt::cuda
