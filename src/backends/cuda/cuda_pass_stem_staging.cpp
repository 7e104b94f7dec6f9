// Pass: the stem reading the network input's staging buffer. A network input read only by one Conv, stored
// fp16 with at most 8 channels, may be read by our stem kernel (cuda_conv_stem.cu) straight from its float32
// NCHW staging buffer, converting as it loads; the input's conversion step then runs nothing. find_staging_stems
// marks the Convs where a stem configuration could do it; choose_staging decides, when that Conv is built: the
// plan's choice (its tactic's reads_staging), untimed always, or timed against the conversion and the Conv's own
// kernel.
#include <algorithm>
#include <cstdio>

#include "backends/cuda/cuda_compiled_graph.h"
#include "backends/cuda/cuda_timer.h"
#include "core/log.h"

namespace crowdrt::cuda {
namespace {

// The staging buffer's view of input `k` as the stem kernel reads it in place of the arena's.
ConvProblem on_staging_buffer(ConvProblem p, const Shape& shape, void* staging) {
  p.x = packed_f32_view(shape, staging);
  p.x_storage_channels = 8;
  return p;
}

}  // namespace

void CudaCompiledGraph::find_staging_stems() {
  const auto& nodes = graph_.nodes();
  stem_reads_staging_.assign(nodes.size(), false);
  const std::vector<int> uses = graph_.use_counts();
  const auto configs = stem_configs();
  for (size_t i = 0; i < nodes.size(); ++i) {
    const ir::Node& n = nodes[i];
    if (n.op != ir::Op::Conv) continue;
    const size_t k = graph_input_index(n.inputs[0]);
    const View& x = views_[n.inputs[0]];
    const View& y = views_[n.outputs[0]];
    if (k >= graph_.inputs().size() || x.type != StorageType::f16 || y.type != StorageType::f16 ||
        uses[n.inputs[0]] != 1 || x.dims[1] > 8)
      continue;
    const View staged = packed_f32_view(graph_.value(n.inputs[0]).shape, in_staging_[k].device.get());
    const bool residual = n.attrs.i("fused_add", 0) != 0;
    const ConvShape shape = conv_shape_of(n.attrs);
    const Activation act = to_cuda(ir::epilogue_activation(n.attrs));
    stem_reads_staging_[i] = std::any_of(configs.begin(), configs.end(), [&](const StemConfig& c) {
      return stem_conv_possible(staged, 8, y, residual, shape, act, c);
    });
  }
}

CudaCompiledGraph::StagingChoice CudaCompiledGraph::choose_staging(const ir::Node& node, const ConvProblem& p,
                                                                   const Tactic& planned,
                                                                   const std::string& algorithm) {
  StagingChoice choice;
  if (!stem_reads_staging_[node_index(node)]) return choice;
  const size_t k = graph_input_index(node.inputs[0]);  // the input's conversion is step k, as it is input k
  const ConvProblem staged = on_staging_buffer(p, graph_.value(node.inputs[0]).shape, in_staging_[k].device.get());
  if (!options_.time_tactics && !planned.empty()) {
    choice.staging = planned.reads_staging;  // the plan's choice
  } else if (!options_.time_tactics) {
    choice.staging = true;  // untimed: the one kernel
  } else {
    // Timed: the input's conversion and this Conv's best kernel, against the stem kernel on the staging buffer.
    std::string from_staged;
    choice.conv = make_conv_step(node, p, algorithm, &choice.from);
    std::unique_ptr<ConvStep> direct = make_conv_step(node, staged, "", &from_staged);
    const std::string key = "staging: " + staged.key();
    double staged_ms = 0, separate_ms = 0;
    const std::string* cached = timing_cache_->find(key);
    if (!cached || std::sscanf(cached->c_str(), "staging %lf separate %lf", &staged_ms, &separate_ms) != 2) {
      const DeviceMemory workspace =
          device_alloc(std::max<size_t>({256, choice.conv->workspace_bytes(), direct->workspace_bytes()}),
                       "convolution workspace (timing)");
      ConvStep* separate = choice.conv.get();
      const std::vector<double> ms = time_side_by_side(
          stream_.get(), {[&] { direct->run(stream_.get(), workspace.get()); },
                          [&] {
                            steps_[k].run(stream_.get());
                            separate->run(stream_.get(), workspace.get());
                          }});
      staged_ms = ms[0];
      separate_ms = ms[1];
      timing_cache_->put(key, cat("staging ", staged_ms, " separate ", separate_ms));
    }
    choice.staging = staged_ms < separate_ms;
    choice.note = cat(" (timed ", staged_ms, " ms against ", separate_ms, " ms with the conversion)");
    log_verbose(cat("  ", node.name, " on the staging buffer: ", staged_ms, " ms, converted input and its own ",
                    "kernel ", separate_ms, " ms -> ", choice.staging ? "staging" : "separate"));
    if (choice.staging) {
      choice.conv = std::move(direct);
      choice.from = from_staged;
    }
  }
  if (choice.staging) {
    if (!choice.conv) choice.conv = make_conv_step(node, staged, algorithm, &choice.from);
    run_inside(k, cat("(in ", node.name, "'s kernel)"), layers_[k].note + "; read as float32 NCHW by " + node.name);
  }
  return choice;
}

}  // namespace crowdrt::cuda
