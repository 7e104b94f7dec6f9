#include "backends/cuda/cuda_conv.h"

#include "backends/cuda/cuda_conv_graph.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <vector>

#include "core/error.h"
#include "quant/scheme.h"

namespace crowdrt::cuda {
namespace {

constexpr size_t kMaxWorkspace = size_t{512} << 20;  // candidates asking for more are not tried
constexpr int kMaxGraphConfigs = 12;                   // the heuristics' first engine configurations are timed

cudnnDataType_t cudnn_type(StorageType t) {
  switch (t) {
    case StorageType::f16: return CUDNN_DATA_HALF;
    case StorageType::bf16: return CUDNN_DATA_BFLOAT16;
    case StorageType::i8: return CUDNN_DATA_INT8;
    default: return CUDNN_DATA_FLOAT;
  }
}

const char* type_name(StorageType t) {
  switch (t) {
    case StorageType::f16: return "f16";
    case StorageType::bf16: return "bf16";
    case StorageType::i8: return "i8";
    default: return "f32";
  }
}

// Host values converted to the storage type, as raw bytes.
std::vector<uint16_t> to_16bit(const std::vector<float>& values, StorageType t) {
  std::vector<uint16_t> out(values.size());
  for (size_t i = 0; i < values.size(); ++i)
    out[i] = t == StorageType::bf16 ? float_to_bf16(values[i]) : float_to_half(values[i]);
  return out;
}

DeviceMemory upload(const void* data, size_t bytes, const char* what) {
  DeviceMemory d = device_alloc(bytes, what);
  if (bytes) check(cudaMemcpy(d.get(), data, bytes, cudaMemcpyHostToDevice), what);
  return d;
}

DeviceMemory upload_as(const std::vector<float>& values, StorageType t, const char* what) {
  if (t == StorageType::f32) return upload(values.data(), values.size() * sizeof(float), what);
  const std::vector<uint16_t> v = to_16bit(values, t);
  return upload(v.data(), v.size() * sizeof(uint16_t), what);
}

// The N of a tactic "kind:N" from a plan (untrusted): Error unless N is a non-negative decimal number.
int tactic_number(const std::string& tactic, size_t colon) {
  int n = -1;
  const char* begin = colon == std::string::npos ? tactic.data() + tactic.size() : tactic.data() + colon + 1;
  const char* end = tactic.data() + tactic.size();
  const auto [at, error] = std::from_chars(begin, end, n);
  if (begin == end || error != std::errc() || at != end || n < 0)
    throw Error(cat("convolution tactic '", tactic, "': expected a number after the ':'; rebuild the plan"));
  return n;
}

// W: O x I x kh x kw (float) → O x kh x kw x I_storage, the storage channels beyond I zero.
std::vector<float> krsc_weights(const ConvProblem& p, int cin_storage) {
  const Shape& shape = p.weight->shape();
  const int out_c = static_cast<int>(shape[0]), in_c = static_cast<int>(shape[1]);
  const int kh = static_cast<int>(shape[2]), kw = static_cast<int>(shape[3]);
  const float* w = p.weight->data<float>();
  std::vector<float> krsc(size_t(out_c) * kh * kw * cin_storage, 0.f);
  for (int o = 0; o < out_c; ++o)
    for (int i = 0; i < in_c; ++i)
      for (int y = 0; y < kh; ++y)
        for (int x = 0; x < kw; ++x)
          krsc[((size_t(o) * kh + y) * kw + x) * cin_storage + i] = w[((size_t(o) * in_c + i) * kh + y) * kw + x];
  return krsc;
}

void set_view_descriptor(cudnnTensorDescriptor_t d, const View& v, int channels) {
  check(cudnnSetTensor4dDescriptorEx(d, cudnn_type(v.type), v.dims[0], channels, v.dims[2], v.dims[3],
                                     static_cast<int>(v.strides[0]), static_cast<int>(v.strides[1]),
                                     static_cast<int>(v.strides[2]), static_cast<int>(v.strides[3])),
        "cudnnSetTensor4dDescriptorEx");
}

}  // namespace

bool ConvProblem::quantised() const {
  return x.type == StorageType::i8 || y.type == StorageType::i8 || (has_residual && residual.type == StorageType::i8);
}

std::string ConvProblem::key() const {
  std::string k = cat(type_name(x.type), " x", x.dims[0], ",", x.dims[1], "/", x_storage_channels, ",", x.dims[2], ",",
                      x.dims[3], " xs", x.strides[0], ",", x.strides[1], ",", x.strides[2], ",", x.strides[3], " y",
                      y.dims[1], ",", y.dims[2], ",", y.dims[3], " ys", y.strides[0], ",", y.strides[1], ",",
                      y.strides[2], ",", y.strides[3], " k", shape.kernel[0], "x", shape.kernel[1], " s",
                      shape.strides[0], ",", shape.strides[1], " d", shape.dilations[0], ",", shape.dilations[1], " p",
                      shape.pads[0], ",", shape.pads[1], ",", shape.pads[2], ",", shape.pads[3], " g", shape.group,
                      " act", static_cast<int>(act.kind), " b", bias ? 1 : 0, " r", has_residual ? 1 : 0);
  // Mixed storage (int8 convolutions): the output's and the residual's types too.
  if (y.type != x.type || (has_residual && residual.type != x.type))
    k += cat(" yt", type_name(y.type), has_residual ? cat(" rt", type_name(residual.type)) : std::string{});
  return k;
}

struct ConvStep::Cudnn {
  TensorDescriptor x, y, z, bias;
  FilterDescriptor w;
  ConvolutionDescriptor conv;
  ActivationDescriptor relu, identity;
  DeviceMemory weight, bias_storage, zero_bias;
};

ConvStep::ConvStep(const ConvProblem& problem, cudnnHandle_t cudnn, cudaStream_t stream, const std::string& tactic,
                   TacticTimes* times, bool time)
    : p_(problem), cudnn_handle_(cudnn) {
  if (p_.quantised()) {
    prepare_quantised();
  } else {
    prepare_direct();
  }
  // The stem kernel's weights (fp16 x, fp16 or int8 y: the fp16 engine's form and the int8 engine's scaled one).
  if (stem_candidate(stem_configs().front())) {
    const Shape& w = p_.weight->shape();
    stem_weight_ = upload_as(stem_conv_weights(p_.weight->data<float>(), static_cast<int>(w[0]), static_cast<int>(w[1]),
                                               static_cast<int>(w[2]), static_cast<int>(w[3]), p_.x_storage_channels),
                             StorageType::f16, "convolution weights (stem)");
  }
  if (cudnn_possible()) {
    cudnn_ = std::make_unique<Cudnn>();
    Cudnn& c = *cudnn_;
    const int out_c = static_cast<int>(p_.weight->shape()[0]);
    const int in_per_group = static_cast<int>(p_.weight->shape()[1]);
    const int kh = p_.shape.kernel[0], kw = p_.shape.kernel[1];
    // Tensor cores want the input channels padded (to 8); the padding channels are zero in x and in W.
    const int cin_storage = p_.shape.group == 1 ? p_.x_storage_channels : in_per_group;
    c.x = make_tensor_descriptor();
    set_view_descriptor(c.x.get(), p_.x, cin_storage);
    c.y = make_tensor_descriptor();
    set_view_descriptor(c.y.get(), p_.y, p_.y.dims[1]);
    c.z = make_tensor_descriptor();
    set_view_descriptor(c.z.get(), p_.has_residual ? p_.residual : p_.y, p_.y.dims[1]);
    c.bias = make_tensor_descriptor();
    check(cudnnSetTensor4dDescriptor(c.bias.get(), CUDNN_TENSOR_NCHW, cudnn_type(p_.y.type), 1, out_c, 1, 1),
          "bias descriptor");
    c.w = make_filter_descriptor();
    check(cudnnSetFilter4dDescriptor(c.w.get(), cudnn_type(p_.x.type), CUDNN_TENSOR_NHWC, out_c, cin_storage, kh, kw),
          "filter descriptor");
    c.conv = make_convolution_descriptor();
    check(cudnnSetConvolution2dDescriptor(c.conv.get(), p_.shape.pads[0], p_.shape.pads[1], p_.shape.strides[0],
                                          p_.shape.strides[1], p_.shape.dilations[0], p_.shape.dilations[1],
                                          CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT),
          "convolution descriptor");
    check(cudnnSetConvolutionGroupCount(c.conv.get(), p_.shape.group), "cudnnSetConvolutionGroupCount");
    // fp32 stays fp32 (no TF32, so that it matches the CPU engine); fp16/bf16 use tensor cores.
    check(cudnnSetConvolutionMathType(c.conv.get(),
                                      p_.x.type == StorageType::f32 ? CUDNN_FMA_MATH : CUDNN_TENSOR_OP_MATH),
          "cudnnSetConvolutionMathType");
    c.relu = make_activation_descriptor();
    check(cudnnSetActivationDescriptor(c.relu.get(), CUDNN_ACTIVATION_RELU, CUDNN_NOT_PROPAGATE_NAN, 0.0),
          "activation descriptor");
    c.identity = make_activation_descriptor();
    check(cudnnSetActivationDescriptor(c.identity.get(), CUDNN_ACTIVATION_IDENTITY, CUDNN_NOT_PROPAGATE_NAN, 0.0),
          "activation descriptor");

    c.weight = upload_as(krsc_weights(p_, cin_storage), p_.x.type, "convolution weights");
    std::vector<float> bias(out_c, 0.f);
    if (p_.bias) std::copy(p_.bias->data<float>(), p_.bias->data<float>() + out_c, bias.begin());
    c.bias_storage = upload_as(bias, p_.y.type, "convolution bias");
    if (CudnnConvGraph::expressible(p_)) {
      try {
        graph_ = std::make_unique<CudnnConvGraph>(p_, cudnn_handle_,
                                                  ConvGraphOperands{c.weight.get(), c.bias_storage.get()});
      } catch (const Error&) {
        graph_.reset();  // no operation-graph engine for this problem: the legacy tactics remain
      }
    }
  }
  choose(tactic, stream, times, time);
}

ConvStep::~ConvStep() = default;

void ConvStep::prepare_quantised() {
  const Tensor& weight = *p_.weight;
  const int out_c = static_cast<int>(weight.shape()[0]), cin = static_cast<int>(weight.shape()[1]);
  const int kh = p_.shape.kernel[0], kw = p_.shape.kernel[1];
  const bool int8 = p_.x.type == StorageType::i8;
  const int cin_storage = p_.x_storage_channels;
  if (p_.shape.group != 1) throw Error("a convolution with int8 operands needs group 1");
  // An int8 x: weights quantised per output channel, int8 KRSC for cuDNN and dequantised (OIHW float) for the
  // direct kernel, so that both compute the same int8 convolution. A 16-bit x: weights in its type, unscaled.
  const std::vector<float> w_scales = int8 ? quant::weight_scales(weight) : std::vector<float>(out_c, 1.f);
  std::vector<int8_t> q8(int8 ? size_t(out_c) * kh * kw * cin_storage : 0, 0);  // padding channels zero
  std::vector<float> krsc(int8 ? 0 : size_t(out_c) * kh * kw * cin_storage, 0.f);
  std::vector<float> direct(static_cast<size_t>(weight.numel()));
  const float* w = weight.data<float>();
  for (int o = 0; o < out_c; ++o)
    for (int i = 0; i < cin; ++i)
      for (int y = 0; y < kh; ++y)
        for (int x = 0; x < kw; ++x) {
          const size_t at = ((size_t(o) * cin + i) * kh + y) * kw + x;
          const size_t to = ((size_t(o) * kh + y) * kw + x) * cin_storage + i;
          if (int8) {
            q8[to] = quant::quantise_weight(w[at], w_scales[o]);
            direct[at] = static_cast<float>(q8[to]) * w_scales[o];
          } else {
            krsc[to] = w[at];
            direct[at] = w[at];
          }
        }
  scaled_weight_ = int8 ? upload(q8.data(), q8.size(), "int8 convolution weights")
                        : upload_as(krsc, p_.x.type, "convolution weights");
  weight_f32_ = upload(direct.data(), direct.size() * sizeof(float), "convolution weights");
  if (p_.bias) bias_f32_ = upload(p_.bias->data<float>(), p_.bias->numel() * sizeof(float), "convolution bias");
  // y = relu(gamma * (acc * alpha + beta + r)), in the units of what is stored (int8 steps, or real values).
  const float x_scale = int8 ? p_.x.scale : 1.f;
  const float y_scale = p_.y.type == StorageType::i8 ? p_.y.scale : 1.f;
  const float r_scale = p_.has_residual && p_.residual.type == StorageType::i8 ? p_.residual.scale : 1.f;
  const float sum_unit = p_.has_residual ? r_scale : y_scale;  // the units alpha and beta produce
  std::vector<float> alpha(out_c), beta(out_c, 0.f), gamma(out_c, r_scale / y_scale);
  for (int o = 0; o < out_c; ++o) {
    alpha[o] = x_scale * w_scales[o] / sum_unit;
    if (p_.bias) beta[o] = p_.bias->data<float>()[o] / sum_unit;
  }
  scaled_alpha_ = upload(alpha.data(), alpha.size() * sizeof(float), "convolution output scales");
  scaled_beta_ = upload(beta.data(), beta.size() * sizeof(float), "convolution bias");
  scaled_gamma_ = upload(gamma.data(), gamma.size() * sizeof(float), "convolution output scales");
  if (CudnnConvGraph::expressible(p_)) {
    try {
      graph_ = std::make_unique<CudnnConvGraph>(
          p_, cudnn_handle_,
          ConvGraphOperands{scaled_weight_.get(), scaled_beta_.get(), scaled_alpha_.get(), scaled_gamma_.get()});
    } catch (const Error&) {
      graph_.reset();  // no operation-graph engine here: the direct kernel remains
    }
  }
}

void ConvStep::prepare_direct() {
  weight_f32_ = upload(p_.weight->data<float>(), p_.weight->numel() * sizeof(float), "convolution weights");
  if (p_.bias) bias_f32_ = upload(p_.bias->data<float>(), p_.bias->numel() * sizeof(float), "convolution bias");
  if (narrow_candidate()) {
    const std::vector<float> krsc = krsc_weights(p_, p_.x_storage_channels);
    narrow_weight_ = upload(krsc.data(), krsc.size() * sizeof(float), "convolution weights (narrow)");
  }
}

bool ConvStep::narrow_candidate() const {
  return narrow_conv_possible(p_.x, p_.x_storage_channels, p_.y, p_.has_residual, p_.shape, p_.act);
}

bool ConvStep::stem_candidate(const StemConfig& config) const {
  return stem_conv_possible(p_.x, p_.x_storage_channels, p_.y, p_.has_residual, p_.shape, p_.act, config);
}

bool ConvStep::cudnn_possible() const {
  const ConvShape& s = p_.shape;
  // cuDNN's legacy descriptor has one pad per axis: asymmetric pads go to the direct kernel.
  return s.pads[0] == s.pads[2] && s.pads[1] == s.pads[3] && p_.x.type == p_.y.type && !p_.quantised() &&
         (!p_.has_residual || p_.residual.type == p_.y.type) && p_.x.strides[1] == 1 && p_.y.strides[1] == 1;
}

// Our 3xTF32 kernel: fp32 problems it can run, reading the cuDNN form's KRSC weights (so cuDNN's form must exist).
bool ConvStep::tf32x3_candidate() const {
  return cudnn_ && p_.x.type == StorageType::f32 &&
         tf32x3_possible(p_.x, p_.x_storage_channels, p_.y, p_.has_residual ? &p_.residual : nullptr, p_.shape,
                         p_.act);
}

std::string ConvStep::kernel() const {
  switch (kind_) {
    case Kind::fused: return cat("cudnn:conv_bias_act:algo ", algo_);
    case Kind::split: return cat("cudnn:conv:algo ", algo_, "+epilogue");
    case Kind::graph: return cat("cudnn:graph:engine config ", algo_);
    case Kind::tf32x3: return cat("crowdrt:tf32x3 ", tf32x3_.name());
    case Kind::narrow: return "crowdrt:narrow_conv";
    case Kind::stem: return cat("crowdrt:stem ", stem_.name());
    default:
      return p_.x.type == StorageType::i8 ? "crowdrt:direct_conv (int8 emulated in float)" : "crowdrt:direct_conv";
  }
}

void ConvStep::set_tactic(const std::string& tactic) {
  tactic_ = tactic;
  if (tactic == "direct") {
    kind_ = Kind::direct;
    workspace_bytes_ = 0;
    return;
  }
  const size_t colon = tactic.find(':');
  const std::string kind = tactic.substr(0, colon);
  if (tactic == "narrow") {
    if (!narrow_weight_)
      throw Error(cat("convolution tactic 'narrow' cannot run here (it takes at most ", kNarrowMaxOutputs,
                      " output channels over 16-byte vectors of input channels); rebuild the plan"));
    kind_ = Kind::narrow;
    workspace_bytes_ = 0;
    return;
  }
  if (kind == "stem") {
    if (colon == std::string::npos || !parse_stem_config(tactic.substr(colon + 1), &stem_) || !stem_weight_ ||
        !stem_candidate(stem_))
      throw Error(cat("convolution tactic '", tactic, "' cannot run here (an fp16 convolution over 8 or 16 input "
                      "channels, fp16 or int8 output, 16·k output channels, a kernel up to 7x7 with stride 1 or 2, no "
                      "residual, a configuration such as 8x16 or 16x16p); rebuild the plan"));
    prepare_stem_conv(p_.x, p_.x_storage_channels, p_.y, p_.shape, &stem_);
    kind_ = Kind::stem;
    workspace_bytes_ = 0;
    return;
  }
  if (kind == "tf32x3") {
    if (colon == std::string::npos || !parse_tf32x3_config(tactic.substr(colon + 1), &tf32x3_) || !tf32x3_candidate())
      throw Error(cat("convolution tactic '", tactic, "' cannot run here (an fp32 convolution our 3xTF32 kernel "
                      "takes, with a tile such as 128x64 or 64x64s4); rebuild the plan"));
    kind_ = Kind::tf32x3;
    workspace_bytes_ = tf32x3_workspace_bytes(p_.y, tf32x3_);
    return;
  }
  if (kind == "graph" && graph_) {
    kind_ = Kind::graph;
    algo_ = tactic_number(tactic, colon);
    if (!graph_->select(algo_))
      throw Error(
          cat("convolution tactic '", tactic, "': cuDNN refuses that engine configuration here; rebuild the plan"));
    workspace_bytes_ = graph_->workspace_bytes();
    return;
  }
  if (colon == std::string::npos || (kind != "fused" && kind != "split") || !cudnn_)
    throw Error(cat("convolution tactic '", tactic,
                    "' cannot run here (expected direct, narrow, graph:N, fused:N, split:N, tf32x3:TILE or stem:TILE",
                    cudnn_ ? "" : "; this convolution has no cuDNN form", "); rebuild the plan"));
  kind_ = kind == "fused" ? Kind::fused : Kind::split;
  algo_ = tactic_number(tactic, colon);
  size_t bytes = 0;
  check(cudnnGetConvolutionForwardWorkspaceSize(cudnn_handle_, cudnn_->x.get(), cudnn_->w.get(), cudnn_->conv.get(),
                                                cudnn_->y.get(), static_cast<cudnnConvolutionFwdAlgo_t>(algo_), &bytes),
        "cudnnGetConvolutionForwardWorkspaceSize");
  workspace_bytes_ = bytes;
}

void ConvStep::run(cudaStream_t stream, void* workspace) const {
  const View* residual = p_.has_residual ? &p_.residual : nullptr;
  if (kind_ == Kind::graph) {
    graph_->run(workspace);
    return;
  }
  if (kind_ == Kind::narrow) {
    launch_narrow_conv(p_.x, p_.x_storage_channels, static_cast<const float*>(narrow_weight_.get()),
                       static_cast<const float*>(bias_f32_.get()), p_.y, p_.shape, p_.act, stream);
    return;
  }
  if (kind_ == Kind::stem) {
    launch_stem_conv(p_.x, p_.x_storage_channels, stem_weight_.get(), static_cast<const float*>(bias_f32_.get()), p_.y,
                     p_.shape, p_.act, stem_, stream);
    return;
  }
  if (kind_ == Kind::tf32x3) {
    launch_tf32x3_conv(p_.x, p_.x_storage_channels, static_cast<const float*>(cudnn_->weight.get()),
                       static_cast<const float*>(bias_f32_.get()), residual, p_.y, p_.shape, p_.act, tf32x3_,
                       workspace, stream);
    return;
  }
  if (kind_ == Kind::direct) {
    launch_direct_conv(p_.x, static_cast<const float*>(weight_f32_.get()), static_cast<const float*>(bias_f32_.get()),
                       residual, p_.y, p_.shape, p_.act, stream);
    return;
  }
  const Cudnn& c = *cudnn_;
  const float one = 1.f, zero = 0.f;
  const auto algo = static_cast<cudnnConvolutionFwdAlgo_t>(algo_);
  if (kind_ == Kind::fused) {
    const float alpha2 = p_.has_residual ? 1.f : 0.f;
    const void* z = p_.has_residual ? p_.residual.data : p_.y.data;
    check(cudnnConvolutionBiasActivationForward(
              cudnn_handle_, &one, c.x.get(), p_.x.data, c.w.get(), c.weight.get(), c.conv.get(), algo, workspace,
              workspace_bytes_, &alpha2, c.z.get(), z, c.bias.get(), c.bias_storage.get(),
              p_.act.kind == ActivationKind::relu ? c.relu.get() : c.identity.get(), c.y.get(), p_.y.data),
          "cudnnConvolutionBiasActivationForward");
    return;
  }
  check(cudnnConvolutionForward(cudnn_handle_, &one, c.x.get(), p_.x.data, c.w.get(), c.weight.get(), c.conv.get(),
                                algo, workspace, workspace_bytes_, &zero, c.y.get(), p_.y.data),
        "cudnnConvolutionForward");
  if (p_.bias || residual || p_.act.kind != ActivationKind::none)
    launch_epilogue(p_.y, static_cast<const float*>(bias_f32_.get()), residual, p_.act, stream);
}

void ConvStep::choose(const std::string& tactic, cudaStream_t stream, TacticTimes* times, bool time) {
  if (!tactic.empty()) {
    set_tactic(tactic);
    return;
  }
  std::vector<std::string> candidates;
  if (cudnn_) {
    int returned = 0;
    cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
    check(cudnnGetConvolutionForwardAlgorithm_v7(cudnn_handle_, cudnn_->x.get(), cudnn_->w.get(), cudnn_->conv.get(),
                                                 cudnn_->y.get(), CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &returned, perf),
          "cudnnGetConvolutionForwardAlgorithm_v7");
    for (int i = 0; i < returned; ++i) {
      if (perf[i].status != CUDNN_STATUS_SUCCESS || perf[i].memory > kMaxWorkspace) continue;
      const int algo = static_cast<int>(perf[i].algo);
      // The fused call applies ReLU or nothing; "nothing" only with the implicit precomputed GEMM.
      const bool fusable =
          p_.act.kind == ActivationKind::relu ||
          (p_.act.kind == ActivationKind::none && perf[i].algo == CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM);
      if (fusable) candidates.push_back(cat("fused:", algo));
      candidates.push_back(cat("split:", algo));
    }
  }
  if (graph_)
    for (int i = 0; i < std::min(graph_->engine_configs(), kMaxGraphConfigs); ++i)
      candidates.push_back(cat("graph:", i));
  if (tf32x3_candidate()) {
    // Splitting K pays where the output has too few tiles to fill the GPU (deep layers at low resolution).
    int device = 0, sms = 0;
    check(cudaGetDevice(&device), "cudaGetDevice");
    check(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device), "cudaDeviceGetAttribute");
    const int64_t pixels = int64_t{p_.y.dims[0]} * p_.y.dims[2] * p_.y.dims[3];
    const int64_t k = int64_t{p_.shape.kernel[0]} * p_.shape.kernel[1] * p_.x_storage_channels;
    for (int tile_m : {128, 64})
      for (int splits : {1, 2, 4, 8, 16}) {
        const int64_t tiles = (pixels + tile_m - 1) / tile_m * ((p_.y.dims[1] + 63) / 64);
        if (splits > 1 && (tiles * splits > 8 * sms || k / splits < 64)) continue;
        candidates.push_back(cat("tf32x3:", Tf32x3Config{tile_m, splits}.name()));
      }
  }
  if (stem_weight_)
    for (const StemConfig& config : stem_configs())
      if (stem_candidate(config)) candidates.push_back(cat("stem:", config.name()));
  if (narrow_weight_) candidates.push_back("narrow");
  candidates.push_back("direct");
  if (!time) {
    // Untimed: the operation graph's first engine, else the legacy path's first algorithm, else the direct kernel.
    std::stable_partition(candidates.begin(), candidates.end(),
                          [](const std::string& c) { return c.rfind("graph:", 0) == 0; });
    for (const std::string& candidate : candidates) {
      try {
        set_tactic(candidate);
        if (graph_) graph_->release_others();
        return;
      } catch (const Error&) {
      }
    }
  }
  std::sort(candidates.begin(), candidates.end());
  candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());

  Event start = make_event(), stop = make_event();
  std::string best;
  double best_ms = std::numeric_limits<double>::infinity();
  for (const std::string& candidate : candidates) {
    try {
      set_tactic(candidate);
      if (workspace_bytes_ > kMaxWorkspace) continue;
      DeviceMemory workspace = device_alloc(workspace_bytes_, "convolution workspace (timing)");
      const bool slow = candidate == "direct";
      const int warmup = slow ? 1 : 2, runs = slow ? 1 : 5;
      for (int i = 0; i < warmup; ++i) run(stream, workspace.get());
      check(cudaStreamSynchronize(stream), "tactic warm-up");
      check(cudaEventRecord(start.get(), stream), "cudaEventRecord");
      for (int i = 0; i < runs; ++i) run(stream, workspace.get());
      check(cudaEventRecord(stop.get(), stream), "cudaEventRecord");
      check(cudaEventSynchronize(stop.get()), "tactic timing");
      float ms = 0.f;
      check(cudaEventElapsedTime(&ms, start.get(), stop.get()), "cudaEventElapsedTime");
      const double per_run = ms / runs;
      if (times) (*times)[candidate] = per_run;
      if (per_run < best_ms) {
        best_ms = per_run;
        best = candidate;
      }
    } catch (const Error&) {
      cudaGetLastError();  // a candidate cuDNN refuses for this problem is simply not kept
    }
  }
  if (best.empty()) throw Error(cat("no convolution kernel could run ", p_.key()));
  set_tactic(best);
  if (graph_) graph_->release_others();
}

}  // namespace crowdrt::cuda
