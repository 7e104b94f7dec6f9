#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "ir/passes/passes.h"
#include "onnx_builder.h"

using namespace crowdrt;
using namespace crowdrt::test;

namespace {
const ir::Node& only_node(const ir::Graph& g, ir::Op op) {
  const ir::Node* found = nullptr;
  for (const ir::Node& n : g.nodes())
    if (n.op == op) {
      EXPECT_EQ(found, nullptr) << "more than one " << ir::op_name(op);
      found = &n;
    }
  if (!found) throw Error(cat("no ", ir::op_name(op), " node"));
  return *found;
}

std::vector<ir::Op> ops_of(const ir::Graph& g) {
  std::vector<ir::Op> ops;
  for (const ir::Node& n : g.nodes()) ops.push_back(n.op);
  return ops;
}

std::string import_error(const OnnxBuilder& b, const onnx_import::ImportOptions& options = {}) {
  try {
    ir::fold_constants(b.import(options));
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

// x (1x3x8x8) → one node of `op` with the given extra inputs → y.
OnnxBuilder one_node_model(const std::string& op, std::vector<std::string> extra_inputs = {}, int opset = 13) {
  OnnxBuilder b(opset);
  b.input("x", {1, 3, 8, 8});
  extra_inputs.insert(extra_inputs.begin(), "x");
  b.node(op, extra_inputs, {"y"}, "the_node");
  b.output("y");
  return b;
}
}  // namespace

TEST(ImportOnnx, ConvModelKeepsOnnxValueNamesInputsOutputsAndWeightsAsConstants) {
  OnnxBuilder b(13);
  b.input("input", {1, 3, 8, 8});
  b.initializer_f("conv.weight", {4, 3, 1, 1}, std::vector<float>(12, 0.5f));
  b.initializer_f("conv.bias", {4}, {1, 2, 3, 4});
  b.node("Conv", {"input", "conv.weight", "conv.bias"}, {"/conv/Conv_output_0"}, "/conv/Conv");
  b.node("Relu", {"/conv/Conv_output_0"}, {"output"}, "/relu/Relu");
  b.output("output");
  const ir::Graph g = b.import();
  ASSERT_EQ(g.inputs().size(), 1u);
  EXPECT_EQ(g.value(g.inputs()[0]).name, "input");
  EXPECT_EQ(g.value(g.inputs()[0]).shape, (Shape{1, 3, 8, 8}));
  ASSERT_EQ(g.outputs().size(), 1u);
  EXPECT_EQ(g.value(g.outputs()[0]).name, "output");
  EXPECT_EQ(ops_of(g), (std::vector<ir::Op>{ir::Op::Conv, ir::Op::Relu}));
  const ir::Node& conv = g.nodes()[0];
  EXPECT_EQ(conv.name, "/conv/Conv");
  EXPECT_EQ(g.value(conv.outputs[0]).name, "/conv/Conv_output_0");
  EXPECT_EQ(g.constant(conv.inputs[2]).to_float(), (std::vector<float>{1, 2, 3, 4}));
  EXPECT_EQ(g.constant(conv.inputs[1]).shape(), (Shape{4, 3, 1, 1}));
}

TEST(ImportOnnx, InitializersOfEveryElementTypeFromRawDataAndTypedFields) {
  OnnxBuilder b(13);
  b.input("x", {2});
  const float f32[] = {1.5f, -2.f};
  const double f64[] = {0.25, 8.0};
  const uint16_t f16[] = {float_to_half(3.f), float_to_half(-0.5f)};
  const int32_t i32[] = {-7, 9};
  const int8_t i8[] = {-3, 4};
  const uint8_t u8[] = {200, 1};
  const uint8_t boolean[] = {1, 0};
  b.initializer_raw("raw_f32", {2}, onnx::TensorProto::FLOAT, f32, sizeof f32);
  b.initializer_raw("raw_f64", {2}, onnx::TensorProto::DOUBLE, f64, sizeof f64);
  b.initializer_raw("raw_f16", {2}, onnx::TensorProto::FLOAT16, f16, sizeof f16);
  b.initializer_raw("raw_i32", {2}, onnx::TensorProto::INT32, i32, sizeof i32);
  b.initializer_raw("raw_i8", {2}, onnx::TensorProto::INT8, i8, sizeof i8);
  b.initializer_raw("raw_u8", {2}, onnx::TensorProto::UINT8, u8, sizeof u8);
  b.initializer_raw("raw_bool", {2}, onnx::TensorProto::BOOL, boolean, sizeof boolean);
  b.initializer_f("typed_f32", {2}, {1.5f, -2.f});
  b.initializer_i("typed_i64", {2}, {-5, 1ll << 40});
  auto& typed_f16 = *b.model().mutable_graph()->add_initializer();
  typed_f16.set_name("typed_f16");
  typed_f16.set_data_type(onnx::TensorProto::FLOAT16);
  typed_f16.add_dims(2);
  for (uint16_t h : f16) typed_f16.add_int32_data(h);
  auto& typed_f64 = *b.model().mutable_graph()->add_initializer();
  typed_f64.set_name("typed_f64");
  typed_f64.set_data_type(onnx::TensorProto::DOUBLE);
  typed_f64.add_dims(2);
  for (double d : f64) typed_f64.add_double_data(d);
  auto& typed_i8 = *b.model().mutable_graph()->add_initializer();
  typed_i8.set_name("typed_i8");
  typed_i8.set_data_type(onnx::TensorProto::INT8);
  typed_i8.add_dims(2);
  for (int8_t v : i8) typed_i8.add_int32_data(v);
  b.node("Identity", {"x"}, {"y"});
  b.output("y");
  const ir::Graph g = b.import();
  auto constant = [&](const std::string& name) { return g.constant(g.find_value(name)); };
  EXPECT_EQ(constant("raw_f32").to_float(), (std::vector<float>{1.5f, -2.f}));
  EXPECT_EQ(constant("raw_f64").dtype(), DType::f64);
  EXPECT_EQ(constant("raw_f64").to_float(), (std::vector<float>{0.25f, 8.f}));
  EXPECT_EQ(constant("raw_f16").dtype(), DType::f16);
  EXPECT_EQ(constant("raw_f16").to_float(), (std::vector<float>{3.f, -0.5f}));
  EXPECT_EQ(constant("raw_i32").to_int64(), (std::vector<int64_t>{-7, 9}));
  EXPECT_EQ(constant("raw_i8").to_int64(), (std::vector<int64_t>{-3, 4}));
  EXPECT_EQ(constant("raw_u8").to_int64(), (std::vector<int64_t>{200, 1}));
  EXPECT_EQ(constant("raw_bool").dtype(), DType::boolean);
  EXPECT_EQ(constant("raw_bool").to_int64(), (std::vector<int64_t>{1, 0}));
  EXPECT_EQ(constant("typed_f32").to_float(), (std::vector<float>{1.5f, -2.f}));
  EXPECT_EQ(constant("typed_i64").to_int64(), (std::vector<int64_t>{-5, 1ll << 40}));
  EXPECT_EQ(constant("typed_f16").to_float(), (std::vector<float>{3.f, -0.5f}));
  EXPECT_EQ(constant("typed_f64").to_float(), (std::vector<float>{0.25f, 8.f}));
  EXPECT_EQ(constant("typed_i8").to_int64(), (std::vector<int64_t>{-3, 4}));
}

TEST(ImportOnnx, ExternalDataAndWrongSizedTensorsAreClearErrors) {
  OnnxBuilder external = one_node_model("Add", {"w"});
  onnx::TensorProto& w = external.initializer_f("w", {1}, {});
  w.set_data_location(onnx::TensorProto::EXTERNAL);
  EXPECT_NE(import_error(external).find("initializer 'w': tensor data is stored in an external file"),
            std::string::npos);

  OnnxBuilder short_raw = one_node_model("Add", {"w"});
  const float one = 1.f;
  short_raw.initializer_raw("w", {2}, onnx::TensorProto::FLOAT, &one, sizeof one);
  EXPECT_NE(import_error(short_raw).find("initializer 'w'"), std::string::npos);

  OnnxBuilder strings = one_node_model("Add", {"w"});
  strings.initializer_f("w", {1}, {1.f}).set_data_type(onnx::TensorProto::STRING);
  EXPECT_NE(import_error(strings).find("STRING is not supported"), std::string::npos);
}

TEST(ImportOnnx, ConstantNodesOfEveryFormBecomeConstants) {
  OnnxBuilder b(13);
  b.input("x", {1});
  b.constant_f("tensor_value", {2}, {1.f, 2.f});
  OnnxBuilder::attr_f(b.node("Constant", {}, {"float_value"}), "value_float", 2.5f);
  OnnxBuilder::attr_floats(b.node("Constant", {}, {"floats_value"}), "value_floats", {1.f, -1.f});
  OnnxBuilder::attr_i(b.node("Constant", {}, {"int_value"}), "value_int", 7);
  OnnxBuilder::attr_ints(b.node("Constant", {}, {"ints_value"}), "value_ints", {3, 4, 5});
  b.node("Identity", {"x"}, {"y"});
  b.output("y");
  const ir::Graph g = b.import();
  EXPECT_EQ(ops_of(g), std::vector<ir::Op>{ir::Op::Identity});  // Constant nodes leave no node behind
  auto constant = [&](const std::string& name) { return g.constant(g.find_value(name)); };
  EXPECT_EQ(constant("tensor_value").to_float(), (std::vector<float>{1.f, 2.f}));
  EXPECT_EQ(constant("float_value").shape(), Shape{});
  EXPECT_EQ(constant("float_value").to_float(), std::vector<float>{2.5f});
  EXPECT_EQ(constant("floats_value").to_float(), (std::vector<float>{1.f, -1.f}));
  EXPECT_EQ(constant("int_value").dtype(), DType::i64);
  EXPECT_EQ(constant("int_value").to_int64(), std::vector<int64_t>{7});
  EXPECT_EQ(constant("ints_value").to_int64(), (std::vector<int64_t>{3, 4, 5}));
}

TEST(ImportOnnx, AGraphInputThatIsAlsoAnInitializerIsAConstant) {
  OnnxBuilder b(13);
  b.input("x", {1, 4});
  b.input("bias", {4});
  b.initializer_f("bias", {4}, {1, 2, 3, 4});
  b.node("Add", {"x", "bias"}, {"y"});
  b.output("y");
  const ir::Graph g = b.import();
  ASSERT_EQ(g.inputs().size(), 1u);
  EXPECT_EQ(g.value(g.inputs()[0]).name, "x");
  EXPECT_TRUE(g.value(g.find_value("bias")).is_constant());
}

TEST(ImportOnnx, ADynamicDimensionNeedsAnOverrideThatNamesTheInput) {
  OnnxBuilder b(13);
  b.input("images", {-1, 3, 8, 8});
  b.node("Relu", {"images"}, {"y"});
  b.output("y");
  const std::string error = import_error(b);
  EXPECT_NE(error.find("model.onnx: input 'images' has dynamic dimensions (Nx3x8x8)"), std::string::npos) << error;
  EXPECT_NE(error.find("pass a fixed shape"), std::string::npos) << error;

  onnx_import::ImportOptions options;
  options.input_shapes["images"] = {2, 3, 8, 8};
  const ir::Graph g = b.import(options);
  EXPECT_EQ(g.value(g.inputs()[0]).shape, (Shape{2, 3, 8, 8}));

  options.input_shapes = {{"image", {1, 3, 8, 8}}};
  EXPECT_NE(import_error(b, options).find("'image', which is not an input of the model; its inputs are: images"),
            std::string::npos);
  options.input_shapes = {{"images", {1, 3, 8}}};
  EXPECT_NE(import_error(b, options).find("has 4 dimensions"), std::string::npos);
}

TEST(ImportOnnx, UnsupportedOperatorsAreListedOnceEachWithTheirFirstNode) {
  OnnxBuilder b(13);
  b.input("x", {1, 8});
  b.node("Gemm", {"x"}, {"a"}, "/fc/Gemm");
  b.node("LSTM", {"a"}, {"b"}, "lstm0");
  b.node("Gemm", {"b"}, {"c"}, "/fc2/Gemm");
  b.node("Relu", {"c"}, {"d"}, "relu");
  b.node("Softmax", {"d"}, {"e"}, "");
  b.output("e");
  const std::string error = import_error(b);
  EXPECT_EQ(
      error.rfind("model.onnx: unsupported operators: Gemm (node /fc/Gemm), LSTM (node lstm0), Softmax (node ", 0), 0u)
      << error;
  EXPECT_EQ(error.find("/fc2/Gemm"), std::string::npos) << error;
  EXPECT_NE(error.find("; crowdrt supports: Conv, "), std::string::npos) << error;
  EXPECT_EQ(error.find('\n'), std::string::npos);
}

TEST(ImportOnnx, OperatorsOfAnotherDomainAreUnsupported) {
  OnnxBuilder b(13);
  b.input("x", {1, 8});
  b.node("Relu", {"x"}, {"y"}, "custom_relu").set_domain("com.microsoft");
  b.output("y");
  EXPECT_NE(import_error(b).find("unsupported operators: com.microsoft.Relu (node custom_relu)"), std::string::npos);
}

TEST(ImportOnnx, EveryTruncationOfAValidModelIsAnErrorNotACrash) {
  OnnxBuilder b(13);
  b.input("x", {1, 3, 4, 4});
  b.initializer_f("w", {2, 3, 1, 1}, std::vector<float>(6, 1.f));
  b.node("Conv", {"x", "w"}, {"y"});
  b.output("y");
  const std::vector<std::byte> bytes = b.bytes();
  ASSERT_NO_THROW(onnx_import::import_onnx_bytes(bytes, "m.onnx"));
  for (size_t n = 0; n < bytes.size(); ++n)
    EXPECT_THROW(onnx_import::import_onnx_bytes(std::span(bytes).first(n), "m.onnx"), Error) << n << " bytes";
}

TEST(ImportOnnx, GarbageBytesAreAOneLineError) {
  std::mt19937 rng(3);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<std::byte> bytes(1 + rng() % 300);
    for (std::byte& x : bytes) x = static_cast<std::byte>(rng());
    try {
      onnx_import::import_onnx_bytes(bytes, "x.onnx");
      ADD_FAILURE() << "garbage accepted in trial " << trial;
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()).rfind("x.onnx: ", 0), 0u) << e.what();
      EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
    }
  }
  const std::string text = "this is not an onnx model\n";
  try {
    onnx_import::import_onnx_bytes(std::as_bytes(std::span(text)), "x.onnx");
    ADD_FAILURE() << "text accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("x.onnx: not a valid ONNX model"), std::string::npos) << e.what();
  }
}

TEST(ImportOnnx, NodesComeOutInTopologicalOrder) {
  OnnxBuilder b(13);
  b.input("x", {1, 2});
  b.node("Sigmoid", {"b"}, {"c"}, "third");
  b.node("Relu", {"a"}, {"b"}, "second");
  b.node("Neg", {"x"}, {"a"}, "first");
  b.output("c");
  const ir::Graph g = b.import();
  ASSERT_EQ(g.nodes().size(), 3u);
  EXPECT_EQ(g.nodes()[0].name, "first");
  EXPECT_EQ(g.nodes()[1].name, "second");
  EXPECT_EQ(g.nodes()[2].name, "third");
}

TEST(ImportOnnx, ReadingABatchNormTrainingOutputIsAnError) {
  OnnxBuilder b(13);
  b.input("x", {1, 2, 4, 4});
  for (const char* n : {"s", "bias", "mean", "var"}) b.initializer_f(n, {2}, {1, 1});
  b.node("BatchNormalization", {"x", "s", "bias", "mean", "var"}, {"y", "running_mean"}, "bn");
  b.node("Add", {"y", "running_mean"}, {"z"});
  b.output("z");
  EXPECT_NE(import_error(b).find("reads 'running_mean', output 1 of bn"), std::string::npos) << import_error(b);
}

// ------------------------------------------------------------------------------------------------------
// Each operator imports (and folds) to the canonical form of ir/graph.h.

TEST(ImportOnnxCanonical, ConvAutoPadSameUpperPutsTheExtraPaddingAtTheEnd) {
  struct Case {
    std::string auto_pad;
    std::vector<int64_t> pads;
    int64_t size;
  };
  // 8 wide, kernel 3, stride 2: SAME gives ceil(8 / 2) = 4 outputs, which need (4-1)*2 + 3 - 8 = 1 padding.
  for (const auto& [auto_pad, pads, size] : std::vector<Case>{
           {"SAME_UPPER", {0, 0, 1, 1}, 4}, {"SAME_LOWER", {1, 1, 0, 0}, 4}, {"VALID", {0, 0, 0, 0}, 3}}) {
    OnnxBuilder b(11);
    b.input("x", {1, 3, 8, 8});
    b.initializer_f("w", {4, 3, 3, 3}, std::vector<float>(108, 1.f));
    auto& conv = b.node("Conv", {"x", "w"}, {"y"});
    OnnxBuilder::attr_s(conv, "auto_pad", auto_pad);
    OnnxBuilder::attr_ints(conv, "strides", {2, 2});
    b.output("y");
    const ir::Graph g = ir::fold_constants(b.import());
    const ir::Node& n = only_node(g, ir::Op::Conv);
    EXPECT_EQ(n.attrs.ints("pads"), pads) << auto_pad;
    EXPECT_EQ(n.attrs.ints("kernel_shape"), (std::vector<int64_t>{3, 3}));
    EXPECT_EQ(n.attrs.ints("dilations"), (std::vector<int64_t>{1, 1}));
    EXPECT_EQ(n.attrs.i("group", -1), 1);
    EXPECT_FALSE(n.attrs.has("auto_pad"));
    EXPECT_EQ(g.value(n.outputs[0]).shape, (Shape{1, 4, size, size})) << auto_pad;
  }
}

TEST(ImportOnnxCanonical, GroupedDilatedConvGetsEveryAttributeAndItsShape) {
  OnnxBuilder b(13);
  b.input("x", {1, 4, 9, 9});
  b.initializer_f("w", {6, 2, 3, 3}, std::vector<float>(108, 1.f));
  auto& conv = b.node("Conv", {"x", "w"}, {"y"});
  OnnxBuilder::attr_i(conv, "group", 2);
  OnnxBuilder::attr_ints(conv, "dilations", {2, 2});
  OnnxBuilder::attr_ints(conv, "pads", {1, 2, 1, 0});
  b.output("y");
  const ir::Graph g = ir::fold_constants(b.import());
  const ir::Node& n = only_node(g, ir::Op::Conv);
  EXPECT_EQ(n.attrs.ints("pads"), (std::vector<int64_t>{1, 2, 1, 0}));
  EXPECT_EQ(n.attrs.ints("strides"), (std::vector<int64_t>{1, 1}));
  EXPECT_EQ(n.attrs.i("group"), 2);
  EXPECT_EQ(g.value(n.outputs[0]).shape, (Shape{1, 6, 7, 7}));  // (9 + 2 - 5) + 1, (9 + 2 - 5) + 1
}

TEST(ImportOnnxCanonical, ConvTransposeWithOutputPadding) {
  OnnxBuilder b(13);
  b.input("x", {1, 4, 5, 5});
  b.initializer_f("w", {4, 2, 3, 3}, std::vector<float>(72, 1.f));
  auto& n = b.node("ConvTranspose", {"x", "w"}, {"y"});
  OnnxBuilder::attr_ints(n, "strides", {2, 2});
  OnnxBuilder::attr_ints(n, "pads", {1, 1, 1, 1});
  OnnxBuilder::attr_ints(n, "output_padding", {1, 1});
  b.output("y");
  const ir::Graph g = ir::fold_constants(b.import());
  const ir::Node& t = only_node(g, ir::Op::ConvTranspose);
  EXPECT_EQ(g.value(t.outputs[0]).shape, (Shape{1, 2, 10, 10}));  // 2*(5-1) + 1 + 3 - 2
  EXPECT_EQ(t.attrs.ints("output_padding"), (std::vector<int64_t>{1, 1}));
  EXPECT_EQ(t.attrs.ints("kernel_shape"), (std::vector<int64_t>{3, 3}));
  EXPECT_EQ(t.attrs.ints("dilations"), (std::vector<int64_t>{1, 1}));
}

TEST(ImportOnnxCanonical, PoolsGetExplicitDefaults) {
  OnnxBuilder b(13);
  b.input("x", {1, 3, 8, 8});
  auto& max = b.node("MaxPool", {"x"}, {"m"});
  OnnxBuilder::attr_ints(max, "kernel_shape", {3, 3});
  OnnxBuilder::attr_ints(max, "strides", {2, 2});
  OnnxBuilder::attr_ints(max, "pads", {1, 1, 1, 1});
  auto& avg = b.node("AveragePool", {"m"}, {"a"});
  OnnxBuilder::attr_ints(avg, "kernel_shape", {2, 2});
  OnnxBuilder::attr_ints(avg, "strides", {2, 2});
  OnnxBuilder::attr_i(avg, "ceil_mode", 1);
  b.node("GlobalAveragePool", {"a"}, {"g"});
  b.output("g");
  const ir::Graph g = ir::fold_constants(b.import());
  const ir::Node& m = only_node(g, ir::Op::MaxPool);
  EXPECT_EQ(m.attrs.ints("dilations"), (std::vector<int64_t>{1, 1}));
  EXPECT_EQ(m.attrs.i("ceil_mode", -1), 0);
  EXPECT_EQ(g.value(m.outputs[0]).shape, (Shape{1, 3, 4, 4}));
  const ir::Node& a = only_node(g, ir::Op::AveragePool);
  EXPECT_EQ(a.attrs.ints("pads"), (std::vector<int64_t>{0, 0, 0, 0}));
  EXPECT_EQ(a.attrs.i("count_include_pad", -1), 0);
  EXPECT_EQ(g.value(a.outputs[0]).shape, (Shape{1, 3, 2, 2}));
  EXPECT_EQ(g.value(g.outputs()[0]).shape, (Shape{1, 3, 1, 1}));
}

TEST(ImportOnnxCanonical, ActivationsGetTheirOnnxDefaults) {
  OnnxBuilder b(13);
  b.input("x", {1, 3, 8, 8});
  b.node("LeakyRelu", {"x"}, {"a"});
  b.node("HardSigmoid", {"a"}, {"h"});
  b.node("HardSwish", {"h"}, {"s"});
  b.node("Sigmoid", {"s"}, {"y"});
  b.output("y");
  const ir::Graph g = ir::fold_constants(b.import());
  EXPECT_FLOAT_EQ(only_node(g, ir::Op::LeakyRelu).attrs.f("alpha"), 0.01f);
  EXPECT_FLOAT_EQ(only_node(g, ir::Op::HardSigmoid).attrs.f("alpha"), 0.2f);
  EXPECT_FLOAT_EQ(only_node(g, ir::Op::HardSigmoid).attrs.f("beta"), 0.5f);
  EXPECT_EQ(ops_of(g),
            (std::vector<ir::Op>{ir::Op::LeakyRelu, ir::Op::HardSigmoid, ir::Op::HardSwish, ir::Op::Sigmoid}));
}

TEST(ImportOnnxCanonical, BatchNormalizationKeepsFiveInputsAndGetsEpsilon) {
  OnnxBuilder b(13);
  b.input("x", {1, 2, 4, 4});
  for (const char* n : {"s", "bias", "mean", "var"}) b.initializer_f(n, {2}, {1, 1});
  b.node("BatchNormalization", {"x", "s", "bias", "mean", "var"}, {"y"});
  b.output("y");
  const ir::Graph g = ir::fold_constants(b.import());
  const ir::Node& bn = only_node(g, ir::Op::BatchNormalization);
  EXPECT_EQ(bn.inputs.size(), 5u);
  EXPECT_FLOAT_EQ(bn.attrs.f("epsilon"), 1e-5f);
}

TEST(ImportOnnxCanonical, ClipFromOpset6AttributesAndFromOpset11Inputs) {
  {
    OnnxBuilder b(10);
    b.input("x", {1, 3, 8, 8});
    OnnxBuilder::attr_f(b.node("Clip", {"x"}, {"y"}), "max", 6.f);
    b.output("y");
    const ir::Graph g = ir::fold_constants(b.import());
    const ir::Node& clip = only_node(g, ir::Op::Clip);
    EXPECT_EQ(clip.attrs.f("min"), -std::numeric_limits<float>::infinity());
    EXPECT_EQ(clip.attrs.f("max"), 6.f);
  }
  for (int opset : {11, 13}) {
    OnnxBuilder b(opset);
    b.input("x", {1, 3, 8, 8});
    b.constant_f("lo", {}, {0.f});
    b.node("Clip", {"x", "lo"}, {"y"});  // max omitted
    b.output("y");
    const ir::Graph g = ir::fold_constants(b.import());
    const ir::Node& clip = only_node(g, ir::Op::Clip);
    EXPECT_EQ(clip.inputs.size(), 1u);
    EXPECT_EQ(clip.attrs.f("min"), 0.f);
    EXPECT_EQ(clip.attrs.f("max"), std::numeric_limits<float>::infinity());
  }
}

TEST(ImportOnnxCanonical, PadFromOpset2AttributesAndFromOpset11Inputs) {
  {
    OnnxBuilder b(10);
    b.input("x", {1, 3, 8, 8});
    auto& pad = b.node("Pad", {"x"}, {"y"});
    OnnxBuilder::attr_ints(pad, "pads", {0, 0, 1, 2, 0, 0, 3, 4});
    OnnxBuilder::attr_s(pad, "mode", "reflect");
    b.output("y");
    const ir::Graph g = ir::fold_constants(b.import());
    const ir::Node& p = only_node(g, ir::Op::Pad);
    EXPECT_EQ(p.attrs.s("mode"), "reflect");
    EXPECT_EQ(p.attrs.f("value", -1.f), 0.f);
    EXPECT_EQ(g.value(p.outputs[0]).shape, (Shape{1, 3, 12, 14}));
  }
  for (int opset : {11, 13, 17}) {
    OnnxBuilder b(opset);
    b.input("x", {1, 3, 8, 8});
    b.constant_i("pads", {8}, {0, 0, 1, 2, 0, 0, 3, 4});
    b.constant_f("value", {}, {0.5f});
    OnnxBuilder::attr_s(b.node("Pad", {"x", "pads", "value"}, {"y"}), "mode", "edge");
    b.output("y");
    const ir::Graph g = ir::fold_constants(b.import());
    const ir::Node& p = only_node(g, ir::Op::Pad);
    EXPECT_EQ(p.inputs.size(), 1u);
    EXPECT_EQ(p.attrs.ints("pads"), (std::vector<int64_t>{0, 0, 1, 2, 0, 0, 3, 4}));
    EXPECT_EQ(p.attrs.s("mode"), "edge");
    EXPECT_EQ(p.attrs.f("value"), 0.5f);
    EXPECT_EQ(g.value(p.outputs[0]).shape, (Shape{1, 3, 12, 14}));
  }
}

TEST(ImportOnnxCanonical, ReduceMeanAxesBecomeNonNegativeAndSorted) {
  OnnxBuilder b(13);
  b.input("x", {1, 3, 8, 8});
  OnnxBuilder::attr_ints(b.node("ReduceMean", {"x"}, {"y"}), "axes", {-1, 2});
  b.output("y");
  const ir::Graph g = ir::fold_constants(b.import());
  const ir::Node& r = only_node(g, ir::Op::ReduceMean);
  EXPECT_EQ(r.attrs.ints("axes"), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(r.attrs.i("keepdims", -1), 1);
  EXPECT_EQ(g.value(r.outputs[0]).shape, (Shape{1, 3, 1, 1}));
}

TEST(ImportOnnxCanonical, ConcatAxisBecomesNonNegative) {
  OnnxBuilder b(13);
  b.input("x", {1, 3, 8, 8});
  b.node("Relu", {"x"}, {"r"});
  OnnxBuilder::attr_i(b.node("Concat", {"x", "r"}, {"y"}), "axis", -3);
  b.output("y");
  const ir::Graph g = ir::fold_constants(b.import());
  EXPECT_EQ(only_node(g, ir::Op::Concat).attrs.i("axis"), 1);
  EXPECT_EQ(g.value(g.outputs()[0]).shape, (Shape{1, 6, 8, 8}));
}

TEST(ImportOnnxCanonical, ResizeWithConstantScalesKeepsOnlyXAndTheModes) {
  OnnxBuilder b(13);
  b.input("x", {1, 3, 5, 7});
  b.constant_f("scales", {4}, {1, 1, 2, 1.5f});
  auto& r = b.node("Resize", {"x", "", "scales"}, {"y"});
  OnnxBuilder::attr_s(r, "mode", "linear");
  OnnxBuilder::attr_s(r, "coordinate_transformation_mode", "align_corners");
  b.output("y");
  const ir::Graph g = ir::fold_constants(b.import());
  const ir::Node& n = only_node(g, ir::Op::Resize);
  EXPECT_EQ(n.inputs.size(), 1u);
  EXPECT_EQ(n.attrs.s("mode"), "linear");
  EXPECT_EQ(n.attrs.s("coordinate_transformation_mode"), "align_corners");
  EXPECT_EQ(n.attrs.s("nearest_mode"), "round_prefer_floor");
  EXPECT_EQ(n.attrs.floats("scales"), (std::vector<float>{1, 1, 2, 1.5f}));
  EXPECT_EQ(g.value(n.outputs[0]).shape, (Shape{1, 3, 10, 10}));  // floor(7 * 1.5) = 10
}

TEST(ImportOnnxCanonical, ResizeWithSizesMapsCoordinatesWithOutOverIn) {
  OnnxBuilder b(11);
  b.input("x", {1, 3, 3, 4});
  b.constant_f("roi", {0}, {});
  b.constant_f("scales", {0}, {});  // opset 11 exporters pass an empty scales tensor next to sizes
  b.constant_i("sizes", {4}, {1, 3, 7, 10});
  auto& r = b.node("Resize", {"x", "roi", "scales", "sizes"}, {"y"});
  OnnxBuilder::attr_s(r, "coordinate_transformation_mode", "pytorch_half_pixel");
  OnnxBuilder::attr_s(r, "mode", "linear");
  b.output("y");
  const ir::Graph g = ir::fold_constants(b.import());
  const ir::Node& n = only_node(g, ir::Op::Resize);
  EXPECT_EQ(n.inputs.size(), 1u);
  EXPECT_EQ(g.value(n.outputs[0]).shape, (Shape{1, 3, 7, 10}));
  EXPECT_EQ(n.attrs.floats("scales"), (std::vector<float>{1.f, 1.f, 7.f / 3.f, 2.5f}));
}

TEST(ImportOnnxCanonical, EveryCoordinateTransformationModeAndNearestModeIsAccepted) {
  for (const char* mode :
       {"half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_half_pixel_for_nearest"})
    for (const char* nearest : {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"}) {
      OnnxBuilder b(13);
      b.input("x", {1, 1, 4, 4});
      b.constant_f("scales", {4}, {1, 1, 2, 2});
      auto& r = b.node("Resize", {"x", "", "scales"}, {"y"});
      OnnxBuilder::attr_s(r, "coordinate_transformation_mode", mode);
      OnnxBuilder::attr_s(r, "nearest_mode", nearest);
      b.output("y");
      const ir::Graph g = ir::fold_constants(b.import());
      const ir::Node& n = only_node(g, ir::Op::Resize);
      EXPECT_EQ(n.attrs.s("coordinate_transformation_mode"), mode);
      EXPECT_EQ(n.attrs.s("nearest_mode"), nearest);
    }
}

TEST(ImportOnnxCanonical, CubicResizeIsRefusedWithAHint) {
  OnnxBuilder b(13);
  b.input("x", {1, 1, 4, 4});
  b.constant_f("scales", {4}, {1, 1, 2, 2});
  OnnxBuilder::attr_s(b.node("Resize", {"x", "", "scales"}, {"y"}, "up"), "mode", "cubic");
  b.output("y");
  EXPECT_NE(import_error(b).find("node up: Resize mode 'cubic' is not supported"), std::string::npos);
}

TEST(ImportOnnxCanonical, UpsampleBecomesAsymmetricFloorResize) {
  {
    OnnxBuilder b(9);  // scales as an input
    b.input("x", {1, 2, 3, 3});
    b.constant_f("scales", {4}, {1, 1, 2, 2});
    b.node("Upsample", {"x", "scales"}, {"y"});
    b.output("y");
    const ir::Graph g = ir::fold_constants(b.import());
    const ir::Node& n = only_node(g, ir::Op::Resize);
    EXPECT_EQ(n.inputs.size(), 1u);
    EXPECT_EQ(n.attrs.s("mode"), "nearest");
    EXPECT_EQ(n.attrs.s("coordinate_transformation_mode"), "asymmetric");
    EXPECT_EQ(n.attrs.s("nearest_mode"), "floor");
    EXPECT_EQ(n.attrs.floats("scales"), (std::vector<float>{1, 1, 2, 2}));
    EXPECT_EQ(g.value(n.outputs[0]).shape, (Shape{1, 2, 6, 6}));
  }
  {
    OnnxBuilder b(7);  // scales as an attribute, bilinear spelled the old way
    b.input("x", {1, 2, 3, 3});
    auto& up = b.node("Upsample", {"x"}, {"y"});
    OnnxBuilder::attr_floats(up, "scales", {1, 1, 3, 2});
    OnnxBuilder::attr_s(up, "mode", "bilinear");
    b.output("y");
    const ir::Graph g = ir::fold_constants(b.import());
    const ir::Node& n = only_node(g, ir::Op::Resize);
    EXPECT_EQ(n.attrs.s("mode"), "linear");
    EXPECT_EQ(g.value(n.outputs[0]).shape, (Shape{1, 2, 9, 6}));
  }
}

// PyTorch 1.13's F.interpolate(x, scale_factor=2) at opset 11: the output size is computed from the
// input's shape at run time, then handed to Resize as sizes.
TEST(ImportOnnxCanonical, PyTorchInterpolateShapeSubgraphFoldsToResizeWithScales1122) {
  for (int opset : {11, 13}) {
    OnnxBuilder b(opset);
    b.input("input", {1, 8, 5, 6});
    b.node("Relu", {"input"}, {"x"});
    b.node("Shape", {"x"}, {"shape"});
    b.constant_i("two", {}, {2});
    b.constant_i("three", {}, {3});
    b.constant_f("factor", {}, {2.f});
    b.constant_i("zero", {1}, {0});
    b.constant_i("axes2", {1}, {2});
    for (const std::string dim : {"two", "three"}) {
      OnnxBuilder::attr_i(b.node("Gather", {"shape", dim}, {"g" + dim}), "axis", 0);
      OnnxBuilder::attr_i(b.node("Cast", {"g" + dim}, {"f" + dim}), "to", onnx::TensorProto::FLOAT);
      b.node("Mul", {"f" + dim, "factor"}, {"m" + dim});
      OnnxBuilder::attr_i(b.node("Cast", {"m" + dim}, {"c" + dim}), "to", onnx::TensorProto::FLOAT);
      b.node("Floor", {"c" + dim}, {"fl" + dim});
      OnnxBuilder::attr_i(b.node("Cast", {"fl" + dim}, {"i" + dim}), "to", onnx::TensorProto::INT64);
      if (opset < 13) OnnxBuilder::attr_ints(b.node("Unsqueeze", {"i" + dim}, {"u" + dim}), "axes", {0});
      else b.node("Unsqueeze", {"i" + dim, "zero"}, {"u" + dim});
    }
    b.constant_i("starts", {1}, {0});
    b.node("Slice", {"shape", "starts", "axes2", "zero"}, {"batch_channels"});
    OnnxBuilder::attr_i(b.node("Concat", {"batch_channels", "utwo", "uthree"}, {"sizes"}), "axis", 0);
    b.constant_f("empty", {0}, {});
    auto& r = b.node("Resize", {"x", "empty", "empty", "sizes"}, {"output"}, "/Resize");
    OnnxBuilder::attr_s(r, "coordinate_transformation_mode", "asymmetric");
    OnnxBuilder::attr_s(r, "nearest_mode", "floor");
    b.output("output");
    const ir::Graph g = ir::fold_constants(b.import());
    EXPECT_EQ(ops_of(g), (std::vector<ir::Op>{ir::Op::Relu, ir::Op::Resize})) << "opset " << opset;
    const ir::Node& n = only_node(g, ir::Op::Resize);
    EXPECT_EQ(n.inputs.size(), 1u);
    EXPECT_EQ(n.attrs.floats("scales"), (std::vector<float>{1, 1, 2, 2}));
    EXPECT_EQ(g.value(g.outputs()[0]).name, "output");
    EXPECT_EQ(g.value(g.outputs()[0]).shape, (Shape{1, 8, 10, 12}));
  }
}

TEST(ImportOnnxCanonical, SqueezeAndUnsqueezeAxesAsAttributeOrInputFoldAlike) {
  for (int opset : {11, 13}) {
    OnnxBuilder b(opset);
    b.input("x", {1, 3, 4, 4});
    b.node("Shape", {"x"}, {"s"});  // [1, 3, 4, 4]
    b.constant_i("axis0", {1}, {0});
    if (opset < 13) {
      OnnxBuilder::attr_ints(b.node("Unsqueeze", {"s"}, {"u"}), "axes", {0});      // [[1, 3, 4, 4]]
      OnnxBuilder::attr_ints(b.node("Squeeze", {"u"}, {"target"}), "axes", {0});  // [1, 3, 4, 4]
    } else {
      b.node("Unsqueeze", {"s", "axis0"}, {"u"});
      b.node("Squeeze", {"u", "axis0"}, {"target"});
    }
    auto& fill = b.node("ConstantOfShape", {"target"}, {"ones"});
    onnx::TensorProto* one = OnnxBuilder::tensor_attr(fill, "value");
    one->set_data_type(onnx::TensorProto::FLOAT);
    one->add_dims(1);
    one->add_float_data(1.f);
    b.node("Add", {"x", "ones"}, {"y"});
    b.output("y");
    const ir::Graph g = ir::fold_constants(b.import());
    const ir::Node& add = only_node(g, ir::Op::Add);
    EXPECT_EQ(g.nodes().size(), 1u) << "opset " << opset;
    EXPECT_EQ(g.constant(add.inputs[1]).shape(), (Shape{1, 3, 4, 4}));
    EXPECT_EQ(g.constant(add.inputs[1]).to_float(), std::vector<float>(48, 1.f));
  }
}

TEST(ImportOnnxCanonical, AShapeOperatorOnRunTimeDataIsAnErrorNamingIt) {
  OnnxBuilder b(13);
  b.input("x", {1, 3, 4, 4});
  b.constant_i("target", {2}, {1, -1});
  b.node("Relu", {"x"}, {"r"});
  b.node("Reshape", {"r", "target"}, {"y"}, "/flatten/Reshape");
  b.output("y");
  const std::string error = import_error(b);
  EXPECT_NE(error.find("Reshape node '/flatten/Reshape' (output 'y'): depends on 'r', computed at run time"),
            std::string::npos) << error;
}

// Found by fuzz_onnx_import (issue 18): a Resize-10 without inputs threw std::out_of_range from vector::at, which
// the CLI printed as "vector::_M_range_check...". Every node without inputs is now one line naming it.
TEST(ImportOnnx, ANodeWithoutInputsIsAnErrorNamingItNotAnOutOfRange) {
  for (int opset : {10, 13}) {
    OnnxBuilder b(opset);
    b.input("x", {1, 3, 8, 8});
    b.node("Resize", {}, {"y"}, "/up/Resize");
    b.output("y");
    EXPECT_EQ(import_error(b), "model.onnx: node /up/Resize: Resize has no inputs; the model is broken") << opset;
  }
}

// Found by fuzz_build (issue 18): a name with bytes that are not UTF-8 made writing the plan's JSON header throw
// nlohmann's type_error 316. Names must be printable UTF-8; the refusal shows the bytes escaped.
TEST(ImportOnnx, NamesThatAreNotPrintableUtf8AreRefusedWithTheBytesEscaped) {
  OnnxBuilder b;
  b.input("x", {1, 3, 8, 8});
  b.node("Relu", {"x"}, {"r\xff\x1b[31m"}, "/relu");
  b.node("Relu", {"r\xff\x1b[31m"}, {"y"}, "/relu2");
  b.output("y");
  EXPECT_EQ(import_error(b), "model.onnx: value name 'r\\xff\\x1b[31m' is not printable UTF-8 (control characters or "
                             "invalid bytes); the model is damaged or was not made for crowdrt; re-export it");
  OnnxBuilder c;
  c.input("x", {1, 3, 8, 8});
  OnnxBuilder::attr_s(c.node("Relu", {"x"}, {"y"}, "/relu"), "note", "\xc3");
  c.output("y");
  EXPECT_NE(import_error(c).find("attribute 'note' = '\\xc3' is not printable UTF-8"), std::string::npos)
      << import_error(c);
}
