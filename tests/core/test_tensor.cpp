#include <gtest/gtest.h>

#include <limits>

#include <cmath>

#include "core/tensor.h"

using namespace crowdrt;

TEST(Tensor, IsZeroFilledAndAligned) {
  Tensor t(DType::f32, {2, 3});
  EXPECT_EQ(t.numel(), 6);
  EXPECT_EQ(t.bytes(), 24u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(t.raw()) % 64, 0u);
  for (float v : t.span<float>()) EXPECT_EQ(v, 0.f);
}

TEST(Tensor, CopyIsDeep) {
  Tensor a = Tensor::from<float>({2}, {1.f, 2.f});
  Tensor b = a;
  b.data<float>()[0] = 5.f;
  EXPECT_EQ(a.data<float>()[0], 1.f);
}

TEST(Tensor, AccessWithTheWrongTypeThrows) {
  Tensor t(DType::i64, {1});
  EXPECT_THROW(t.data<float>(), Error);
}

TEST(Tensor, CastKeepsInt64Exact) {
  const int64_t big = (int64_t{1} << 53) + 1;
  Tensor t = Tensor::from<int64_t>({1}, {big});
  EXPECT_EQ(t.to_int64()[0], big);
  EXPECT_EQ(t.cast(DType::i32).to_int64()[0], static_cast<int32_t>(big));
}

TEST(Tensor, ReshapeRefusesAnotherElementCount) {
  Tensor t(DType::f32, {2, 3});
  EXPECT_EQ(t.reshaped({3, 2}).shape(), (Shape{3, 2}));
  EXPECT_THROW(t.reshaped({4}), Error);
}

TEST(Half, RoundTripsRepresentableValuesAndRoundsToNearestEven) {
  for (float v : {0.f, -0.f, 1.f, -2.5f, 65504.f, 6.103515625e-05f, 5.960464477539063e-08f})
    EXPECT_EQ(half_to_float(float_to_half(v)), v) << v;
  EXPECT_EQ(float_to_half(1.f + 1.f / 2048), float_to_half(1.f));  // tie → even
  EXPECT_EQ(half_to_float(float_to_half(1e6f)), INFINITY);
  EXPECT_TRUE(std::isnan(half_to_float(float_to_half(NAN))));
}

TEST(BFloat16, RoundsToNearestEven) {
  EXPECT_EQ(bf16_to_float(float_to_bf16(1.f)), 1.f);
  EXPECT_EQ(bf16_to_float(float_to_bf16(1.f + 1.f / 256)), 1.f);  // tie → even
  EXPECT_EQ(bf16_to_float(float_to_bf16(1.f + 3.f / 256)), 1.f + 4.f / 256);
}

TEST(Shape, NegativeDimensionsAreRejected) { EXPECT_THROW(shape_numel({2, -1}), Error); }

// Found by fuzz_onnx_import (issue 18): a float tensor holding inf or -3.6e32 read as sizes (to_int64) was a
// float-to-integer conversion out of range, undefined behaviour; it is an Error now.
TEST(Tensor, FloatsOutsideAnIntegerTypeAreAnErrorWhenConverted) {
  const float inf = std::numeric_limits<float>::infinity();
  for (float bad : {inf, -inf, std::numeric_limits<float>::quiet_NaN(), -3.6315e32f, 9.3e18f}) {
    const Tensor t = Tensor::from<float>({2}, {1.f, bad});
    EXPECT_THROW(t.to_int64(), Error) << bad;
    EXPECT_THROW(t.cast(DType::i64), Error) << bad;
  }
  EXPECT_THROW(Tensor::from<float>({1}, {300.f}).cast(DType::u8), Error);
  EXPECT_THROW(Tensor::from<float>({1}, {3e9f}).cast(DType::i32), Error);
  EXPECT_EQ(Tensor::from<float>({2}, {-9.2e18f, 255.f}).to_int64()[1], 255);
}

// A shape whose byte count is over the limit is refused before anything is allocated (core/checked.h).
TEST(Tensor, ATensorOverTheSizeLimitIsRefusedBeforeAllocating) {
  EXPECT_THROW(Tensor(DType::f32, {int64_t{1} << 40}), Error);
  EXPECT_THROW(Tensor(DType::f32, {(int64_t{1} << 62) + 4}), Error);  // 2^64 + 16 bytes: must not wrap to 16
}
