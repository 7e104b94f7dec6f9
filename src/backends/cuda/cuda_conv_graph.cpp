#include "backends/cuda/cuda_conv_graph.h"

#include <array>

#include "backends/cuda/cuda_conv.h"
#include "core/error.h"

namespace crowdrt::cuda {
namespace {

cudnnDataType_t data_type(StorageType t) {
  switch (t) {
    case StorageType::f16: return CUDNN_DATA_HALF;
    case StorageType::bf16: return CUDNN_DATA_BFLOAT16;
    case StorageType::i8: return CUDNN_DATA_INT8;
    default: return CUDNN_DATA_FLOAT;
  }
}

}  // namespace

struct CudnnConvGraph::Descriptor {
  cudnnBackendDescriptor_t d = nullptr;
  explicit Descriptor(cudnnBackendDescriptorType_t type) {
    check(cudnnBackendCreateDescriptor(type, &d), "cudnnBackendCreateDescriptor");
  }
  ~Descriptor() {
    if (d) cudnnBackendDestroyDescriptor(d);
  }
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;
  template <class T>
  Descriptor& set(cudnnBackendAttributeName_t name, cudnnBackendAttributeType_t type, int64_t count, const T* values) {
    check(cudnnBackendSetAttribute(d, name, type, count, values), "cudnnBackendSetAttribute");
    return *this;
  }
  Descriptor& link(cudnnBackendAttributeName_t name, const Descriptor& other) {
    return set(name, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &other.d);
  }
  void finalize() { check(cudnnBackendFinalize(d), "cudnnBackendFinalize"); }
};

bool CudnnConvGraph::expressible(const ConvProblem& p) {
  const auto int8_or_f16 = [](StorageType t) { return t == StorageType::i8 || t == StorageType::f16; };
  const bool types = p.quantised() ? int8_or_f16(p.x.type) && int8_or_f16(p.y.type) &&
                                         (!p.has_residual || int8_or_f16(p.residual.type))
                                   : p.x.type == p.y.type && (!p.has_residual || p.residual.type == p.y.type);
  return p.shape.group == 1 && (p.act.kind == ActivationKind::none || p.act.kind == ActivationKind::relu) &&
         p.x.strides[1] == 1 && p.y.strides[1] == 1 && (!p.has_residual || p.residual.strides[1] == 1) && types;
}

CudnnConvGraph::CudnnConvGraph(const ConvProblem& p, cudnnHandle_t cudnn, const ConvGraphOperands& operands)
    : cudnn_(cudnn) {
  if (!expressible(p)) throw Error("this convolution has no cuDNN operation-graph form");
  const bool int8 = p.x.type == StorageType::i8, scaled = p.quantised();
  if (scaled && (!operands.alpha || (p.has_residual && !operands.gamma)))
    throw Error("a convolution graph with int8 operands needs its alpha (and with a residual, gamma) scales");
  const cudnnDataType_t io = data_type(p.x.type), compute = CUDNN_DATA_FLOAT;
  const cudnnDataType_t accumulate = int8 ? CUDNN_DATA_INT32 : CUDNN_DATA_FLOAT;
  const int64_t out_c = p.weight->shape()[0], kh = p.shape.kernel[0], kw = p.shape.kernel[1];
  const int64_t cin = p.x_storage_channels;
  int64_t next_uid = 1;

  // A tensor: dims in N, C, H, W order, strides as laid out (NHWC); virtual ones live only inside the kernel.
  const auto tensor = [&](cudnnDataType_t type, std::array<int64_t, 4> dims, std::array<int64_t, 4> strides,
                          bool is_virtual, void* data) -> Descriptor& {
    auto t = std::make_unique<Descriptor>(CUDNN_BACKEND_TENSOR_DESCRIPTOR);
    const int64_t uid = next_uid++, alignment = 16;
    t->set(CUDNN_ATTR_TENSOR_DATA_TYPE, CUDNN_TYPE_DATA_TYPE, 1, &type)
        .set(CUDNN_ATTR_TENSOR_DIMENSIONS, CUDNN_TYPE_INT64, 4, dims.data())
        .set(CUDNN_ATTR_TENSOR_STRIDES, CUDNN_TYPE_INT64, 4, strides.data())
        .set(CUDNN_ATTR_TENSOR_UNIQUE_ID, CUDNN_TYPE_INT64, 1, &uid)
        .set(CUDNN_ATTR_TENSOR_BYTE_ALIGNMENT, CUDNN_TYPE_INT64, 1, &alignment)
        .set(CUDNN_ATTR_TENSOR_IS_VIRTUAL, CUDNN_TYPE_BOOLEAN, 1, &is_virtual);
    t->finalize();
    if (!is_virtual) {
      uids_.push_back(uid);
      pointers_.push_back(data);
    }
    keep_.push_back(std::move(t));
    return *keep_.back();
  };
  const auto view_dims = [](const View& v, int64_t channels) {
    return std::array<int64_t, 4>{v.dims[0], channels, v.dims[2], v.dims[3]};
  };
  const auto view_strides = [](const View& v) {
    return std::array<int64_t, 4>{v.strides[0], v.strides[1], v.strides[2], v.strides[3]};
  };
  const std::array<int64_t, 4> y_dims = view_dims(p.y, p.y.dims[1]);
  const std::array<int64_t, 4> y_packed = {y_dims[1] * y_dims[2] * y_dims[3], 1, y_dims[1] * y_dims[3], y_dims[1]};

  const std::array<int64_t, 4> vector_dims = {1, out_c, 1, 1}, vector_strides = {out_c, 1, out_c, out_c};
  const auto vector = [&](cudnnDataType_t type, const void* data) -> Descriptor& {
    return tensor(type, vector_dims, vector_strides, false, const_cast<void*>(data));
  };
  Descriptor& x = tensor(io, view_dims(p.x, cin), view_strides(p.x), false, p.x.data);
  Descriptor& w = tensor(io, {out_c, cin, kh, kw}, {kh * kw * cin, 1, kw * cin, cin}, false,
                         const_cast<void*>(operands.weight));
  Descriptor& b = vector(scaled ? CUDNN_DATA_FLOAT : io, operands.bias);
  Descriptor* alpha = scaled ? &vector(CUDNN_DATA_FLOAT, operands.alpha) : nullptr;
  Descriptor* gamma = scaled && p.has_residual ? &vector(CUDNN_DATA_FLOAT, operands.gamma) : nullptr;
  Descriptor* residual = p.has_residual ? &tensor(data_type(p.residual.type), view_dims(p.residual, p.y.dims[1]),
                                                  view_strides(p.residual), false, p.residual.data)
                                        : nullptr;
  const bool relu = p.act.kind == ActivationKind::relu;
  Descriptor& conv_out = tensor(accumulate, y_dims, y_packed, true, nullptr);

  auto conv_desc = std::make_unique<Descriptor>(CUDNN_BACKEND_CONVOLUTION_DESCRIPTOR);
  const int64_t spatial = 2;
  const cudnnConvolutionMode_t mode = CUDNN_CROSS_CORRELATION;
  const int64_t dil[2] = {p.shape.dilations[0], p.shape.dilations[1]};
  const int64_t str[2] = {p.shape.strides[0], p.shape.strides[1]};
  const int64_t pre[2] = {p.shape.pads[0], p.shape.pads[1]}, post[2] = {p.shape.pads[2], p.shape.pads[3]};
  conv_desc->set(CUDNN_ATTR_CONVOLUTION_COMP_TYPE, CUDNN_TYPE_DATA_TYPE, 1, &accumulate)
      .set(CUDNN_ATTR_CONVOLUTION_CONV_MODE, CUDNN_TYPE_CONVOLUTION_MODE, 1, &mode)
      .set(CUDNN_ATTR_CONVOLUTION_SPATIAL_DIMS, CUDNN_TYPE_INT64, 1, &spatial)
      .set(CUDNN_ATTR_CONVOLUTION_DILATIONS, CUDNN_TYPE_INT64, 2, dil)
      .set(CUDNN_ATTR_CONVOLUTION_FILTER_STRIDES, CUDNN_TYPE_INT64, 2, str)
      .set(CUDNN_ATTR_CONVOLUTION_PRE_PADDINGS, CUDNN_TYPE_INT64, 2, pre)
      .set(CUDNN_ATTR_CONVOLUTION_POST_PADDINGS, CUDNN_TYPE_INT64, 2, post);
  conv_desc->finalize();

  std::vector<cudnnBackendDescriptor_t> ops;
  auto conv_op = std::make_unique<Descriptor>(CUDNN_BACKEND_OPERATION_CONVOLUTION_FORWARD_DESCRIPTOR);
  const float one = 1.f, zero = 0.f;
  conv_op->link(CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_X, x)
      .link(CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_W, w)
      .link(CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_Y, conv_out)
      .link(CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_CONV_DESC, *conv_desc)
      .set(CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_ALPHA, CUDNN_TYPE_FLOAT, 1, &one)
      .set(CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_BETA, CUDNN_TYPE_FLOAT, 1, &zero);
  conv_op->finalize();
  ops.push_back(conv_op->d);
  keep_.push_back(std::move(conv_desc));
  keep_.push_back(std::move(conv_op));

  const auto pointwise = [&](cudnnPointwiseMode_t pw_mode, Descriptor& in, Descriptor* other, Descriptor& out) {
    auto pw = std::make_unique<Descriptor>(CUDNN_BACKEND_POINTWISE_DESCRIPTOR);
    pw->set(CUDNN_ATTR_POINTWISE_MODE, CUDNN_TYPE_POINTWISE_MODE, 1, &pw_mode)
        .set(CUDNN_ATTR_POINTWISE_MATH_PREC, CUDNN_TYPE_DATA_TYPE, 1, &compute);
    pw->finalize();
    auto op = std::make_unique<Descriptor>(CUDNN_BACKEND_OPERATION_POINTWISE_DESCRIPTOR);
    op->link(CUDNN_ATTR_OPERATION_POINTWISE_PW_DESCRIPTOR, *pw)
        .link(CUDNN_ATTR_OPERATION_POINTWISE_XDESC, in)
        .link(CUDNN_ATTR_OPERATION_POINTWISE_YDESC, out);
    if (other) op->link(CUDNN_ATTR_OPERATION_POINTWISE_BDESC, *other);
    op->finalize();
    ops.push_back(op->d);
    keep_.push_back(std::move(pw));
    keep_.push_back(std::move(op));
  };
  // conv → (× alpha) → + bias → (+ residual) → (× gamma) → (ReLU) → y; every stage but the last writes a virtual
  // float tensor. The bias stage is always there (zeros without a bias): the shape of graph cuDNN's fused
  // engines know best.
  std::vector<std::pair<cudnnPointwiseMode_t, Descriptor*>> chain;
  if (alpha) chain.push_back({CUDNN_POINTWISE_MUL, alpha});
  chain.push_back({CUDNN_POINTWISE_ADD, &b});
  if (residual) chain.push_back({CUDNN_POINTWISE_ADD, residual});
  if (gamma) chain.push_back({CUDNN_POINTWISE_MUL, gamma});
  if (relu) chain.push_back({CUDNN_POINTWISE_RELU_FWD, nullptr});
  Descriptor* current = &conv_out;
  for (size_t i = 0; i < chain.size(); ++i) {
    Descriptor& out = i + 1 == chain.size() ? tensor(data_type(p.y.type), y_dims, view_strides(p.y), false, p.y.data)
                                            : tensor(compute, y_dims, y_packed, true, nullptr);
    pointwise(chain[i].first, *current, chain[i].second, out);
    current = &out;
  }

  graph_ = std::make_unique<Descriptor>(CUDNN_BACKEND_OPERATIONGRAPH_DESCRIPTOR);
  graph_
      ->set(CUDNN_ATTR_OPERATIONGRAPH_OPS, CUDNN_TYPE_BACKEND_DESCRIPTOR, static_cast<int64_t>(ops.size()), ops.data())
      .set(CUDNN_ATTR_OPERATIONGRAPH_HANDLE, CUDNN_TYPE_HANDLE, 1, &cudnn_);
  graph_->finalize();

  Descriptor heuristics(CUDNN_BACKEND_ENGINEHEUR_DESCRIPTOR);
  const cudnnBackendHeurMode_t heur_mode = CUDNN_HEUR_MODE_A;
  heuristics.link(CUDNN_ATTR_ENGINEHEUR_OPERATION_GRAPH, *graph_)
      .set(CUDNN_ATTR_ENGINEHEUR_MODE, CUDNN_TYPE_HEUR_MODE, 1, &heur_mode);
  heuristics.finalize();
  int64_t count = 0;
  check(cudnnBackendGetAttribute(heuristics.d, CUDNN_ATTR_ENGINEHEUR_RESULTS, CUDNN_TYPE_BACKEND_DESCRIPTOR, 0, &count,
                                 nullptr),
        "engine heuristics");
  std::vector<cudnnBackendDescriptor_t> raw;
  for (int64_t i = 0; i < count; ++i) {
    configs_.push_back(std::make_unique<Descriptor>(CUDNN_BACKEND_ENGINECFG_DESCRIPTOR));
    raw.push_back(configs_.back()->d);
  }
  int64_t returned = 0;
  if (count > 0)
    check(cudnnBackendGetAttribute(heuristics.d, CUDNN_ATTR_ENGINEHEUR_RESULTS, CUDNN_TYPE_BACKEND_DESCRIPTOR, count,
                                   &returned, raw.data()),
          "engine heuristics results");
  configs_.resize(static_cast<size_t>(returned));
  if (io == CUDNN_DATA_FLOAT) {
    // fp32 stays fp32: engines that would run it on tensor cores (TF32) are not offered.
    std::vector<std::unique_ptr<Descriptor>> exact;
    for (auto& config : configs_) {
      Descriptor engine(CUDNN_BACKEND_ENGINE_DESCRIPTOR);
      int64_t n = 0;
      if (cudnnBackendGetAttribute(config->d, CUDNN_ATTR_ENGINECFG_ENGINE, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &n,
                                   &engine.d) != CUDNN_STATUS_SUCCESS)
        continue;
      cudnnBackendNumericalNote_t notes[CUDNN_NUMERICAL_NOTE_TYPE_COUNT];
      int64_t count_notes = 0;
      if (cudnnBackendGetAttribute(engine.d, CUDNN_ATTR_ENGINE_NUMERICAL_NOTE, CUDNN_TYPE_NUMERICAL_NOTE,
                                   CUDNN_NUMERICAL_NOTE_TYPE_COUNT, &count_notes, notes) != CUDNN_STATUS_SUCCESS)
        continue;
      bool tensor_core = false;
      for (int64_t i = 0; i < count_notes; ++i) tensor_core |= notes[i] == CUDNN_NUMERICAL_NOTE_TENSOR_CORE;
      if (!tensor_core) exact.push_back(std::move(config));
    }
    configs_ = std::move(exact);
  }
}

CudnnConvGraph::~CudnnConvGraph() = default;

bool CudnnConvGraph::select(int index) {
  plan_ = nullptr;
  variant_pack_.reset();
  bound_workspace_ = nullptr;
  if (index < 0 || index >= engine_configs()) return false;
  plans_.resize(configs_.size());
  if (!plans_[index]) {
    auto plan = std::make_unique<Descriptor>(CUDNN_BACKEND_EXECUTION_PLAN_DESCRIPTOR);
    plan->set(CUDNN_ATTR_EXECUTION_PLAN_HANDLE, CUDNN_TYPE_HANDLE, 1, &cudnn_)
        .link(CUDNN_ATTR_EXECUTION_PLAN_ENGINE_CONFIG, *configs_[index]);
    if (cudnnBackendFinalize(plan->d) != CUDNN_STATUS_SUCCESS) return false;
    plans_[index] = std::move(plan);
  }
  int64_t bytes = 0, got = 0;
  check(cudnnBackendGetAttribute(plans_[index]->d, CUDNN_ATTR_EXECUTION_PLAN_WORKSPACE_SIZE, CUDNN_TYPE_INT64, 1, &got,
                                 &bytes),
        "execution plan workspace size");
  workspace_bytes_ = static_cast<size_t>(bytes);
  plan_ = plans_[index].get();
  return true;
}

void CudnnConvGraph::release_others() {
  for (auto& p : plans_)
    if (p.get() != plan_) p.reset();
}

void CudnnConvGraph::run(void* workspace) {
  if (!plan_) throw Error("cuDNN convolution graph run before an engine configuration was selected");
  if (!variant_pack_ || workspace != bound_workspace_) {
    auto pack = std::make_unique<Descriptor>(CUDNN_BACKEND_VARIANT_PACK_DESCRIPTOR);
    pack->set(CUDNN_ATTR_VARIANT_PACK_UNIQUE_IDS, CUDNN_TYPE_INT64, static_cast<int64_t>(uids_.size()), uids_.data())
        .set(CUDNN_ATTR_VARIANT_PACK_DATA_POINTERS, CUDNN_TYPE_VOID_PTR, static_cast<int64_t>(pointers_.size()),
             pointers_.data())
        .set(CUDNN_ATTR_VARIANT_PACK_WORKSPACE, CUDNN_TYPE_VOID_PTR, 1, &workspace);
    pack->finalize();
    variant_pack_ = std::move(pack);
    bound_workspace_ = workspace;
  }
  check(cudnnBackendExecute(cudnn_, plan_->d, variant_pack_->d), "cudnnBackendExecute");
}

}  // namespace crowdrt::cuda
