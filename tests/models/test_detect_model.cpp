// detect_arch / detect_encoder / detect_in_channels on the key layouts of every supported model.
#include <gtest/gtest.h>

#include "models/detect_model.h"

namespace crowdrt::models {
namespace {

TEST(DetectModel, EveryEncoderArchitectureAndChannelCountIsToldFromItsKeys) {
  for (Arch arch : {Arch::unet, Arch::unetplusplus})
    for (const std::string& encoder : supported_encoders())
      for (int64_t channels : {3, 5}) {
        SCOPED_TRACE(cat(arch_name(arch), " ", encoder, " ", channels));
        const checkpoint::StateDict w = expected_state_dict(ModelSpec{arch, encoder, channels, 64, 64});
        EXPECT_EQ(detect_arch(w), arch);
        EXPECT_EQ(detect_encoder(w), encoder);
        EXPECT_EQ(detect_in_channels(w, encoder), channels);
      }
}

TEST(DetectModel, ForeignKeysAreNotMistakenForAnEncoder) {
  checkpoint::StateDict w;
  w.entries.emplace_back("backbone.conv1.weight", Tensor(DType::f32, {64, 3, 7, 7}));
  EXPECT_FALSE(detect_encoder(w).has_value());
  EXPECT_FALSE(detect_arch(w).has_value());
  EXPECT_FALSE(detect_in_channels(w, "resnet34").has_value());
  // a resnet with a layer count no torchvision ResNet has
  w.entries.emplace_back("encoder.conv1.weight", Tensor(DType::f32, {64, 3, 7, 7}));
  w.entries.emplace_back("encoder.layer3.0.conv1.weight", Tensor(DType::f32, {256, 128, 3, 3}));
  EXPECT_FALSE(detect_encoder(w).has_value());
}

}  // namespace
}  // namespace crowdrt::models
