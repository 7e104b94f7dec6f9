// CpuBackend's Conv and ConvTranspose against the reference: odd channel counts and sizes, strides,
// dilations, groups (depthwise too), asymmetric pads, every fused activation, fused residual.
#include <limits>

#include "test_cpu_harness.h"

namespace crowdrt::test {
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
  bool after_conv = false;           // input comes from another conv (blocked layout) instead of the graph
};

std::string conv_case_name(const testing::TestParamInfo<ConvCase>& info) {
  const ConvCase& c = info.param;
  std::string name = cat("c", c.in_channels, "_to_", c.out_channels, "_", c.height, "x", c.width, "_k", c.kernel,
                         "_s", c.stride, "_d", c.dilation, "_g", c.group, "_pads", c.pads[0], c.pads[1], c.pads[2],
                         c.pads[3]);
  if (!c.activation.empty()) name += "_" + c.activation;
  if (c.activation == "clip" && std::isinf(c.beta)) name += "_no_upper_bound";
  if (!c.bias) name += "_no_bias";
  if (c.residual) name += c.residual_read_again ? "_residual_copied" : "_residual_overwritten";
  if (c.after_conv) name += "_after_conv";
  return name;
}

ir::Attributes conv_attributes(const ConvCase& c) {
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

class CpuConv : public testing::TestWithParam<ConvCase> {};

TEST_P(CpuConv, MatchesReference) {
  const ConvCase& c = GetParam();
  GraphMaker g;
  ir::ValueId x = g.input({1, c.in_channels, c.height, c.width});
  if (c.after_conv) {
    ir::Attributes pointwise;
    pointwise.set("kernel_shape", ints({1, 1}));
    x = g.node(ir::Op::Conv, {x, g.weight({c.in_channels, c.in_channels, 1, 1})}, pointwise);
  }
  std::vector<ir::ValueId> inputs = {x, g.weight({c.out_channels, c.in_channels / c.group, c.kernel, c.kernel}),
                                     c.bias ? g.weight({c.out_channels}) : ir::kNoValue};
  ir::Attributes attrs = conv_attributes(c);
  ir::ValueId residual = ir::kNoValue;
  if (c.residual) {
    // The residual is itself computed (a conv of the same input), so it lives in the arena.
    ir::Attributes same = conv_attributes(c);
    same.erase("activation");
    residual = g.node(ir::Op::Conv, {x, g.weight({c.out_channels, c.in_channels / c.group, c.kernel, c.kernel})}, same);
    inputs.push_back(residual);
    attrs.set("fused_add", int64_t{1});
  }
  g.output(g.node(ir::Op::Conv, inputs, attrs));
  if (c.residual_read_again) g.output(residual);
  const Comparison result = expect_cpu_matches_reference(g.graph);
  const LayerInfo& conv = result.layers[result.layers.size() - (c.residual_read_again ? 3 : 2)];
  EXPECT_EQ(conv.kernel.find("onednn:ref"), std::string::npos) << conv.node << " got " << conv.kernel;
}

constexpr float kInf = std::numeric_limits<float>::infinity();

std::vector<ConvCase> conv_cases() {
  std::vector<ConvCase> cases;
  for (int64_t channels : {1, 3, 5, 13, 17, 64})
    for (auto [h, w] : {std::pair<int64_t, int64_t>{1, 1}, {7, 9}, {33, 17}})
      cases.push_back({channels, channels == 64 ? 64 : channels + 4, h, w});
  cases.push_back({5, 64, 33, 17, 7, 2, 1, 1, {3, 3, 3, 3}});  // resnet stem on 5 channels
  cases.push_back({17, 13, 33, 17, 3, 2, 1, 1, {1, 1, 1, 1}});
  cases.push_back({13, 17, 33, 17, 3, 1, 2, 1, {2, 2, 2, 2}});
  cases.push_back({13, 17, 7, 9, 3, 1, 1, 1, {0, 1, 2, 0}});
  cases.push_back({13, 17, 33, 17, 5, 3, 2, 1, {0, 2, 1, 3}});
  cases.push_back({64, 32, 7, 9, 1, 1, 1, 1, {0, 0, 0, 0}});
  cases.push_back({64, 64, 7, 9, 1, 2, 1, 1, {0, 0, 0, 0}, "", 0, 0, false});
  cases.push_back({4, 6, 7, 9, 3, 1, 1, 2});
  cases.push_back({32, 64, 33, 17, 3, 2, 1, 4});
  cases.push_back({17, 17, 33, 17, 3, 1, 1, 17});  // depthwise
  cases.push_back({64, 64, 7, 9, 3, 2, 1, 64});    // depthwise, strided
  cases.push_back({64, 64, 33, 17, 3, 1, 2, 64});  // depthwise, dilated
  const std::vector<std::tuple<std::string, float, float>> activations = {
      {"relu", 0.f, 0.f},     {"leaky_relu", 0.1f, 0.f},    {"clip", 0.f, 6.f},    {"clip", -0.5f, kInf},
      {"sigmoid", 0.f, 0.f},  {"hard_sigmoid", 0.2f, 0.5f}, {"hard_swish", 0.f, 0.f}};
  for (const auto& [act, alpha, beta] : activations) {
    ConvCase c{13, 17, 7, 9};
    c.activation = act;
    c.alpha = alpha;
    c.beta = beta;
    cases.push_back(c);
    c.in_channels = c.out_channels = 64;
    c.after_conv = true;
    cases.push_back(c);
  }
  for (bool read_again : {false, true})
    for (const std::string act : {"", "relu"})
      for (int64_t channels : {5, 64}) {
        ConvCase c{channels, channels, 33, 17};
        c.activation = act;
        c.residual = true;
        c.residual_read_again = read_again;
        c.after_conv = true;
        cases.push_back(c);
      }
  ConvCase from_input{17, 17, 7, 9};
  from_input.residual = true;
  cases.push_back(from_input);
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Shapes, CpuConv, testing::ValuesIn(conv_cases()), conv_case_name);

struct ConvTransposeCase {
  int64_t in_channels, out_channels, height, width, kernel, stride, group;
  std::vector<int64_t> pads, output_padding;
  bool bias = true;
};

class CpuConvTranspose : public testing::TestWithParam<ConvTransposeCase> {};

TEST_P(CpuConvTranspose, MatchesReference) {
  const ConvTransposeCase& c = GetParam();
  GraphMaker g;
  const ir::ValueId x = g.input({1, c.in_channels, c.height, c.width});
  ir::Attributes a;
  a.set("kernel_shape", ints({c.kernel, c.kernel}));
  a.set("strides", ints({c.stride, c.stride}));
  a.set("dilations", ints({1, 1}));
  a.set("pads", c.pads);
  a.set("output_padding", c.output_padding);
  a.set("group", c.group);
  g.output(g.node(ir::Op::ConvTranspose,
                  {x, g.weight({c.in_channels, c.out_channels / c.group, c.kernel, c.kernel}),
                   c.bias ? g.weight({c.out_channels}) : ir::kNoValue},
                  a));
  expect_cpu_matches_reference(g.graph);
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, CpuConvTranspose,
    testing::Values(ConvTransposeCase{64, 32, 7, 9, 2, 2, 1, {0, 0, 0, 0}, {0, 0}},
                    ConvTransposeCase{5, 3, 7, 9, 3, 2, 1, {1, 1, 1, 1}, {1, 1}},
                    ConvTransposeCase{17, 13, 33, 17, 3, 1, 1, {0, 1, 2, 0}, {0, 0}, false},
                    ConvTransposeCase{16, 8, 7, 9, 4, 2, 2, {1, 1, 1, 1}, {0, 0}},
                    ConvTransposeCase{1, 1, 1, 1, 3, 3, 1, {0, 0, 0, 0}, {2, 1}}),
    [](const testing::TestParamInfo<ConvTransposeCase>& info) {
      const ConvTransposeCase& c = info.param;
      return cat("c", c.in_channels, "_to_", c.out_channels, "_", c.height, "x", c.width, "_k", c.kernel, "_s",
                 c.stride, "_g", c.group, "_outpad", c.output_padding[0], c.output_padding[1],
                 c.bias ? "" : "_no_bias");
    });

}  // namespace
}  // namespace crowdrt::test
