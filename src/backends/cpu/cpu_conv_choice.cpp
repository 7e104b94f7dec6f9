// Which precision and algorithm each Conv runs in. Precision flags are permissions (as in TensorRT): the
// candidates are fp32 direct, fp32 Winograd (3x3 stride 1), bf16 and int8 where permitted, where oneDNN has a
// fast kernel on this CPU and (int8) the input has a calibrated amax. At build the candidates are timed and a
// lower-precision or Winograd one must beat the best so far by 10% (so that timing noise does not trade
// accuracy for nothing), each timed on weights evicted from the caches, as they are in the network; without
// timing (tests, or a plan whose node has no tactic) the lowest precision wins. A plan's tactic (node_tactic:
// the algorithm, and the precision where it is not fp32) is reused as it is.
//
// fp16: oneDNN 2.6 has no fp16 convolution on x86 CPUs, and bf16 is not a fallback that fp16 permits (8
// mantissa bits against fp16's 11; see precision_permits), so fp16 layers run fp32 and say so.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <unordered_map>

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#endif

#include "backends/cpu/cpu_conv_setup.h"
#include "core/cancel.h"

namespace crowdrt::cpu {
namespace {

using dnnl::memory;

bool winograd_eligible(const ir::Node& node, const ConvSetup& setup) {
  return setup.group == 1 && setup.weight_dims[2] == 3 && setup.weight_dims[3] == 3 &&
         setup.geo.strides == Dims{1, 1} && setup.geo.dilations == Dims{0, 0};
}

// Evicts a buffer from every cache level. In the network a Conv's weights were last read one whole inference
// ago (tens of MB of other weights and activations in between), so they come from DRAM; timed back to back on
// warm caches, weight-heavy kernels look far faster than they run there (fp32 Winograd 4x3 keeps 4x the
// weights: 0.24 ms timed warm against 0.67 ms in the network for a 256-channel 16x16 layer on an EPYC).
void evict_from_caches(const memory& m) {
#if defined(__x86_64__) || defined(_M_X64)
  const auto* bytes = static_cast<const char*>(m.get_data_handle());
  const size_t size = m.get_desc().get_size();
  for (size_t offset = 0; offset < size; offset += 64) _mm_clflush(bytes + offset);
  _mm_mfence();
#else
  (void)m;  // elsewhere the weights stay warm and weight-heavy kernels are favoured a little
#endif
}

// One candidate's primitive and scratch memory of its own, run on cold weights.
class TimedConvolution {
 public:
  TimedConvolution(const dnnl::convolution_forward::primitive_desc& pd, const dnnl::engine& engine)
      : conv_(pd), stream_(engine) {
    args_ = {{DNNL_ARG_SRC, memory(pd.src_desc(), engine)},
             {DNNL_ARG_WEIGHTS, memory(pd.weights_desc(), engine)},
             {DNNL_ARG_DST, memory(pd.dst_desc(), engine)}};
    if (pd.bias_desc().get_size()) args_[DNNL_ARG_BIAS] = memory(pd.bias_desc(), engine);
    if (pd.scratchpad_desc().get_size()) args_[DNNL_ARG_SCRATCHPAD] = memory(pd.scratchpad_desc(), engine);
    for (auto& [arg, m] : args_) std::memset(m.get_data_handle(), 0, m.get_desc().get_size());
    conv_.execute(stream_, args_);  // first run: oneDNN's lazy setup, page faults
    stream_.wait();
  }
  double run_ms() {
    evict_from_caches(args_.at(DNNL_ARG_WEIGHTS));
    const auto start = std::chrono::steady_clock::now();
    conv_.execute(stream_, args_);
    stream_.wait();
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  }

 private:
  dnnl::convolution_forward conv_;
  dnnl::stream stream_;
  std::unordered_map<int, memory> args_;
};

// The fastest run of each candidate (the minimum: other work on the machine only ever adds time), the
// candidates taking turns so that a busy spell of the machine slows them all alike.
std::vector<double> time_convolutions(const std::vector<dnnl::convolution_forward::primitive_desc>& pds,
                                      const dnnl::engine& engine) {
  constexpr int kRounds = 10;
  std::vector<TimedConvolution> timed;
  for (const auto& pd : pds) timed.emplace_back(pd, engine);
  std::vector<double> best(pds.size(), std::numeric_limits<double>::infinity());
  for (int round = 0; round < kRounds; ++round) {
    throw_if_cancelled();  // a large layer's rounds take seconds on a small CPU
    for (size_t i = 0; i < timed.size(); ++i) best[i] = std::min(best[i], timed[i].run_ms());
  }
  return best;
}

struct Candidate {
  ConvChoice choice;
  std::optional<dnnl::convolution_forward::primitive_desc> pd;
};

// The candidate's primitive with format-any layouts, when oneDNN has a fast kernel for it.
std::optional<dnnl::convolution_forward::primitive_desc> try_variant(const GraphBuilder& builder, const ir::Node& node,
                                                                   const ConvSetup& setup, const ConvVariant& variant) {
  try {
    const memory::data_type dst_type =
        variant.compute == memory::data_type::f32 ? memory::data_type::f32 : variant.compute;
    auto pd = make_conv_pd(builder, node, setup, variant,
                           memory::desc(setup.src_dims, variant.compute, memory::format_tag::any),
                           memory::desc(setup.dst_dims, dst_type, memory::format_tag::any));
    if (variant.algorithm == dnnl::algorithm::convolution_winograd || fast_kernel(pd)) return pd;
  } catch (const dnnl::error&) {
    // no kernel for this variant on this CPU or for these shapes
  }
  return std::nullopt;
}

}  // namespace

ConvChoice choose_conv(const GraphBuilder& builder, const ir::Node& node) {
  const ir::Graph& graph = builder.graph();
  const CompileOptions& options = builder.options();
  const ConvSetup setup = conv_setup(graph, node);
  const Precision permission = options.precision;
  const bool keep = options.keep_fp32.count(node.name) != 0;
  const std::string wanted = conv_choice_tactic(node_tactic(node.attrs));

  std::vector<Candidate> candidates{{ConvChoice{Precision::fp32, "direct", ""}, std::nullopt}};
  std::vector<std::string> why;  // reasons a permitted lower precision is not a candidate
  if (winograd_eligible(node, setup) && (builder.time_tactics() || wanted == "winograd")) {
    ConvVariant v;
    v.algorithm = dnnl::algorithm::convolution_winograd;
    if (auto pd = try_variant(builder, node, setup, v)) candidates.push_back({{Precision::fp32, "winograd", ""}, pd});
  }
  if (keep && permission != Precision::fp32) why.push_back("kept fp32 (--keep-fp32)");
  if (!keep && permission == Precision::fp16)
    why.push_back("no fp16 convolution on this CPU (bf16 is not permitted by fp16)");
  if (!keep && precision_permits(permission, Precision::bf16)) {
    ConvVariant v;
    v.compute = memory::data_type::bf16;
    if (auto pd = try_variant(builder, node, setup, v)) candidates.push_back({{Precision::bf16, "bf16", ""}, pd});
    else why.push_back("no fast bf16 kernel on this CPU");
  }
  if (!keep && precision_permits(permission, Precision::int8)) {
    if (!builder.amax(setup.x)) {
      why.push_back(cat("no int8 scale for its input '", graph.value(setup.x).name, "'"));
    } else {
      ConvVariant v;
      v.compute = memory::data_type::s8;
      v.output_scales.assign(setup.out_channels, 1.f);
      if (auto pd = try_variant(builder, node, setup, v)) candidates.push_back({{Precision::int8, "int8", ""}, pd});
      else why.push_back("no fast int8 kernel on this CPU");
    }
  }
  auto explain = [&](ConvChoice choice, const std::string& more) {
    std::vector<std::string> parts = why;
    if (!more.empty()) parts.push_back(more);
    if (choice.precision == Precision::fp32 && permission == Precision::fp32) parts.clear();
    for (const std::string& p : parts) choice.note += cat(choice.note.empty() ? "" : "; ", p);
    if (!choice.note.empty() && choice.precision != permission)
      choice.note = cat("fell back to ", precision_name(choice.precision), ": ", choice.note);
    return choice;
  };

  if (!builder.time_tactics()) {
    if (!wanted.empty())
      for (const Candidate& c : candidates)
        if (c.choice.tactic == wanted) return explain(c.choice, "");
    if (!wanted.empty() && wanted != "direct")
      why.push_back(cat("the plan's tactic '", wanted, "' is not available here"));
    // the lowest precision candidate (they were added from high to low precision; Winograd only when asked for)
    const Candidate* best = &candidates.front();
    for (const Candidate& c : candidates)
      if (c.choice.precision != Precision::fp32) best = &c;
    return explain(best->choice, "");
  }
  std::vector<dnnl::convolution_forward::primitive_desc> pds;
  for (Candidate& c : candidates) {
    if (!c.pd) {
      ConvVariant v;
      c.pd = make_conv_pd(builder, node, setup, v, any_desc(setup.src_dims), any_desc(setup.dst_dims));
    }
    pds.push_back(*c.pd);
  }
  const std::vector<double> ms = time_convolutions(pds, builder.engine());
  std::string timings;
  for (size_t i = 0; i < candidates.size(); ++i)
    timings += cat(timings.empty() ? "" : ", ", candidates[i].choice.tactic, " ", std::round(ms[i] * 100) / 100, " ms");
  size_t best = 0;
  for (size_t i = 1; i < candidates.size(); ++i)
    if (ms[i] < 0.9 * ms[best]) best = i;
  if (candidates.size() == 1) return explain(candidates[0].choice, "");
  return explain(candidates[best].choice, cat("timed: ", timings));
}

}  // namespace crowdrt::cpu
