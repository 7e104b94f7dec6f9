// Small valid ONNX models the ONNX fuzzers start from: the op mix of the smp UNet exports crowdrt reads (Conv
// with BatchNorm and activations, pools, Resize by scales and by sizes computed from Shape arithmetic,
// ConvTranspose, Concat, Pad, residual Add), at 5 x 16 x 16 so that a whole build and run takes milliseconds.
#pragma once
#include <string>
#include <vector>

#include "onnx/onnx_builder.h"

namespace crowdrt::fuzz {

inline std::vector<float> ramp(size_t n, float step = 0.01f) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<float>(static_cast<int>(i % 7) - 3) * step;
  return v;
}

// Encoder, bottleneck, decoder with a skip connection, as a UNet has.
inline onnx::ModelProto unet_seed() {
  test::OnnxBuilder b(13);
  using B = test::OnnxBuilder;
  b.input("input", {1, 5, 16, 16});
  b.initializer_f("w1", {4, 5, 3, 3}, ramp(4 * 5 * 9));
  b.initializer_f("b1", {4}, ramp(4));
  for (const char* n : {"bn_scale", "bn_bias", "bn_mean", "bn_var"}) b.initializer_f(n, {4}, {1.f, 0.5f, 0.25f, 2.f});
  auto& c1 = b.node("Conv", {"input", "w1", "b1"}, {"c1"}, "/enc/conv1");
  B::attr_ints(c1, "kernel_shape", {3, 3});
  B::attr_ints(c1, "pads", {1, 1, 1, 1});
  B::attr_ints(c1, "strides", {1, 1});
  b.node("BatchNormalization", {"c1", "bn_scale", "bn_bias", "bn_mean", "bn_var"}, {"bn1"}, "/enc/bn1");
  b.node("Relu", {"bn1"}, {"r1"}, "/enc/relu1");
  auto& pool = b.node("MaxPool", {"r1"}, {"p1"}, "/enc/pool");
  B::attr_ints(pool, "kernel_shape", {2, 2});
  B::attr_ints(pool, "strides", {2, 2});
  b.initializer_f("w2", {8, 2, 3, 3}, ramp(8 * 2 * 9));
  auto& c2 = b.node("Conv", {"p1", "w2"}, {"c2"}, "/enc/conv2");
  B::attr_ints(c2, "pads", {1, 1, 1, 1});
  B::attr_i(c2, "group", 2);
  auto& leaky = b.node("LeakyRelu", {"c2"}, {"l2"}, "/enc/leaky");
  B::attr_f(leaky, "alpha", 0.1f);
  b.initializer_f("scales", {4}, {1.f, 1.f, 2.f, 2.f});
  b.initializer_f("roi", {0}, {});
  auto& up = b.node("Resize", {"l2", "roi", "scales"}, {"u"}, "/dec/up");
  B::attr_s(up, "mode", "nearest");
  auto& cat = b.node("Concat", {"u", "r1"}, {"cat"}, "/dec/cat");
  B::attr_i(cat, "axis", 1);
  b.initializer_f("w3", {4, 12, 3, 3}, ramp(4 * 12 * 9));
  auto& c3 = b.node("Conv", {"cat", "w3"}, {"c3"}, "/dec/conv");
  B::attr_ints(c3, "pads", {1, 1, 1, 1});
  auto& clip = b.node("Clip", {"c3"}, {"k3"}, "/dec/clip");
  (void)clip;
  b.initializer_f("w4", {1, 4, 1, 1}, {0.5f, -0.25f, 0.125f, 1.f});
  b.node("Conv", {"k3", "w4"}, {"c4"}, "/head/conv");
  b.node("Sigmoid", {"c4"}, {"output"}, "/head/sigmoid");
  b.output("output");
  return b.model();
}

// PyTorch's way of sizing an upsampling: Shape, Gather, Mul, Concat into Resize's sizes; ConvTranspose, Pad,
// AveragePool, HardSigmoid, a residual Add, ReduceMean and GlobalAveragePool.
inline onnx::ModelProto shape_ops_seed() {
  test::OnnxBuilder b(13);
  using B = test::OnnxBuilder;
  b.input("input", {1, 5, 16, 16});
  b.initializer_f("w1", {4, 5, 3, 3}, ramp(4 * 5 * 9));
  auto& c1 = b.node("Conv", {"input", "w1"}, {"c1"}, "/conv1");
  B::attr_ints(c1, "strides", {2, 2});
  B::attr_ints(c1, "pads", {1, 1, 1, 1});
  b.node("Shape", {"c1"}, {"shape"}, "/shape");
  b.constant_i("hw_index", {2}, {2, 3});
  auto& gather = b.node("Gather", {"shape", "hw_index"}, {"hw"}, "/gather");
  B::attr_i(gather, "axis", 0);
  b.constant_i("two", {}, {2});
  b.node("Mul", {"hw", "two"}, {"hw2"}, "/mul");
  b.constant_i("nc", {2}, {1, 4});
  auto& cat = b.node("Concat", {"nc", "hw2"}, {"sizes"}, "/sizes");
  B::attr_i(cat, "axis", 0);
  auto& up = b.node("Resize", {"c1", "", "", "sizes"}, {"u"}, "/up");
  B::attr_s(up, "mode", "linear");
  B::attr_s(up, "coordinate_transformation_mode", "align_corners");
  b.initializer_f("wt", {4, 4, 2, 2}, ramp(4 * 4 * 4));
  auto& ct = b.node("ConvTranspose", {"c1", "wt"}, {"t"}, "/convT");
  B::attr_ints(ct, "strides", {2, 2});
  b.node("Add", {"u", "t"}, {"sum"}, "/add");
  b.constant_i("pads", {8}, {0, 0, 1, 1, 0, 0, 1, 1});
  auto& pad = b.node("Pad", {"sum", "pads"}, {"padded"}, "/pad");
  B::attr_s(pad, "mode", "reflect");
  auto& avg = b.node("AveragePool", {"padded"}, {"avg"}, "/avg");
  B::attr_ints(avg, "kernel_shape", {3, 3});
  b.node("HardSigmoid", {"avg"}, {"hs"}, "/hardsigmoid");
  auto& mean = b.node("ReduceMean", {"hs"}, {"m"}, "/mean");
  B::attr_ints(mean, "axes", {1});
  B::attr_i(mean, "keepdims", 1);
  b.node("GlobalAveragePool", {"hs"}, {"g"}, "/gap");
  b.node("Mul", {"m", "g"}, {"output"}, "/scale");
  b.output("output");
  return b.model();
}

// Opset 9: Upsample with a scales input, Clip and Pad attributes of the old opsets.
inline onnx::ModelProto old_opset_seed() {
  test::OnnxBuilder b(9);
  using B = test::OnnxBuilder;
  b.input("input", {1, 5, 8, 8});
  b.initializer_f("w", {2, 5, 1, 1}, ramp(10));
  b.node("Conv", {"input", "w"}, {"c"}, "conv");
  auto& clip = b.node("Clip", {"c"}, {"k"}, "clip");
  B::attr_f(clip, "min", 0.f);
  B::attr_f(clip, "max", 6.f);
  b.initializer_f("scales", {4}, {1.f, 1.f, 2.f, 2.f});
  auto& up = b.node("Upsample", {"k", "scales"}, {"u"}, "up");
  B::attr_s(up, "mode", "nearest");
  auto& pad = b.node("Pad", {"u"}, {"output"}, "pad");
  B::attr_ints(pad, "pads", {0, 0, 1, 1, 0, 0, 1, 1});
  b.output("output");
  return b.model();
}

inline std::vector<std::pair<std::string, onnx::ModelProto>> onnx_seeds() {
  return {{"unet", unet_seed()}, {"shape_ops", shape_ops_seed()}, {"old_opset", old_opset_seed()}};
}

}  // namespace crowdrt::fuzz
