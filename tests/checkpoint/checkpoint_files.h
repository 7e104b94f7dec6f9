// Shared by the checkpoint tests: where make_checkpoints.py wrote its files, and the comparison of a
// StateDict with the values Python dumped beside each checkpoint.
#pragma once
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cstring>
#include <string>

#include "checkpoint/checkpoint.h"
#include "core/file.h"
#include "../test_util.h"

namespace crowdrt::checkpoint::testing {

inline std::string checkpoint_path(const std::string& name) {
  return std::string(CROWDRT_TEST_DATA) + "/checkpoints/" + name;
}

inline std::vector<std::byte> checkpoint_bytes(const std::string& name) { return read_file(checkpoint_path(name)); }

// Every entry, in order: name, dtype, shape and each byte of the values.
inline void expect_matches_python(const StateDict& state, const std::string& name) {
  const std::vector<std::byte> manifest_bytes = read_file(checkpoint_path(name + ".expected.json"));
  const nlohmann::json manifest =
      nlohmann::json::parse(reinterpret_cast<const char*>(manifest_bytes.data()),
                            reinterpret_cast<const char*>(manifest_bytes.data()) + manifest_bytes.size());
  const std::vector<std::byte> values = read_file(checkpoint_path(name + ".expected.bin"));
  ASSERT_EQ(state.entries.size(), manifest.size()) << name;
  for (size_t i = 0; i < manifest.size(); ++i) {
    const auto& [key, tensor] = state.entries[i];
    const nlohmann::json& want = manifest[i];
    SCOPED_TRACE(name + ": " + want["key"].get<std::string>());
    EXPECT_EQ(key, want["key"].get<std::string>());
    EXPECT_STREQ(dtype_name(tensor.dtype()), want["dtype"].get<std::string>().c_str());
    EXPECT_EQ(tensor.shape(), want["shape"].get<Shape>());
    const size_t offset = want["offset"].get<size_t>();
    const size_t bytes = want["bytes"].get<size_t>();
    ASSERT_EQ(tensor.bytes(), bytes);
    ASSERT_LE(offset + bytes, values.size());
    EXPECT_TRUE(bytes == 0 || std::memcmp(tensor.raw(), values.data() + offset, bytes) == 0) << "values differ";
  }
}

// EXPECT_TRUE(contains(message, "...")) prints both strings when it fails.
inline ::testing::AssertionResult contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << text << "\"\n does not contain \"" << part << "\"";
}

using crowdrt::test_util::error_of;

}  // namespace crowdrt::checkpoint::testing
