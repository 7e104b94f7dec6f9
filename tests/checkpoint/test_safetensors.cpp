#include <gtest/gtest.h>

#include <cstring>

#include "checkpoint/checkpoint.h"
#include "checkpoint_files.h"

using namespace crowdrt;
using namespace crowdrt::checkpoint;
using namespace crowdrt::checkpoint::testing;

namespace {
// An 8-byte little-endian header length, the header, then the data.
std::vector<std::byte> safetensors(const std::string& header, const std::vector<uint8_t>& data) {
  std::vector<std::byte> out(8 + header.size() + data.size());
  const uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out[i] = std::byte((n >> (8 * i)) & 0xff);
  std::memcpy(out.data() + 8, header.data(), header.size());
  if (!data.empty()) std::memcpy(out.data() + 8 + header.size(), data.data(), data.size());
  return out;
}
}  // namespace

TEST(Safetensors, ReadsEveryDtypeInHeaderOrderAsPythonWroteIt) {
  const StateDict state = read_checkpoint(checkpoint_path("tensors.safetensors"));
  expect_matches_python(state, "tensors.safetensors");
  EXPECT_EQ(state.entries.front().first, "z.weight");  // file order, not sorted
}

TEST(Safetensors, ReadsASmallHandWrittenFile) {
  const auto bytes = safetensors(R"({"x":{"dtype":"U8","shape":[2],"data_offsets":[1,3]},"__metadata__":{"a":"b"}})",
                                 {9, 4, 5});
  const StateDict state = read_safetensors(bytes, "small.safetensors");
  ASSERT_EQ(state.entries.size(), 1u);
  EXPECT_EQ(state.entries[0].second.to_int64(), (std::vector<int64_t>{4, 5}));
}

TEST(Safetensors, OffsetsOutsideTheDataAreAnError) {
  const auto bytes = safetensors(R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", {0, 0, 0, 0});
  EXPECT_TRUE(contains(error_of([&] { read_safetensors(bytes, "short.safetensors"); }),
                       "short.safetensors: tensor 'x' has data_offsets [0, 8] outside the 4 data bytes"));
}

TEST(Safetensors, ASpanThatDisagreesWithTheShapeIsAnError) {
  const auto bytes = safetensors(R"({"x":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", std::vector<uint8_t>(8));
  EXPECT_TRUE(contains(error_of([&] { read_safetensors(bytes, "s"); }), "needs 12"));
}

TEST(Safetensors, MalformedHeadersAreErrors) {
  for (const std::string header :
       {"{", "[]", R"({"x":1})", R"({"x":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}})",
        R"({"x":{"dtype":"F8_E4M3","shape":[],"data_offsets":[0,1]}})",
        R"({"x":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,0]}})"})
    EXPECT_NE(error_of([&] { read_safetensors(safetensors(header, {0}), "bad"); }), "no error") << header;
  std::vector<std::byte> huge_length(16, std::byte{0xff});
  EXPECT_TRUE(contains(error_of([&] { read_safetensors(huge_length, "len"); }), "does not fit"));
}
