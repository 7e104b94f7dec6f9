// Conv: odd channel counts and planes, strides, dilations, groups (depthwise too), asymmetric pads, with and without
// bias, every fused activation, a fused residual (computed, read again after the Conv, or the Conv's own input), the
// ResNet stem. The cases of the CPU and the GPU convolution tests, united.
#include <limits>

#include "op_case.h"

namespace crowdrt::test::ops {
namespace {

struct ConvCase {
  int64_t in_channels, out_channels, height, width;
  int64_t kernel = 3, stride = 1, dilation = 1, group = 1;
  std::vector<int64_t> pads = {1, 1, 1, 1};
  std::string activation = "";
  float alpha = 0.f, beta = 0.f;
  bool bias = true;
  bool residual = false;
  bool residual_read_again = false;  // the residual is also a graph output, so it must not be overwritten
};

std::string conv_case_description(const ConvCase& c) {
  std::string name = cat(c.in_channels, "->", c.out_channels, " channels k", c.kernel, " s", c.stride, " d",
                         c.dilation, " g", c.group, " pads ", shape_str(c.pads));
  if (!c.activation.empty()) name += " " + c.activation;
  if (c.activation == "clip" && std::isinf(c.beta)) name += " (no upper bound)";
  if (!c.bias) name += " no bias";
  if (c.residual) name += c.residual_read_again ? " + residual read again" : " + residual";
  return name;
}

ir::Attributes conv_case_attributes(const ConvCase& c) {
  ir::Attributes a;
  a.set("kernel_shape", ints({c.kernel, c.kernel}));
  a.set("strides", ints({c.stride, c.stride}));
  a.set("dilations", ints({c.dilation, c.dilation}));
  a.set("pads", c.pads);
  a.set("group", c.group);
  if (!c.activation.empty()) {
    a.set("activation", c.activation);
    a.set("alpha", c.alpha);
    a.set("beta", c.beta);
  }
  return a;
}

// Clip, Sigmoid and HardSigmoid epilogues squeeze the output's range while passing the sums' rounding through at
// slopes up to 1, so that errors relative to the output are several times those of the sums (measured on the CPU:
// bf16 up to 0.072, int8 up to 0.21 of max|ref| for 64-channel sums after a conv).
bool squeezes_range(const std::string& activation) {
  return activation == "clip" || activation == "sigmoid" || activation == "hard_sigmoid";
}
constexpr Tolerance kSqueezedTolerance = {1e-4f, 3e-2f, 0.1f, 0.3f};

OpCase conv_case(const ConvCase& c) {
  Build build = [c](GraphMaker& g, ir::ValueId x, const Shape&) {
    std::vector<ir::ValueId> inputs = {x, g.weight({c.out_channels, c.in_channels / c.group, c.kernel, c.kernel}),
                                       c.bias ? g.weight({c.out_channels}) : ir::kNoValue};
    ir::Attributes attrs = conv_case_attributes(c);
    if (c.residual) {
      // The residual is itself computed (a conv of the same input), so it lives in the arena.
      ir::Attributes same = conv_case_attributes(c);
      same.erase("activation");
      const ir::ValueId residual =
          g.node(ir::Op::Conv, {x, g.weight({c.out_channels, c.in_channels / c.group, c.kernel, c.kernel})}, same);
      inputs.push_back(residual);
      attrs.set("fused_add", int64_t{1});
      if (c.residual_read_again) g.output(residual);
    }
    return g.node(ir::Op::Conv, inputs, attrs);
  };
  OpCase result{ir::Op::Conv, conv_case_description(c), {1, c.in_channels, c.height, c.width}, build};
  result.name += cat(" on ", shape_str(result.input));
  result.placements = {Placement::graph_input, Placement::after_conv};  // the Conv itself is what runs int8
  if (squeezes_range(c.activation)) result.tolerance = kSqueezedTolerance;
  return result;
}

// The GPU tests' convolutions, their channels taken from the input: out_channels 0 keeps the input's, group -1 is
// depthwise; the residual is the Conv's own input (stride 1, same channels).
struct RelativeConvCase {
  const char* name;
  int64_t kernel, stride, group, dilation, out_channels;
  std::vector<int64_t> pads;
  const char* activation;
  bool bias, residual;
};

std::vector<OpCase> relative_conv_cases(const RelativeConvCase& c) {
  Build build = [c](GraphMaker& g, ir::ValueId x, const Shape& shape) {
    const int64_t in_c = shape[1];
    const int64_t group = c.group < 0 ? in_c : c.group;
    const int64_t out_c = c.out_channels == 0 ? in_c : c.out_channels;
    ir::Attributes a;
    a.set("kernel_shape", ints({c.kernel, c.kernel}));
    a.set("strides", ints({c.stride, c.stride}));
    a.set("pads", c.pads);
    a.set("group", group);
    a.set("dilations", ints({c.dilation, c.dilation}));
    std::vector<ir::ValueId> inputs = {x, g.weight({out_c, in_c / group, c.kernel, c.kernel}, 0.5f)};
    inputs.push_back(c.bias ? g.weight({out_c}) : ir::kNoValue);
    if (c.residual) {
      inputs.push_back(x);
      a.set("fused_add", int64_t{1});
    }
    if (*c.activation) a.set("activation", std::string(c.activation));
    if (std::string(c.activation) == "clip") {
      a.set("alpha", -0.5f);
      a.set("beta", 0.5f);
    }
    return g.node(ir::Op::Conv, inputs, a);
  };
  const Tolerance tolerance = squeezes_range(c.activation) ? kSqueezedTolerance : Tolerance{};
  std::vector<OpCase> cases =
      on_shapes(ir::Op::Conv, c.name, build, nullptr, tolerance, {{1, 5, 33, 17}, {1, 16, 12, 10}, {2, 8, 9, 11}});
  for (OpCase& oc : cases) oc.placements = {Placement::graph_input, Placement::after_conv};
  return cases;
}

}  // namespace

std::vector<OpCase> conv_cases() {
  constexpr float kInf = std::numeric_limits<float>::infinity();
  std::vector<ConvCase> list;
  for (int64_t channels : {1, 3, 5, 13, 17, 64})
    for (auto [h, w] : {std::pair<int64_t, int64_t>{1, 1}, {7, 9}, {33, 17}})
      list.push_back({channels, channels == 64 ? 64 : channels + 4, h, w});
  list.push_back({5, 64, 33, 17, 7, 2, 1, 1, {3, 3, 3, 3}});  // resnet stem on 5 channels
  list.push_back({17, 13, 33, 17, 3, 2, 1, 1, {1, 1, 1, 1}});
  list.push_back({13, 17, 33, 17, 3, 1, 2, 1, {2, 2, 2, 2}});
  list.push_back({13, 17, 7, 9, 3, 1, 1, 1, {0, 1, 2, 0}});
  list.push_back({13, 17, 33, 17, 5, 3, 2, 1, {0, 2, 1, 3}});
  list.push_back({64, 32, 7, 9, 1, 1, 1, 1, {0, 0, 0, 0}});
  list.push_back({64, 64, 7, 9, 1, 2, 1, 1, {0, 0, 0, 0}, "", 0, 0, false});
  list.push_back({4, 6, 7, 9, 3, 1, 1, 2});
  list.push_back({32, 64, 33, 17, 3, 2, 1, 4});
  list.push_back({17, 17, 33, 17, 3, 1, 1, 17});  // depthwise
  list.push_back({64, 64, 7, 9, 3, 2, 1, 64});    // depthwise, strided
  list.push_back({64, 64, 33, 17, 3, 1, 2, 64});  // depthwise, dilated
  const std::vector<std::tuple<std::string, float, float>> activations = {
      {"relu", 0.f, 0.f},    {"leaky_relu", 0.1f, 0.f},    {"clip", 0.f, 6.f},    {"clip", -0.5f, kInf},
      {"sigmoid", 0.f, 0.f}, {"hard_sigmoid", 0.2f, 0.5f}, {"hard_swish", 0.f, 0.f}};
  for (const auto& [act, alpha, beta] : activations) {
    ConvCase c{13, 17, 7, 9};
    c.activation = act;
    c.alpha = alpha;
    c.beta = beta;
    list.push_back(c);
    c.in_channels = c.out_channels = 64;
    list.push_back(c);
  }
  for (bool read_again : {false, true})
    for (const std::string act : {"", "relu"})
      for (int64_t channels : {5, 64}) {
        ConvCase c{channels, channels, 33, 17};
        c.activation = act;
        c.residual = true;
        c.residual_read_again = read_again;
        list.push_back(c);
      }
  ConvCase from_input{17, 17, 7, 9};
  from_input.residual = true;
  list.push_back(from_input);
  std::vector<OpCase> cases;
  for (const ConvCase& c : list) cases.push_back(conv_case(c));

  const std::vector<RelativeConvCase> relative = {
      {"3x3", 3, 1, 1, 1, 16, {1, 1, 1, 1}, "", true, false},
      {"3x3 relu", 3, 1, 1, 1, 24, {1, 1, 1, 1}, "relu", true, false},
      {"3x3 + input relu", 3, 1, 1, 1, 0, {1, 1, 1, 1}, "relu", true, true},
      {"3x3 + input, no bias", 3, 1, 1, 1, 0, {1, 1, 1, 1}, "", false, true},
      {"7x7 s2 relu", 7, 2, 1, 1, 8, {3, 3, 3, 3}, "relu", true, false},
      {"1x1 s2", 1, 2, 1, 1, 32, {0, 0, 0, 0}, "", true, false},
      {"depthwise 3x3 sigmoid", 3, 1, -1, 1, 0, {1, 1, 1, 1}, "sigmoid", true, false},
      {"dilated 3x3 hard_swish", 3, 1, 1, 2, 8, {2, 2, 2, 2}, "hard_swish", true, false},
      {"3x3 s2 asymmetric pads clip", 3, 2, 1, 1, 8, {0, 0, 1, 1}, "clip", true, false},
  };
  for (const RelativeConvCase& c : relative)
    for (OpCase& oc : relative_conv_cases(c)) cases.push_back(std::move(oc));
  return cases;
}

}  // namespace crowdrt::test::ops
