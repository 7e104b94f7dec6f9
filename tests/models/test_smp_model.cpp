// build_smp_model against the PyTorch reference modules (tests/reference/smp_efficientnet.py): key counts and
// parameter counts per architecture and encoder, shapes, static "same" padding, and the one-Error reports.
#include <gtest/gtest.h>

#include <algorithm>

#include "models/smp_model.h"
#include "../test_util.h"

namespace crowdrt::models {
namespace {

ModelSpec spec(Arch arch, const std::string& encoder, int64_t channels = 3, int64_t h = 64, int64_t w = 64) {
  return ModelSpec{arch, encoder, channels, h, w};
}

using crowdrt::test_util::error_of;

const ir::Node* find_node(const ir::Graph& g, const std::string& name) {
  for (const ir::Node& n : g.nodes())
    if (n.name == name) return &n;
  return nullptr;
}

struct Expected {
  Arch arch;
  const char* encoder;
  size_t keys;  // state_dict keys the forward pass reads (no num_batches_tracked, no efficientnet head)
  int64_t parameters;
};

// From the PyTorch reference modules: len(keys) and sum(p.numel()) over those keys' parameters, in_channels 3.
const Expected kExpected[] = {
    {Arch::unet, "resnet18", 152, 14328209},          {Arch::unet, "resnet34", 232, 24436369},
    {Arch::unet, "resnet50", 317, 32521105},          {Arch::unet, "resnet101", 572, 51513233},
    {Arch::unet, "mobilenet_v2", 312, 6628945},       {Arch::unet, "efficientnet-b0", 356, 5839309},
    {Arch::unet, "efficientnet-b1", 484, 8344945},    {Arch::unet, "efficientnet-b2", 484, 9547859},
    {Arch::unet, "efficientnet-b3", 541, 12566137},   {Arch::unetplusplus, "resnet18", 212, 15970449},
    {Arch::unetplusplus, "resnet34", 292, 26078609},  {Arch::unetplusplus, "resnet50", 377, 48985745},
    {Arch::unetplusplus, "resnet101", 632, 67977873}, {Arch::unetplusplus, "mobilenet_v2", 372, 6824721},
    {Arch::unetplusplus, "efficientnet-b0", 416, 6157421}, {Arch::unetplusplus, "efficientnet-b1", 544, 8663057},
    {Arch::unetplusplus, "efficientnet-b2", 544, 9902867}, {Arch::unetplusplus, "efficientnet-b3", 601, 13031897},
};

TEST(SmpModel, ReadsExactlyThePyTorchKeysAndParameterCountOfEveryArchitectureAndEncoder) {
  for (const Expected& e : kExpected) {
    SCOPED_TRACE(cat(arch_name(e.arch), " ", e.encoder));
    const checkpoint::StateDict weights = expected_state_dict(spec(e.arch, e.encoder));
    EXPECT_EQ(weights.entries.size(), e.keys);
    const ir::Graph g = build_smp_model(spec(e.arch, e.encoder), weights);
    EXPECT_EQ(count_parameters(g), e.parameters);
    ASSERT_EQ(g.outputs().size(), 1u);
    EXPECT_EQ(g.value(g.outputs()[0]).name, "output");
    EXPECT_EQ(g.value(g.outputs()[0]).shape, (Shape{1, 1, 64, 64}));
    EXPECT_EQ(g.value(g.inputs()[0]).name, "input");
  }
}

TEST(SmpModel, FirstConvolutionTakesTheRequestedChannelsAndNonSquareSizesKeepTheirOrientation) {
  const checkpoint::StateDict w = expected_state_dict(spec(Arch::unet, "mobilenet_v2", 5, 64, 96));
  EXPECT_EQ(w.find("encoder.features.0.0.weight")->shape(), (Shape{32, 5, 3, 3}));
  const ir::Graph g = build_smp_model(spec(Arch::unet, "mobilenet_v2", 5, 64, 96), w);
  EXPECT_EQ(g.value(g.inputs()[0]).shape, (Shape{1, 5, 64, 96}));
  EXPECT_EQ(g.value(g.outputs()[0]).shape, (Shape{1, 1, 64, 96}));
}

TEST(SmpModel, EfficientNetPadsFromTheNominalImageSizeNotTheInput) {
  // b0 (nominal 224): block 3 is the first 5x5 stride-2 conv, at nominal 56 → pad 3 → (1 before, 2 after).
  ir::Graph b0 =
      build_smp_model(spec(Arch::unet, "efficientnet-b0"), expected_state_dict(spec(Arch::unet, "efficientnet-b0")));
  const ir::Node* pad = find_node(b0, "/encoder/_blocks/3/_depthwise_conv/static_padding/Pad");
  ASSERT_NE(pad, nullptr);
  EXPECT_EQ(pad->attrs.ints("pads"), (std::vector<int64_t>{0, 0, 1, 1, 0, 0, 2, 2}));
  // b2 (nominal 260): the same conv (block 5) sits at nominal 65, odd → pad 4 → symmetric (2, 2).
  ir::Graph b2 =
      build_smp_model(spec(Arch::unet, "efficientnet-b2"), expected_state_dict(spec(Arch::unet, "efficientnet-b2")));
  pad = find_node(b2, "/encoder/_blocks/5/_depthwise_conv/static_padding/Pad");
  ASSERT_NE(pad, nullptr);
  EXPECT_EQ(pad->attrs.ints("pads"), (std::vector<int64_t>{0, 0, 2, 2, 0, 0, 2, 2}));
  // 1x1 convolutions get no Pad at all
  EXPECT_EQ(find_node(b2, "/encoder/_blocks/5/_expand_conv/static_padding/Pad"), nullptr);
  const ir::Node* bn = find_node(b2, "/encoder/_bn0/BatchNormalization");
  ASSERT_NE(bn, nullptr);
  EXPECT_FLOAT_EQ(bn->attrs.f("epsilon"), 1e-3f);
}

TEST(SmpModel, UnusedEfficientNetHeadAndBatchNormCountersAreNotUnexpected) {
  checkpoint::StateDict w = expected_state_dict(spec(Arch::unet, "efficientnet-b0"));
  w.entries.emplace_back("encoder._conv_head.weight", Tensor(DType::f32, {1280, 320, 1, 1}));
  w.entries.emplace_back("encoder._bn1.running_mean", Tensor(DType::f32, {1280}));
  w.entries.emplace_back("encoder._bn0.num_batches_tracked", Tensor(DType::i64, {}));
  EXPECT_NO_THROW(build_smp_model(spec(Arch::unet, "efficientnet-b0"), w));
}

TEST(SmpModel, HalfPrecisionWeightsBecomeFloat32Constants) {
  checkpoint::StateDict w = expected_state_dict(spec(Arch::unet, "resnet18"));
  for (auto& [key, t] : w.entries) t = t.cast(DType::f16);
  const ir::Graph g = build_smp_model(spec(Arch::unet, "resnet18"), w);
  EXPECT_EQ(g.constant(g.find_value("encoder.conv1.weight")).dtype(), DType::f32);
}

TEST(SmpModel, OneErrorListsMissingUnexpectedAndMismatchedKeysAndSuggestsTheEncoderTheyFit) {
  // resnet34 weights offered as resnet18: layer extra blocks are unexpected
  const checkpoint::StateDict r34 = expected_state_dict(spec(Arch::unet, "resnet34"));
  const std::string msg = error_of([&] { build_smp_model(spec(Arch::unet, "resnet18"), r34); });
  EXPECT_NE(msg.find("unexpected keys: encoder.layer1.2."), std::string::npos) << msg;
  EXPECT_NE(msg.find("--encoder resnet34"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("missing"), std::string::npos) << msg;

  checkpoint::StateDict w = expected_state_dict(spec(Arch::unet, "resnet18"));
  w.entries.erase(w.entries.begin() + 1);  // encoder.bn1.weight
  w.entries.emplace_back("decoder.extra.weight", Tensor(DType::f32, {3}));
  const std::string two = error_of([&] { build_smp_model(spec(Arch::unet, "resnet18"), w); });
  EXPECT_NE(two.find("1 missing keys: encoder.bn1.weight"), std::string::npos) << two;
  EXPECT_NE(two.find("1 unexpected keys: decoder.extra.weight"), std::string::npos) << two;
  EXPECT_EQ(two.find("--encoder"), std::string::npos) << two;
}

TEST(SmpModel, WrongChannelCountIsAShapeMismatchThatNamesTheRightCount) {
  const checkpoint::StateDict five = expected_state_dict(spec(Arch::unet, "resnet34", 5));
  const std::string msg = error_of([&] { build_smp_model(spec(Arch::unet, "resnet34", 3), five); });
  EXPECT_NE(msg.find("1 shape mismatches: encoder.conv1.weight: checkpoint 64x5x7x7, model 64x3x7x7"),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("--in-channels 5"), std::string::npos) << msg;
}

TEST(SmpModel, UnetPlusPlusWeightsOfferedAsUnetSuggestTheArchitecture) {
  const checkpoint::StateDict pp = expected_state_dict(spec(Arch::unetplusplus, "resnet18"));
  const std::string msg = error_of([&] { build_smp_model(spec(Arch::unet, "resnet18"), pp); });
  EXPECT_NE(msg.find("--arch unetplusplus"), std::string::npos) << msg;
  EXPECT_NE(msg.find("missing keys: decoder.blocks.0."), std::string::npos) << msg;
}

TEST(SmpModel, SizesThatAreNotMultiplesOf32AreRefusedWithTheReason) {
  const checkpoint::StateDict w = expected_state_dict(spec(Arch::unet, "resnet18"));
  for (auto [h, w2] : {std::pair<int64_t, int64_t>{100, 100}, {64, 80}, {0, 64}}) {
    const std::string msg = error_of([&] { build_smp_model(spec(Arch::unet, "resnet18", 3, h, w2), w); });
    EXPECT_NE(msg.find("multiple of 32"), std::string::npos) << msg;
  }
  EXPECT_NE(error_of([] { check_input_size(100, 100); }).find("use e.g. 128x128"), std::string::npos);
}

TEST(SmpModel, ArchitectureSpellingsOfTheSeedAreAccepted) {
  EXPECT_EQ(arch_from_name("UNet"), Arch::unet);
  EXPECT_EQ(arch_from_name("unet"), Arch::unet);
  EXPECT_EQ(arch_from_name("UNet++"), Arch::unetplusplus);
  EXPECT_EQ(arch_from_name("UnetPlusPlus"), Arch::unetplusplus);
  EXPECT_NE(error_of([] { arch_from_name("fpn"); }).find("unet"), std::string::npos);
  EXPECT_NE(error_of([] { build_smp_model(spec(Arch::unet, "vgg16"), {}); }).find("unknown encoder 'vgg16'"),
            std::string::npos);
}

}  // namespace
}  // namespace crowdrt::models
