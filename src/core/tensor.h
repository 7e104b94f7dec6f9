// Dense, contiguous, row-major tensors and their element types.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/error.h"

namespace crowdrt {

enum class DType : uint8_t { f32, f16, bf16, f64, i8, u8, i32, i64, boolean };

size_t dtype_size(DType dtype);
const char* dtype_name(DType dtype);
DType dtype_from_name(const std::string& name);  // throws on unknown names

using Shape = std::vector<int64_t>;
int64_t shape_numel(const Shape& shape);
std::string shape_str(const Shape& shape);  // "1x5x608x608"

template <class T> constexpr DType dtype_of();
template <> constexpr DType dtype_of<float>() { return DType::f32; }
template <> constexpr DType dtype_of<double>() { return DType::f64; }
template <> constexpr DType dtype_of<int8_t>() { return DType::i8; }
template <> constexpr DType dtype_of<uint8_t>() { return DType::u8; }
template <> constexpr DType dtype_of<int32_t>() { return DType::i32; }
template <> constexpr DType dtype_of<int64_t>() { return DType::i64; }

// Owns its bytes (64-byte aligned). Copying copies the data.
class Tensor {
 public:
  Tensor() = default;
  Tensor(DType dtype, Shape shape);  // zero-filled
  template <class T>
  static Tensor from(Shape shape, std::span<const T> values) {
    Tensor t(dtype_of<T>(), std::move(shape));
    if (static_cast<int64_t>(values.size()) != t.numel())
      throw Error(cat("Tensor::from: ", values.size(), " values for shape ", shape_str(t.shape())));
    std::copy(values.begin(), values.end(), t.data<T>());
    return t;
  }
  template <class T>
  static Tensor from(Shape shape, std::initializer_list<T> values) {
    return from<T>(std::move(shape), std::span<const T>(values.begin(), values.size()));
  }

  Tensor(const Tensor& other);
  Tensor& operator=(const Tensor& other);
  Tensor(Tensor&&) noexcept = default;
  Tensor& operator=(Tensor&&) noexcept = default;

  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  int64_t numel() const { return numel_; }
  size_t bytes() const { return numel_ * dtype_size(dtype_); }
  bool empty() const { return storage_.empty() && numel_ == 0; }

  std::byte* raw() { return storage_.empty() ? nullptr : aligned(); }
  const std::byte* raw() const { return storage_.empty() ? nullptr : aligned(); }
  template <class T> T* data() { check<T>(); return reinterpret_cast<T*>(raw()); }
  template <class T> const T* data() const { check<T>(); return reinterpret_cast<const T*>(raw()); }
  template <class T> std::span<T> span() { return {data<T>(), static_cast<size_t>(numel_)}; }
  template <class T> std::span<const T> span() const { return {data<T>(), static_cast<size_t>(numel_)}; }

  // Same bytes, another shape with the same element count.
  Tensor reshaped(Shape shape) const;
  // Element-wise conversion between numeric dtypes (f16/bf16 included).
  Tensor cast(DType to) const;
  // Values as int64 / float whatever the numeric dtype (for shape arithmetic and small constants).
  std::vector<int64_t> to_int64() const;
  std::vector<float> to_float() const;

 private:
  template <class T> void check() const {
    if (dtype_of<T>() != dtype_)
      throw Error(cat("tensor holds ", dtype_name(dtype_), ", accessed as ", dtype_name(dtype_of<T>())));
  }
  std::byte* aligned() const;
  DType dtype_ = DType::f32;
  Shape shape_;
  int64_t numel_ = 0;
  std::vector<std::byte> storage_;  // over-allocated by 64 for alignment
};

// IEEE half and bfloat16 conversions (round to nearest even).
float half_to_float(uint16_t h);
uint16_t float_to_half(float f);
float bf16_to_float(uint16_t b);
uint16_t float_to_bf16(float f);

}  // namespace crowdrt
