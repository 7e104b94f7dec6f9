#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <random>

#include "checkpoint/checkpoint.h"
#include "checkpoint_files.h"

using namespace crowdrt;
using namespace crowdrt::checkpoint;
using namespace crowdrt::checkpoint::testing;

namespace {
StateDict read(const std::string& name) { return read_checkpoint(checkpoint_path(name)); }
}  // namespace

TEST(PytorchZip, ReadsEveryDtypeAsPythonWroteIt) { expect_matches_python(read("dtypes.pth"), "dtypes.pth"); }

TEST(PytorchZip, ReadsAProtocol4Pickle) { expect_matches_python(read("protocol4.pth"), "protocol4.pth"); }

TEST(PytorchZip, ReadsTheUnetResnet18StateDict) {
  const StateDict state = read("unet_resnet18.pth");
  expect_matches_python(state, "unet_resnet18.pth");
  const Tensor* conv1 = state.find("encoder.conv1.weight");
  ASSERT_NE(conv1, nullptr);
  EXPECT_EQ(conv1->shape(), (Shape{64, 5, 7, 7}));
  const Tensor* tracked = state.find("encoder.bn1.num_batches_tracked");
  ASSERT_NE(tracked, nullptr);
  EXPECT_EQ(tracked->dtype(), DType::i64);
  EXPECT_EQ(tracked->to_int64(), std::vector<int64_t>{123});
  EXPECT_EQ(state.find("no.such.key"), nullptr);
}

TEST(PytorchZip, UnwrapsStateDictAndModelWrappersAndIgnoresTheRest) {
  expect_matches_python(read("wrapped_state_dict.pth"), "wrapped_state_dict.pth");
  expect_matches_python(read("wrapped_model.pth"), "wrapped_model.pth");
}

TEST(PytorchZip, AModelKeyHoldingSettingsIsNotAWrapper) {
  expect_matches_python(read("settings_beside_weights.pth"), "settings_beside_weights.pth");
}

TEST(PytorchZip, AFileWithoutTensorsNamesItsKeys) {
  EXPECT_TRUE(contains(error_of([] { read("no_tensors.pth"); }), "holds no tensors (keys: epoch, optimizer)"));
}

TEST(PytorchZip, StripsTheDataParallelModulePrefix) {
  expect_matches_python(read("data_parallel.pth"), "data_parallel.pth");
  expect_matches_python(read("wrapped_data_parallel.pth"), "wrapped_data_parallel.pth");
  EXPECT_NE(read("data_parallel.pth").find("0.weight"), nullptr);
}

TEST(PytorchZip, ReadsParametersAsTensors) { expect_matches_python(read("parameters.pth"), "parameters.pth"); }

TEST(PytorchZip, MaterialisesViewsOfSharedStoragesContiguously) {
  const StateDict state = read("views.pth");
  expect_matches_python(state, "views.pth");
  const Tensor* transposed = state.find("transposed");
  ASSERT_NE(transposed, nullptr);
  EXPECT_EQ(transposed->shape(), (Shape{6, 4}));
  EXPECT_EQ(transposed->span<float>()[1], 6.0f);  // base[1][0]
}

TEST(PytorchZip, LegacyFormatIsRefusedWithHowToResave) {
  const std::string message = error_of([] { read("legacy.pth"); });
  EXPECT_TRUE(contains(message, "legacy.pth"));
  EXPECT_TRUE(contains(message, "_use_new_zipfile_serialization=True"));
}

TEST(PytorchZip, AWholeModuleObjectIsRefusedByItsClassName) {
  const std::string message = error_of([] { read("whole_module.pth"); });
  EXPECT_TRUE(contains(message, "refuses to load global 'torch.nn.modules.container.Sequential'"));
  EXPECT_TRUE(contains(message, "model.state_dict()"));
}

TEST(PytorchZip, ATensorReachingPastItsStorageIsAnError) {
  const std::string message = error_of([] { read("out_of_bounds.pth"); });
  EXPECT_TRUE(contains(message, "tensor 'weight' reads element 99 of a storage of 4 elements"));
}

TEST(PytorchZip, EveryTruncationIsAnErrorNotACrash) {
  const std::vector<std::byte> whole = checkpoint_bytes("dtypes.pth");
  for (size_t size = 0; size < whole.size(); size += 7) {
    std::span<const std::byte> part(whole.data(), size);
    EXPECT_NE(error_of([&] { read_pytorch_zip(part, "cut.pth"); }), "no error") << "size " << size;
  }
}

TEST(PytorchZip, AFlippedByteInAStorageFailsTheCrcCheck) {
  std::vector<std::byte> bytes = checkpoint_bytes("parameters.pth");
  // The first storage's data follows its local header; find the float bytes torch wrote.
  const StateDict good = read_pytorch_zip(bytes, "good.pth");
  const Tensor& weight = *good.find("weight");
  auto at = std::search(bytes.begin(), bytes.end(), weight.raw(), weight.raw() + weight.bytes());
  ASSERT_NE(at, bytes.end());
  *at ^= std::byte{0x40};
  EXPECT_TRUE(contains(error_of([&] { read_pytorch_zip(bytes, "flipped.pth"); }), "flipped.pth"));
}

TEST(PytorchZip, GarbageBytesAreAnError) {
  std::mt19937 random(7);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<std::byte> bytes(random() % 2000);
    for (auto& b : bytes) b = std::byte(random() & 0xff);
    if (trial % 2 == 0 && bytes.size() >= 4) std::memcpy(bytes.data(), "PK\x03\x04", 4);
    EXPECT_NE(error_of([&] { read_pytorch_zip(bytes, "garbage.pth"); }), "no error");
  }
  EXPECT_TRUE(contains(error_of([] { read_checkpoint(checkpoint_path("dtypes.pth.expected.json")); }),
                       "neither a PyTorch checkpoint"));
}

TEST(PytorchZip, APlainPickleFileIsToldApartFromATorchSaveZip) {
  const std::string path = checkpoint_path("plain.pkl");
  const std::string pickle("\x80\x02}q\x00.", 6);  // {} in protocol 2
  write_file_atomic(path, std::span<const std::byte>(reinterpret_cast<const std::byte*>(pickle.data()), pickle.size()));
  EXPECT_TRUE(
      contains(error_of([&] { read_checkpoint(path); }), path + ": is a plain pickle, not a torch.save checkpoint"));
  std::filesystem::remove(path);
}
