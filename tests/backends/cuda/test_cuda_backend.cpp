// The CUDA backend against the CPU fp32 engine (oneDNN), beyond single ops (every op on odd shapes in every precision
// is test_backend_ops's, tests/backends/ops): the fusions (a Concat upsampling its Resize input, the stem reading the
// input's staging buffer, the UNet tail as one kernel), in fp32 (TF32 off: max|Δ| <= 1e-3 max|ref|), fp16 and bf16
// (<= 1e-2 / 3e-2); whole smp-layout models (CROWDRT_GPU_MODELS or testdata/models); plans refusing another device;
// many runs giving the same bits; the timing cache reused; int8 (a Conv chain against a host int8 reference,
// smp-layout models against the CPU fp32 engine). Every test skips, saying so, where no CUDA device is present.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "../test_cpu_harness.h"
#include "backends/cuda/cuda_backend.h"
#include "backends/cuda/cuda_conv.h"
#include "backends/cuda/cuda_resources.h"
#include "engine/builder.h"
#include "engine/runtime.h"
#include "quant/scheme.h"

namespace crowdrt::test {
namespace {

#define SKIP_WITHOUT_GPU()                                         \
  do {                                                             \
    std::string why;                                               \
    if (!cuda::device_available(&why)) GTEST_SKIP() << why << ": CUDA tests skipped"; \
  } while (0)

std::vector<Tensor> run_graph(const Backend& backend, const ir::Graph& graph, const std::vector<Tensor>& inputs,
                              Precision precision, std::vector<LayerInfo>* layers = nullptr) {
  CompileOptions options;
  options.precision = precision;
  options.time_tactics = false;  // cuDNN's first-ranked kernels; the model tests below time every candidate
  const std::unique_ptr<CompiledGraph> compiled = backend.compile(graph, options);
  std::vector<Tensor> outputs;
  std::vector<const float*> in_ptrs;
  std::vector<float*> out_ptrs;
  for (const Tensor& t : inputs) in_ptrs.push_back(t.data<float>());
  for (ir::ValueId v : graph.outputs()) outputs.emplace_back(DType::f32, graph.value(v).shape);
  for (Tensor& t : outputs) {
    std::fill(t.span<float>().begin(), t.span<float>().end(), std::nanf(""));
    out_ptrs.push_back(t.data<float>());
  }
  compiled->run(in_ptrs, out_ptrs);
  if (layers) *layers = compiled->layers();
  return outputs;
}

float tolerance(Precision p) { return p == Precision::fp32 ? 1e-3f : p == Precision::fp16 ? 1e-2f : 3e-2f; }

// max|cuda - cpu| <= tolerance * max(1, max|cpu|) on every output.
void expect_cuda_matches_cpu(const ir::Graph& graph, Precision precision, uint32_t seed = 7,
                             std::vector<LayerInfo>* cuda_layers = nullptr) {
  std::vector<Tensor> inputs;
  for (size_t i = 0; i < graph.inputs().size(); ++i)
    inputs.push_back(random_tensor(graph.value(graph.inputs()[i]).shape, seed + static_cast<uint32_t>(i)));
  // The CPU engine where it runs every node, else the reference kernels it is itself tested against.
  const CpuBackend cpu;
  const bool cpu_runs_all = std::all_of(graph.nodes().begin(), graph.nodes().end(),
                                        [&](const ir::Node& n) { return cpu.supports(graph, n, Precision::fp32); });
  const std::vector<Tensor> expected = cpu_runs_all ? run_graph(cpu, graph, inputs, Precision::fp32)
                                                    : run_graph(ReferenceBackend(), graph, inputs, Precision::fp32);
  std::vector<LayerInfo> layers;
  const std::vector<Tensor> actual = run_graph(CudaBackend(), graph, inputs, precision, &layers);
  for (size_t o = 0; o < expected.size(); ++o) {
    float reference_max = 0.f, error = 0.f;
    for (int64_t i = 0; i < expected[o].numel(); ++i) {
      const float r = expected[o].data<float>()[i], a = actual[o].data<float>()[i];
      reference_max = std::max(reference_max, std::abs(r));
      if (std::isnan(a) != std::isnan(r)) error = INFINITY;
      else if (!std::isnan(r)) error = std::max(error, std::abs(a - r));
    }
    std::string info;
    for (const LayerInfo& l : layers)
      info += cat("\n  ", l.node, " ", l.op, " ", l.kernel, " ", l.tactic.text(), " ", l.note);
    EXPECT_LE(error, tolerance(precision) * std::max(1.f, reference_max))
        << precision_name(precision) << " output " << o << " " << shape_str(expected[o].shape()) << info;
  }
  if (cuda_layers) *cuda_layers = layers;
}

ir::Attributes conv_attrs(int k, int stride, std::vector<int64_t> pads, int group = 1, int dilation = 1) {
  ir::Attributes a;
  a.set("kernel_shape", ints({k, k}));
  a.set("strides", std::vector<int64_t>{stride, stride});
  a.set("pads", std::move(pads));
  a.set("group", int64_t{group});
  a.set("dilations", std::vector<int64_t>{dilation, dilation});
  return a;
}

// A decoder's Concat of an upsampled tensor and a skip tensor (fp16, channels in groups of 8): the Concat's own
// kernel upsamples (the Resize step runs nothing) and copies, two images, within fp16's bound of the CPU engine.
TEST(CudaOps, AConcatUpsamplesItsResizeInputInItsOwnKernel) {
  SKIP_WITHOUT_GPU();
  GraphMaker g;
  const ir::ValueId x = g.input({2, 16, 5, 7}), skip = g.input({2, 8, 10, 14});
  ir::Attributes up;
  up.set("mode", std::string("nearest"));
  up.set("coordinate_transformation_mode", std::string("asymmetric"));
  up.set("nearest_mode", std::string("floor"));
  up.set("scales", std::vector<float>{1.f, 1.f, 2.f, 2.f});
  ir::Attributes axis;
  axis.set("axis", int64_t{1});
  g.output(g.node(ir::Op::Concat, {g.node(ir::Op::Resize, {x}, up), skip}, axis));
  std::vector<LayerInfo> layers;
  expect_cuda_matches_cpu(g.graph, Precision::fp16, 7, &layers);
  EXPECT_TRUE(std::any_of(layers.begin(), layers.end(), [](const LayerInfo& l) {
    return l.kernel == "crowdrt:concat_pixels" && l.note == "upsamples its Resize inputs itself";
  }));
}

// A network input read only by a ResNet stem (7x7, stride 2, 5 → 64 channels): in the fp16 engine (untimed) the
// stem kernel reads the input's float32 NCHW staging buffer itself and its conversion step runs nothing; two
// images, odd sizes, within fp16's bound of the CPU engine.
TEST(CudaOps, AStemReadsTheNetworkInputsStagingBuffer) {
  SKIP_WITHOUT_GPU();
  GraphMaker g;
  ir::Attributes a = conv_attrs(7, 2, {3, 3, 3, 3});
  a.set("activation", std::string("relu"));
  g.output(g.node(ir::Op::Conv, {g.input({2, 5, 37, 45}), g.weight({64, 5, 7, 7}, 0.1f), g.weight({64}, 0.2f)}, a));
  std::vector<LayerInfo> layers;
  expect_cuda_matches_cpu(g.graph, Precision::fp16, 7, &layers);
  EXPECT_TRUE(std::any_of(layers.begin(), layers.end(), [](const LayerInfo& l) {
    return l.kernel.rfind("crowdrt:stem", 0) == 0 && l.tactic.reads_staging;
  }));
  EXPECT_TRUE(std::any_of(layers.begin(), layers.end(),
                          [](const LayerInfo& l) { return l.op == "Input" && l.kernel.rfind("(in ", 0) == 0; }));
}

// The U-Net's full-resolution tail: [nearest 2x Resize →] 3x3 conv 32→16 + ReLU → 16→16 + ReLU [→ head 16→1].
ir::ValueId unet_tail(GraphMaker& g, ir::ValueId x, bool upsample, int stages) {
  if (upsample) {
    ir::Attributes a;
    a.set("mode", std::string("nearest"));
    a.set("coordinate_transformation_mode", std::string("asymmetric"));
    a.set("nearest_mode", std::string("floor"));
    a.set("scales", std::vector<float>{1.f, 1.f, 2.f, 2.f});
    x = g.node(ir::Op::Resize, {x}, a);
  }
  ir::Attributes relu = conv_attrs(3, 1, {1, 1, 1, 1});
  relu.set("activation", std::string("relu"));
  x = g.node(ir::Op::Conv, {x, g.weight({16, 32, 3, 3}, 0.15f), g.weight({16}, 0.2f)}, relu);
  x = g.node(ir::Op::Conv, {x, g.weight({16, 16, 3, 3}, 0.2f), g.weight({16}, 0.2f)}, relu);
  if (stages == 3)
    x = g.node(ir::Op::Conv, {x, g.weight({1, 16, 3, 3}, 0.2f), g.weight({1}, 0.2f)}, conv_attrs(3, 1, {1, 1, 1, 1}));
  return x;
}

bool ran_as_chain(const std::vector<LayerInfo>& layers) {
  return std::any_of(layers.begin(), layers.end(), [](const LayerInfo& l) { return l.kernel == "crowdrt:conv_chain"; });
}

// In the fp16 engine (untimed: fused wherever a compiled variant runs it) the tail runs as one conv_chain kernel,
// with and without its upsampling, 2 or 3 convolutions, partial 16x32 tiles and two images, within fp16's bound of
// the CPU fp32 engine.
TEST(CudaChain, TheUNetTailRunsAsOneKernel) {
  SKIP_WITHOUT_GPU();
  for (bool upsample : {true, false})
    for (int stages : {3, 2})
      for (const Shape& shape : {Shape{1, 32, 19, 23}, Shape{2, 32, 8, 16}}) {
        SCOPED_TRACE(cat(upsample ? "upsampled " : "", stages, " convs on ", shape_str(shape)));
        GraphMaker g;
        g.output(unet_tail(g, g.input(shape), upsample, stages));
        std::vector<LayerInfo> layers;
        expect_cuda_matches_cpu(g.graph, Precision::fp16, 7, &layers);
        EXPECT_TRUE(ran_as_chain(layers));
      }
}

// int8 engine: the chain reads an int8 input (relu(x) at amax 1) as its steps and multiplies them by its first
// convolution's weights quantised per output channel (max|w| / 127) on int8 tensor cores, then runs fp16. The CPU
// engine, fed the same quantised input and weights, must agree within fp16's bound.
TEST(CudaChain, AnInt8InputIsReadAsItsSteps) {
  SKIP_WITHOUT_GPU();
  for (bool upsample : {true, false}) {
    SCOPED_TRACE(upsample ? "upsampled" : "not upsampled");
    const Shape shape{1, 32, 19, 23};
    GraphMaker g;
    const ir::ValueId a = g.node(ir::Op::Relu, {g.input(shape)});
    g.output(unet_tail(g, a, upsample, 3));
    const Tensor x = random_tensor(shape, 31);
    Tensor quantised = x;
    for (float& v : quantised.span<float>()) v = std::nearbyint(std::max(v, 0.f) * 127.f) / 127.f;
    ir::Graph cpu_graph = g.graph;
    for (const ir::Node& n : cpu_graph.nodes()) {
      if (n.op != ir::Op::Conv) continue;
      Tensor w = *cpu_graph.value(n.inputs[1]).data;
      const int64_t per = w.numel() / w.shape()[0];
      for (int64_t o = 0; o < w.shape()[0]; ++o) {
        float m = 0.f;
        for (int64_t i = 0; i < per; ++i) m = std::max(m, std::abs(w.data<float>()[o * per + i]));
        for (int64_t i = 0; i < per; ++i) {
          float& v = w.data<float>()[o * per + i];
          v = std::nearbyint(v / (m / 127.f)) * (m / 127.f);
        }
      }
      cpu_graph.value(n.inputs[1]).data = std::make_shared<const Tensor>(std::move(w));
      break;  // the first convolution only
    }
    const Tensor expected = run_graph(CpuBackend(), cpu_graph, {quantised}, Precision::fp32)[0];
    CompileOptions options;
    options.precision = Precision::int8;
    options.activation_amax = {{g.graph.value(a).name, 1.f}};
    const std::unique_ptr<CompiledGraph> compiled = CudaBackend().compile(g.graph, options);
    Tensor actual(DType::f32, expected.shape());
    const std::vector<const float*> ins = {x.data<float>()};
    const std::vector<float*> outs = {actual.data<float>()};
    compiled->run(ins, outs);
    EXPECT_TRUE(ran_as_chain(compiled->layers()));
    bool int8_input = false;
    for (const LayerInfo& l : compiled->layers())
      int8_input = int8_input || (l.op == "Relu" && l.layout == "NHWC int8");
    EXPECT_TRUE(int8_input) << "relu(x) was not stored int8";
    float ref_max = 0.f, err = 0.f;
    for (int64_t i = 0; i < expected.numel(); ++i) {
      ref_max = std::max(ref_max, std::abs(expected.data<float>()[i]));
      err = std::max(err, std::abs(expected.data<float>()[i] - actual.data<float>()[i]));
    }
    EXPECT_LE(err, tolerance(Precision::fp16) * ref_max) << "max|ref| " << ref_max;
    std::printf("int8 input, %s chain: max|Δ|/max|ref| = %.3g\n", upsample ? "upsampled" : "plain", err / ref_max);
  }
}

// Whole smp-layout models: the ONNX files export_models.py writes (testdata/models, or CROWDRT_GPU_MODELS).
std::vector<std::filesystem::path> model_files() {
  const char* env = std::getenv("CROWDRT_GPU_MODELS");
  const std::filesystem::path dir = env ? env : std::filesystem::path(CROWDRT_TEST_DATA) / "models";
  std::vector<std::filesystem::path> files;
  if (std::filesystem::is_directory(dir))
    for (const auto& e : std::filesystem::directory_iterator(dir))
      if (e.path().extension() == ".onnx") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

Tensor run_plan(Plan plan, const Tensor& input) {
  Engine engine(std::move(plan), RuntimeOptions{});
  return engine.infer(input);
}

// A model file's reference: an input uniform in [0, 1) (seed 11) and the CPU fp32 engine's output for it.
struct CpuReference {
  Tensor input, expected;
};
CpuReference cpu_reference(const std::filesystem::path& file) {
  BuildOptions cpu;
  cpu.device = "cpu";
  const Plan cpu_plan = build_plan(file.string(), cpu);
  const Shape shape = cpu_plan.graph.value(cpu_plan.graph.inputs()[0]).shape;
  Tensor input = random_tensor(shape, 11, 0.f, 1.f);
  Tensor expected = run_plan(cpu_plan, input);
  return {std::move(input), std::move(expected)};
}

TEST(CudaModels, SmpModelsMatchTheCpuEngine) {
  SKIP_WITHOUT_GPU();
  const auto files = model_files();
  ASSERT_FALSE(files.empty()) << "no .onnx models: run `ctest -R e2e_models_fixture` or set CROWDRT_GPU_MODELS";
  for (const auto& file : files) {
    SCOPED_TRACE(file.filename().string());
    const auto [input, expected] = cpu_reference(file);
    for (Precision p : {Precision::fp32, Precision::fp16}) {
      BuildOptions gpu;
      gpu.device = "cuda";
      gpu.precision = p;
      const Tensor actual = run_plan(build_plan(file.string(), gpu), input);
      float ref_max = 0.f, err = 0.f;
      for (int64_t i = 0; i < expected.numel(); ++i) {
        ref_max = std::max(ref_max, std::abs(expected.data<float>()[i]));
        err = std::max(err, std::abs(expected.data<float>()[i] - actual.data<float>()[i]));
      }
      EXPECT_LE(err, tolerance(p) * std::max(ref_max, 1e-6f))
          << precision_name(p) << ": max|Δ| " << err << " vs max|ref| " << ref_max;
      std::printf("%s %s: max|Δ|/max|ref| = %.3g\n", file.filename().c_str(), precision_name(p), err / ref_max);
    }
  }
}

ir::Graph small_network() {
  GraphMaker g;
  const ir::ValueId x = g.input({1, 5, 32, 32});
  ir::Attributes a = conv_attrs(3, 1, {1, 1, 1, 1});
  a.set("activation", std::string("relu"));
  const ir::ValueId y = g.node(ir::Op::Conv, {x, g.weight({16, 5, 3, 3}, 0.3f), g.weight({16})}, a);
  ir::Attributes head = conv_attrs(1, 1, {0, 0, 0, 0});
  g.output(g.node(ir::Op::Conv, {y, g.weight({1, 16, 1, 1}, 0.3f), g.weight({1})}, head));
  return g.graph;
}

TEST(CudaRuntime, ManyInferencesInARowGiveTheSameBits) {
  SKIP_WITHOUT_GPU();
  const ir::Graph graph = small_network();
  const Tensor input = random_tensor({1, 5, 32, 32}, 3);
  CompileOptions options;
  options.precision = Precision::fp16;
  options.time_tactics = true;
  auto compiled = CudaBackend().compile(graph, options);
  Tensor first(DType::f32, {1, 1, 32, 32}), again(DType::f32, {1, 1, 32, 32});
  const float* in[] = {input.data<float>()};
  float* out_first[] = {first.data<float>()};
  float* out_again[] = {again.data<float>()};
  compiled->run(in, out_first);
  for (int i = 0; i < 300; ++i) {
    compiled->run(in, out_again);
    ASSERT_EQ(0, std::memcmp(first.data<float>(), again.data<float>(), first.numel() * sizeof(float))) << "run " << i;
  }
  DeviceTimes times;
  ASSERT_TRUE(compiled->last_device_times(&times));
  EXPECT_GT(times.compute_ms, 0.0);
  std::vector<double> layer_ms;
  compiled->run(in, out_again, &layer_ms);
  EXPECT_EQ(layer_ms.size(), compiled->layers().size());
  EXPECT_EQ(0, std::memcmp(first.data<float>(), again.data<float>(), first.numel() * sizeof(float)));
}

TEST(CudaRuntime, APlanForAnotherGpuIsRefusedNamingTheDifference) {
  SKIP_WITHOUT_GPU();
  const auto dir = std::filesystem::temp_directory_path() / "crowdrt_cuda_plan_test";
  std::filesystem::create_directories(dir);
  // A plan with the CUDA fingerprint of another GPU model: load must fail and name the GPU field.
  Plan plan;
  plan.graph = small_network();
  plan.header = {{"backend", "cuda"},
                 {"device", "cuda:NVIDIA Jetson AGX Orin:sm_87:driver 12020:runtime 12020:cudnn 90000"},
                 {"build", {{"precision", "fp16"}}}};
  try {
    Engine engine(std::move(plan), RuntimeOptions{}, "orin.plan");
    FAIL() << "a plan for another GPU was accepted";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("Jetson AGX Orin"), std::string::npos) << message;
    EXPECT_NE(message.find("rebuild"), std::string::npos) << message;
  }
}

TEST(CudaBuilder, TheTimingCacheSkipsTimingOnRebuild) {
  SKIP_WITHOUT_GPU();
  const auto cache = std::filesystem::temp_directory_path() / "crowdrt_timing_cache_test.json";
  std::filesystem::remove(cache);
  const ir::Graph graph = small_network();
  CompileOptions options;
  options.precision = Precision::fp16;
  options.time_tactics = true;
  options.timing_cache = cache.string();
  auto first = CudaBackend().compile(graph, options);
  ASSERT_TRUE(std::filesystem::exists(cache));
  options.time_tactics = false;  // as when loading: tactics from the plan, else from the cache
  ir::Graph no_tactics = graph;
  auto second = CudaBackend().compile(no_tactics, options);
  int from_cache = 0;
  for (size_t i = 0; i < second->layers().size(); ++i) {
    const LayerInfo& l = second->layers()[i];
    if (l.op.rfind("Conv", 0) != 0) continue;
    EXPECT_EQ(l.tactic, first->layers()[i].tactic) << l.node;
    from_cache += l.note.find("timing cache") != std::string::npos;
  }
  EXPECT_EQ(from_cache, 2);
  std::filesystem::remove(cache);
}

// ---- int8 ----------------------------------------------------------------------------------------------------

// Host int8 convolution (NCHW, stride 1, pads k/2): x and the residual given as int8 steps with their scales,
// weights quantised per output channel as the backend does (max|w| / 127), int32 sums, the epilogue in double.
std::vector<double> int8_conv_reference(const std::vector<int>& xq, double x_scale, int in_c, int h, int w,
                                        const Tensor& weight, const Tensor& bias, const std::vector<int>* rq,
                                        double r_scale, bool relu) {
  const int out_c = static_cast<int>(weight.shape()[0]), k = static_cast<int>(weight.shape()[2]), pad = k / 2;
  const std::vector<float> w_scales = quant::weight_scales(weight);
  std::vector<double> y(size_t(out_c) * h * w);
  for (int o = 0; o < out_c; ++o)
    for (int yy = 0; yy < h; ++yy)
      for (int xx = 0; xx < w; ++xx) {
        int64_t acc = 0;
        for (int i = 0; i < in_c; ++i)
          for (int ky = 0; ky < k; ++ky)
            for (int kx = 0; kx < k; ++kx) {
              const int iy = yy + ky - pad, ix = xx + kx - pad;
              if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
              const float wv = weight.data<float>()[((size_t(o) * in_c + i) * k + ky) * k + kx];
              const int wq = static_cast<int>(std::clamp(std::nearbyint(wv / w_scales[o]), -127.f, 127.f));
              acc += int64_t{wq} * xq[(size_t(i) * h + iy) * w + ix];
            }
        const size_t at = (size_t(o) * h + yy) * w + xx;
        double v = double(acc) * x_scale * w_scales[o] + bias.data<float>()[o];
        if (rq) v += (*rq)[at] * r_scale;
        y[at] = relu ? std::max(v, 0.0) : v;
      }
  return y;
}

std::vector<int> quantise(const std::vector<double>& x, double scale) {
  std::vector<int> q(x.size());
  for (size_t i = 0; i < x.size(); ++i)
    q[i] = static_cast<int>(std::clamp(std::nearbyint(x[i] / scale), -128.0, 127.0));
  return q;
}

// relu(x0) → Conv A (3x3, + relu(r0) as an int8 residual, ReLU) → Conv B (1x1) → output: A reads and writes
// int8 (its output is stored int8 at the calibrated scale), B reads int8 and writes the fp16 output. Checked
// against the host int8 reference: equal up to a few steps of A's output where cuDNN's epilogue rounds
// differently from the double reference (the first H100 run saw 1.9 steps), and fp16 output rounding.
TEST(CudaInt8, AConvChainMatchesTheHostInt8Reference) {
  SKIP_WITHOUT_GPU();
  const int in_c = 16, mid_c = 32, out_c = 16, h = 12, w = 10;
  GraphMaker g;
  const ir::ValueId x0 = g.input({1, in_c, h, w}), r0 = g.input({1, mid_c, h, w});
  const ir::ValueId a = g.node(ir::Op::Relu, {x0}), r = g.node(ir::Op::Relu, {r0});
  ir::Attributes conv_a = conv_attrs(3, 1, {1, 1, 1, 1});
  conv_a.set("activation", std::string("relu"));
  conv_a.set("fused_add", int64_t{1});
  const ir::ValueId wa = g.weight({mid_c, in_c, 3, 3}, 0.2f), ba = g.weight({mid_c}, 0.3f);
  const ir::ValueId y1 = g.node(ir::Op::Conv, {a, wa, ba, r}, conv_a);
  const ir::ValueId wb = g.weight({out_c, mid_c, 1, 1}, 0.3f), bb = g.weight({out_c}, 0.3f);
  const ir::ValueId y2 = g.node(ir::Op::Conv, {y1, wb, bb}, conv_attrs(1, 1, {0, 0, 0, 0}));
  g.output(y2);
  const Tensor x = random_tensor({1, in_c, h, w}, 21), rin = random_tensor({1, mid_c, h, w}, 22);

  // Host reference. relu(x0) and relu(r0) lie in [0, 1): amax 1.
  const double unit = 1.0 / 127;
  std::vector<double> a_real(x.span<float>().begin(), x.span<float>().end()),
      r_real(rin.span<float>().begin(), rin.span<float>().end());
  for (double& v : a_real) v = std::max(v, 0.0);
  for (double& v : r_real) v = std::max(v, 0.0);
  const std::vector<int> aq = quantise(a_real, unit), rq = quantise(r_real, unit);
  const std::vector<double> y1_real = int8_conv_reference(aq, unit, in_c, h, w, *g.graph.value(wa).data,
                                                          *g.graph.value(ba).data, &rq, unit, true);
  double amax1 = 0;
  for (double v : y1_real) amax1 = std::max(amax1, std::abs(v));
  const double s1 = amax1 / 127;
  const std::vector<double> expected = int8_conv_reference(quantise(y1_real, s1), s1, mid_c, h, w,
                                                           *g.graph.value(wb).data, *g.graph.value(bb).data, nullptr,
                                                           0, false);

  CompileOptions options;
  options.precision = Precision::int8;
  options.activation_amax = {{g.graph.value(a).name, 1.f},
                             {g.graph.value(r).name, 1.f},
                             {g.graph.value(y1).name, static_cast<float>(amax1)}};
  const std::unique_ptr<CompiledGraph> compiled = CudaBackend().compile(g.graph, options);
  Tensor actual(DType::f32, {1, out_c, h, w});
  const std::vector<const float*> ins = {x.data<float>(), rin.data<float>()};
  const std::vector<float*> outs = {actual.data<float>()};
  compiled->run(ins, outs);
  for (const LayerInfo& l : compiled->layers()) {
    std::printf("  %s %s %s %s %s %s\n", l.node.c_str(), l.op.c_str(), precision_name(l.precision), l.kernel.c_str(),
                l.layout.c_str(), l.note.c_str());
    if (l.op.rfind("Conv", 0) == 0) {
      EXPECT_EQ(l.precision, Precision::int8) << l.node << ": " << l.note;
    }
  }
  double max_ref = 0, max_w = 0, err = 0;
  for (double v : expected) max_ref = std::max(max_ref, std::abs(v));
  for (float v : g.graph.value(wb).data->span<float>()) max_w = std::max(max_w, double(std::abs(v)));
  for (size_t i = 0; i < expected.size(); ++i) err = std::max(err, std::abs(expected[i] - actual.data<float>()[i]));
  // One step of y1 moves an output by at most s1 * max|w_b|; fp16 output rounding adds 2^-11 relative.
  EXPECT_LE(err, 4 * s1 * max_w + 1e-3 * max_ref) << "max|ref| " << max_ref;
  std::printf("int8 conv chain: max|Δ| = %.3g (one step of y1: %.3g, max|ref| %.3g)\n", err, s1 * max_w, max_ref);
}

// Calibration frames for the model tests: uniform [0, 1), as the fp32 comparison's input.
CalibrationInputFactory random_frames(int count) {
  return [count](const BuildOptions&, const Shape& shape) {
    CalibrationInput input;
    input.frames = count;
    auto next = std::make_shared<int>(0);
    input.next = [count, next, shape](Tensor* frame) {
      if (*next >= count) return false;
      *frame = random_tensor(shape, 11 + static_cast<uint32_t>((*next)++), 0.f, 1.f);
      return true;
    };
    return input;
  };
}

// Whole smp-layout models in int8 (untimed build: every Conv that can runs int8) against the CPU fp32 engine,
// calibrated (min-max) on 4 random frames of which the compared input is the first.
TEST(CudaModels, SmpModelsInInt8MatchTheCpuEngine) {
  SKIP_WITHOUT_GPU();
  const auto files = model_files();
  ASSERT_FALSE(files.empty()) << "no .onnx models: run `ctest -R e2e_models_fixture` or set CROWDRT_GPU_MODELS";
  for (const auto& file : files) {
    SCOPED_TRACE(file.filename().string());
    const auto [input, expected] = cpu_reference(file);
    BuildOptions gpu;
    gpu.device = "cuda";
    gpu.precision = Precision::int8;
    gpu.time_tactics = false;
    gpu.calibrator = "minmax";
    gpu.calib_dir = "(random frames)";  // the builder calibrates only where a source is named; the frames come below
    const auto cache = std::filesystem::temp_directory_path() / ("crowdrt_int8_test_" + file.stem().string() + ".bin");
    std::filesystem::remove(cache);
    gpu.calib_cache = cache.string();
    Plan plan = build_plan(file.string(), gpu, random_frames(4));
    std::filesystem::remove(cache);
    size_t int8_layers = 0, convs = 0;
    for (const auto& l : plan.header["layers"]) {
      int8_layers += l.value("precision", "") == "int8";
      convs += l.value("op", "").rfind("Conv", 0) == 0;
    }
    const Tensor actual = run_plan(std::move(plan), input);
    double ref_max = 0, err = 0, ref_sum = 0, err_sum = 0;
    for (int64_t i = 0; i < expected.numel(); ++i) {
      const double r = expected.data<float>()[i], d = std::abs(r - actual.data<float>()[i]);
      ref_max = std::max(ref_max, std::abs(r));
      err = std::max(err, d);
      ref_sum += std::abs(r);
      err_sum += d;
    }
    EXPECT_GT(int8_layers, 0u) << "no layer ran int8";
    EXPECT_LE(err, 0.1 * ref_max) << "int8: max|Δ| " << err << " vs max|ref| " << ref_max;
    EXPECT_LE(err_sum, 0.03 * ref_sum) << "int8: mean|Δ| " << err_sum / expected.numel() << " vs mean|ref| "
                                       << ref_sum / expected.numel();
    // int8 layers: Convs, and a fused chain whose first convolution is int8 (its own layer, a Resize's).
    std::printf("%s int8 (%zu int8 layers; %zu convs): max|Δ|/max|ref| = %.3g, mean|Δ|/mean|ref| = %.3g\n",
                file.filename().c_str(), int8_layers, convs, err / ref_max, err_sum / ref_sum);
  }
}

}  // namespace
}  // namespace crowdrt::test
