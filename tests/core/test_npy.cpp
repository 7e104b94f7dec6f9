#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "core/file.h"
#include "core/npy.h"

using namespace crowdrt;

namespace {
std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("crowdrt_test_" + std::to_string(::getpid()) + name)).string();
}
std::vector<std::byte> bytes_of(const std::string& s) {
  std::vector<std::byte> b(s.size());
  std::memcpy(b.data(), s.data(), s.size());
  return b;
}
}  // namespace

TEST(Npy, WriteThenReadGivesTheSameTensor) {
  const std::string path = temp_path("a.npy");
  Tensor t = Tensor::from<float>({1, 2, 3}, {1, 2, 3, 4, 5, 6});
  write_npy(path, t);
  Tensor r = read_npy(path);
  EXPECT_EQ(r.shape(), t.shape());
  EXPECT_EQ(std::memcmp(r.raw(), t.raw(), t.bytes()), 0);
  std::filesystem::remove(path);
}

TEST(Npy, HeaderIsPaddedTo64Bytes) {
  const std::string path = temp_path("b.npy");
  write_npy(path, Tensor::from<float>({2}, {1, 2}));
  const auto bytes = read_file(path);
  EXPECT_EQ((bytes.size() - 8) % 64, 0u);
  std::filesystem::remove(path);
}

TEST(Npy, ReadsScalarsAndOneDimensionalShapes) {
  const std::string path = temp_path("c.npy");
  write_npy(path, Tensor::from<float>({3}, {1, 2, 3}));
  EXPECT_EQ(read_npy(path).shape(), (Shape{3}));
  std::filesystem::remove(path);
}

TEST(Npy, RejectsOtherDtypesFortranOrderAndTruncation) {
  const std::string f8 = std::string("\x93NUMPY\x01\x00", 8) + "\x36\x00" +
                         "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }";
  EXPECT_THROW(parse_npy(bytes_of(f8)), Error);
  const std::string fortran = std::string("\x93NUMPY\x01\x00", 8) + "\x38\x00" +
                              "{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }";
  EXPECT_THROW(parse_npy(bytes_of(fortran)), Error);
  const std::string truncated = std::string("\x93NUMPY\x01\x00", 8) + "\x39\x00" +
                                "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }" + "abcd";
  EXPECT_THROW(parse_npy(bytes_of(truncated)), Error);
  EXPECT_THROW(parse_npy(bytes_of("garbage")), Error);
}

TEST(Npy, MissingFileNamesThePath) {
  try {
    read_npy("/nonexistent/x.npy");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/x.npy"), std::string::npos);
  }
}
