// bf16 and int8 Convs of the CPU backend against the same graph in fp32: precision is a permission, int8 needs
// an amax per input, chains of int8 Convs stay int8 between layers (one quantise at the input, no dequantise in
// between), and the results agree with fp32 within the error the precision implies.
#include <algorithm>

#include "test_cpu_harness.h"

namespace crowdrt::test {
namespace {

ir::Attributes conv_attrs(int64_t kernel, int64_t stride, const std::string& activation, bool residual = false) {
  ir::Attributes a;
  a.set("kernel_shape", ints({kernel, kernel}));
  const int64_t pad = kernel / 2;
  a.set("pads", ints({pad, pad, pad, pad}));
  a.set("strides", ints({stride, stride}));
  a.set("dilations", ints({1, 1}));
  a.set("group", int64_t{1});
  if (!activation.empty()) a.set("activation", activation);
  if (residual) a.set("fused_add", int64_t{1});
  return a;
}

// input → conv 3x3 relu (a) → conv 3x3 + a, relu (b) → conv 1x1 stride 2 (c, no activation) → output; plus a
// MaxPool of b as a second output, so b has a float32 reader.
ir::Graph chain_graph(int64_t channels = 32, int64_t size = 24, int64_t head_channels = 16) {
  GraphMaker g;
  const ir::ValueId x = g.input({1, 5, size, size});
  const ir::ValueId a = g.node(ir::Op::Conv, {x, g.weight({channels, 5, 3, 3}, 0.3f), g.weight({channels}, 0.1f)},
                               conv_attrs(3, 1, "relu"));
  const ir::ValueId b = g.node(ir::Op::Conv,
                               {a, g.weight({channels, channels, 3, 3}, 0.1f), g.weight({channels}, 0.1f), a},
                               conv_attrs(3, 1, "relu", true));
  const ir::ValueId c =
      g.node(ir::Op::Conv, {b, g.weight({head_channels, channels, 1, 1}, 0.2f), g.weight({head_channels}, 0.1f)},
             conv_attrs(1, 2, ""));
  ir::Attributes pool;
  pool.set("kernel_shape", ints({2, 2}));
  pool.set("strides", ints({2, 2}));
  pool.set("pads", ints({0, 0, 0, 0}));
  const ir::ValueId p = g.node(ir::Op::MaxPool, {b}, pool);
  g.output(c);
  g.output(p);
  return g.graph;
}

std::vector<Tensor> run(const ir::Graph& graph, const CompileOptions& options, const Tensor& input,
                        std::vector<LayerInfo>* layers = nullptr) {
  const auto compiled = CpuBackend().compile(graph, options);
  std::vector<Tensor> outputs;
  std::vector<float*> out_ptrs;
  for (ir::ValueId v : graph.outputs()) outputs.emplace_back(DType::f32, graph.value(v).shape);
  for (Tensor& t : outputs) out_ptrs.push_back(t.data<float>());
  const float* in = input.data<float>();
  compiled->run(std::span<const float* const>(&in, 1), out_ptrs);
  if (layers) *layers = compiled->layers();
  return outputs;
}

// Exact max|x| of every value on this input (the min-max calibration of one frame), from an fp32 run of a copy
// of the graph whose every value is an output.
std::map<std::string, float> exact_amax(const ir::Graph& graph, const Tensor& input) {
  ir::Graph all = graph;
  all.outputs().clear();
  for (const ir::Node& n : all.nodes()) all.outputs().push_back(n.outputs[0]);
  const std::vector<Tensor> values = run(all, CompileOptions{}, input);
  std::map<std::string, float> amax;
  for (size_t i = 0; i < values.size(); ++i) {
    float m = 0;
    for (float v : values[i].span<float>()) m = std::max(m, std::abs(v));
    amax[all.value(all.outputs()[i]).name] = m;
  }
  float m = 0;
  for (float v : input.span<float>()) m = std::max(m, std::abs(v));
  amax[graph.value(graph.inputs()[0]).name] = m;
  return amax;
}

struct Error {
  double max_abs = 0, mean_abs = 0, ref_max = 0;
};
Error compare(const Tensor& got, const Tensor& ref) {
  Error e;
  const auto g = got.span<float>(), r = ref.span<float>();
  for (size_t i = 0; i < r.size(); ++i) {
    const double d = std::abs(double(g[i]) - r[i]);
    e.max_abs = std::max(e.max_abs, d);
    e.mean_abs += d / r.size();
    e.ref_max = std::max(e.ref_max, std::abs(double(r[i])));
  }
  return e;
}

const LayerInfo& layer_of(const std::vector<LayerInfo>& layers, const std::string& node) {
  for (const LayerInfo& l : layers)
    if (l.node == node) return l;
  throw crowdrt::Error(cat("no layer ", node));
}

int count_notes(const std::vector<LayerInfo>& layers, const std::string& word) {
  return static_cast<int>(std::count_if(layers.begin(), layers.end(), [&](const LayerInfo& l) {
    return l.op == "Reorder" && l.note.find(word) != std::string::npos;
  }));
}

TEST(CpuReducedPrecision, Int8ChainStaysInt8BetweenConvsAndAgreesWithFp32) {
  for (int64_t head_channels : {16, 1, 3}) {
  SCOPED_TRACE(cat("head channels ", head_channels));
  const ir::Graph graph = chain_graph(32, 24, head_channels);
  const Tensor input = random_tensor({1, 5, 24, 24}, 3, 0.f, 1.f);
  const std::vector<Tensor> ref = run(graph, CompileOptions{}, input);
  CompileOptions options;
  options.precision = Precision::int8;
  options.activation_amax = exact_amax(graph, input);
  std::vector<LayerInfo> layers;
  const std::vector<Tensor> got = run(graph, options, input, &layers);
  for (const std::string node : {"Conv_0", "Conv_1", "Conv_2"})
    EXPECT_EQ(layer_of(layers, node).precision, Precision::int8) << node << ": " << layer_of(layers, node).note;
  EXPECT_EQ(layer_of(layers, "MaxPool_3").precision, Precision::fp32);
  EXPECT_NE(layer_of(layers, "MaxPool_3").note.find("fell back to fp32"), std::string::npos);
  // a (read by int8 Convs only) stays int8; b has a float32 reader (MaxPool), so Conv_1 writes float32 and
  // Conv_2 quantises it: two quantising reorders (the graph input's, b's), no dequantising one.
  EXPECT_EQ(count_notes(layers, "quantise") - count_notes(layers, "dequantise"), 2);
  EXPECT_EQ(count_notes(layers, "dequantise"), 0);
  for (size_t i = 0; i < ref.size(); ++i) {
    const Error e = compare(got[i], ref[i]);
    // per-tensor 8-bit activations over three layers: about 1% of the range on average
    EXPECT_LT(e.mean_abs, 0.01 * e.ref_max) << "output " << i;
    EXPECT_LT(e.max_abs, 0.06 * e.ref_max) << "output " << i;
    EXPECT_GT(e.max_abs, 0.0) << "output " << i << " is bit-identical to fp32: int8 did not run";
  }
  }
}

// int8 permits bf16 too (precision_permits), so the layer falls back to bf16, not fp32.
TEST(CpuReducedPrecision, Int8WithoutAnAmaxFallsBackAndSaysWhy) {
  const ir::Graph graph = chain_graph();
  const Tensor input = random_tensor({1, 5, 24, 24}, 3, 0.f, 1.f);
  CompileOptions options;
  options.precision = Precision::int8;
  options.activation_amax = exact_amax(graph, input);
  options.activation_amax.erase(graph.value(graph.nodes()[1].inputs[0]).name);  // Conv_1's input a
  std::vector<LayerInfo> layers;
  const std::vector<Tensor> got = run(graph, options, input, &layers);
  EXPECT_EQ(layer_of(layers, "Conv_0").precision, Precision::int8);
  EXPECT_EQ(layer_of(layers, "Conv_1").precision, Precision::bf16);
  EXPECT_NE(layer_of(layers, "Conv_1").note.find("fell back to bf16: no int8 scale for its input 'v"),
            std::string::npos)
      << layer_of(layers, "Conv_1").note;
}

TEST(CpuReducedPrecision, KeepFp32KeepsTheNamedLayer) {
  const ir::Graph graph = chain_graph();
  const Tensor input = random_tensor({1, 5, 24, 24}, 3, 0.f, 1.f);
  CompileOptions options;
  options.precision = Precision::int8;
  options.activation_amax = exact_amax(graph, input);
  options.keep_fp32 = {"Conv_2"};
  std::vector<LayerInfo> layers;
  run(graph, options, input, &layers);
  EXPECT_EQ(layer_of(layers, "Conv_1").precision, Precision::int8);
  EXPECT_EQ(layer_of(layers, "Conv_2").precision, Precision::fp32);
  EXPECT_NE(layer_of(layers, "Conv_2").note.find("--keep-fp32"), std::string::npos);
}

TEST(CpuReducedPrecision, Bf16AgreesWithFp32) {
  const ir::Graph graph = chain_graph();
  const Tensor input = random_tensor({1, 5, 24, 24}, 3, 0.f, 1.f);
  const std::vector<Tensor> ref = run(graph, CompileOptions{}, input);
  CompileOptions options;
  options.precision = Precision::bf16;
  std::vector<LayerInfo> layers;
  const std::vector<Tensor> got = run(graph, options, input, &layers);
  for (const std::string node : {"Conv_0", "Conv_1", "Conv_2"})
    EXPECT_EQ(layer_of(layers, node).precision, Precision::bf16) << node << ": " << layer_of(layers, node).note;
  for (size_t i = 0; i < ref.size(); ++i) {
    const Error e = compare(got[i], ref[i]);
    // bf16 keeps 8 significant bits: relative rounding 2^-9 per operand, summed over a few hundred products
    EXPECT_LT(e.max_abs, 0.02 * e.ref_max) << "output " << i;
    EXPECT_GT(e.max_abs, 0.0) << "output " << i;
  }
}

// A UNet in small: input → Conv_0 3x3 stride 2, relu (a) → MaxPool_1 (p) → Conv_2 3x3, relu (b) → Resize_3 x2
// (r) → Concat_4 [r, a] (c) → Conv_5 3x3 → output; with `concat_is_output`, c is a graph output too.
ir::Graph unet_graph(const std::string& resize_mode, bool concat_is_output) {
  GraphMaker g;
  const ir::ValueId x = g.input({1, 5, 36, 36});
  const ir::ValueId a = g.node(ir::Op::Conv, {x, g.weight({12, 5, 3, 3}, 0.3f), g.weight({12}, 0.1f)},
                               conv_attrs(3, 2, "relu"));
  ir::Attributes pool;
  pool.set("kernel_shape", ints({2, 2}));
  pool.set("strides", ints({2, 2}));
  pool.set("pads", ints({0, 0, 0, 0}));
  const ir::ValueId p = g.node(ir::Op::MaxPool, {a}, pool);
  const ir::ValueId b = g.node(ir::Op::Conv, {p, g.weight({24, 12, 3, 3}, 0.2f), g.weight({24}, 0.1f)},
                               conv_attrs(3, 1, "relu"));
  ir::Attributes resize;
  resize.set("mode", resize_mode);
  resize.set("coordinate_transformation_mode", std::string("asymmetric"));
  resize.set("nearest_mode", std::string("floor"));
  resize.set("scales", std::vector<float>{1.f, 1.f, 2.f, 2.f});
  const ir::ValueId r = g.node(ir::Op::Resize, {b}, resize);
  ir::Attributes concat;
  concat.set("axis", int64_t{1});
  const ir::ValueId c = g.node(ir::Op::Concat, {r, a}, concat);
  g.output(g.node(ir::Op::Conv, {c, g.weight({8, 36, 3, 3}, 0.1f), g.weight({8}, 0.1f)}, conv_attrs(3, 1, "")));
  if (concat_is_output) g.output(c);
  return g.graph;
}

// Reorders between layers (not the graph input's or outputs').
int inner_reorders(const std::vector<LayerInfo>& layers) {
  return static_cast<int>(std::count_if(layers.begin(), layers.end(), [](const LayerInfo& l) {
    return l.op == "Reorder" && l.node.rfind("input:", 0) != 0 && l.node.rfind("output:", 0) != 0;
  }));
}

TEST(CpuReducedPrecision, Bf16PassesThroughMaxPoolNearestResizeAndConcatUnchanged) {
  const Tensor input = random_tensor({1, 5, 36, 36}, 7, 0.f, 1.f);
  CompileOptions options;
  options.precision = Precision::bf16;
  std::vector<LayerInfo> through, converted;
  const std::vector<Tensor> got = run(unet_graph("nearest", false), options, input, &through);
  for (const std::string node : {"MaxPool_1", "Resize_3", "Concat_4"}) {
    EXPECT_EQ(layer_of(through, node).precision, Precision::bf16) << node;
    EXPECT_EQ(layer_of(through, node).note.find("fell back"), std::string::npos) << layer_of(through, node).note;
  }
  EXPECT_EQ(inner_reorders(through), 0);
  // With c a graph output, Concat (and so Resize, and a, which Concat reads) runs float32 and each bf16 Conv
  // converts its input: the same bf16 values, since these ops only select and copy (rounding is monotonic).
  const std::vector<Tensor> reference = run(unet_graph("nearest", true), options, input, &converted);
  EXPECT_EQ(layer_of(converted, "Concat_4").precision, Precision::fp32);
  EXPECT_EQ(layer_of(converted, "MaxPool_1").precision, Precision::bf16);
  EXPECT_GT(inner_reorders(converted), 0);
  EXPECT_EQ(compare(got[0], reference[0]).max_abs, 0.0);
  // and both agree with fp32 as bf16 does
  const std::vector<Tensor> fp32 = run(unet_graph("nearest", false), CompileOptions{}, input);
  const Error e = compare(got[0], fp32[0]);
  EXPECT_LT(e.max_abs, 0.02 * e.ref_max);
  EXPECT_GT(e.max_abs, 0.0);
}

// A linear Resize blends values, which bf16 would round once more: it stays float32.
TEST(CpuReducedPrecision, Bf16DoesNotPassThroughLinearResize) {
  const Tensor input = random_tensor({1, 5, 36, 36}, 7, 0.f, 1.f);
  CompileOptions options;
  options.precision = Precision::bf16;
  std::vector<LayerInfo> layers;
  const std::vector<Tensor> got = run(unet_graph("linear", false), options, input, &layers);
  EXPECT_EQ(layer_of(layers, "Resize_3").precision, Precision::fp32);
  EXPECT_NE(layer_of(layers, "Resize_3").note.find("fell back to fp32"), std::string::npos);
  const std::vector<Tensor> fp32 = run(unet_graph("linear", false), CompileOptions{}, input);
  const Error e = compare(got[0], fp32[0]);
  EXPECT_LT(e.max_abs, 0.02 * e.ref_max);
}

TEST(CpuReducedPrecision, Fp16FallsBackToFp32OnThisCpuAndSaysWhy) {
  const ir::Graph graph = chain_graph();
  const Tensor input = random_tensor({1, 5, 24, 24}, 3, 0.f, 1.f);
  const std::vector<Tensor> ref = run(graph, CompileOptions{}, input);
  CompileOptions options;
  options.precision = Precision::fp16;
  std::vector<LayerInfo> layers;
  const std::vector<Tensor> got = run(graph, options, input, &layers);
  EXPECT_EQ(layer_of(layers, "Conv_0").precision, Precision::fp32);
  EXPECT_NE(layer_of(layers, "Conv_0").note.find("no fp16 convolution"), std::string::npos);
  EXPECT_EQ(compare(got[0], ref[0]).max_abs, 0.0);
}

// A density head: one output channel, 3x3, reading the int8 output of the Conv before it.
TEST(CpuReducedPrecision, Int8HeadWithOneOutputChannelAgreesWithFp32) {
  for (int64_t size : {24, 64}) {
    GraphMaker g;
    const ir::ValueId x = g.input({1, 16, size, size});
    const ir::ValueId a = g.node(ir::Op::Conv, {x, g.weight({16, 16, 3, 3}, 0.3f), g.weight({16}, 0.1f)},
                                 conv_attrs(3, 1, "relu"));
    const ir::ValueId y = g.node(ir::Op::Conv, {a, g.weight({1, 16, 3, 3}, 0.3f), g.weight({1}, 0.1f)},
                                 conv_attrs(3, 1, ""));
    g.output(y);
    const Tensor input = random_tensor({1, 16, size, size}, 3, 0.f, 1.f);
    const std::vector<Tensor> ref = run(g.graph, CompileOptions{}, input);
    CompileOptions options;
    options.precision = Precision::int8;
    options.activation_amax = exact_amax(g.graph, input);
    std::vector<LayerInfo> layers;
    const std::vector<Tensor> got = run(g.graph, options, input, &layers);
    EXPECT_EQ(layer_of(layers, "Conv_1").precision, Precision::int8);
    const Error e = compare(got[0], ref[0]);
    EXPECT_LT(e.mean_abs, 0.01 * e.ref_max) << size;
    EXPECT_LT(e.max_abs, 0.05 * e.ref_max) << size;
  }
}
}  // namespace
}  // namespace crowdrt::test
