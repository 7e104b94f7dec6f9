#include "core/tensor.h"

#include "core/checked.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

namespace crowdrt {

size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::f32: return 4;
    case DType::f16: return 2;
    case DType::bf16: return 2;
    case DType::f64: return 8;
    case DType::i8: return 1;
    case DType::u8: return 1;
    case DType::i32: return 4;
    case DType::i64: return 8;
    case DType::boolean: return 1;
  }
  return 0;
}

const char* dtype_name(DType dtype) {
  switch (dtype) {
    case DType::f32: return "f32";
    case DType::f16: return "f16";
    case DType::bf16: return "bf16";
    case DType::f64: return "f64";
    case DType::i8: return "i8";
    case DType::u8: return "u8";
    case DType::i32: return "i32";
    case DType::i64: return "i64";
    case DType::boolean: return "bool";
  }
  return "?";
}

DType dtype_from_name(const std::string& name) {
  for (DType d : {DType::f32, DType::f16, DType::bf16, DType::f64, DType::i8, DType::u8, DType::i32,
                  DType::i64, DType::boolean})
    if (name == dtype_name(d)) return d;
  throw Error(cat("unknown dtype '", name, "'"));
}

int64_t shape_numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) throw Error(cat("shape ", shape_str(shape), " has a negative dimension"));
    if (d != 0 && n > std::numeric_limits<int64_t>::max() / d)
      throw Error(cat("shape ", shape_str(shape), " is too large"));
    n *= d;
  }
  return n;
}

std::string shape_str(const Shape& shape) {
  if (shape.empty()) return "scalar";
  std::string s;
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? "x" : "") + std::to_string(shape[i]);
  return s;
}

Tensor::Tensor(DType dtype, Shape shape) : dtype_(dtype), shape_(std::move(shape)) {
  numel_ = shape_numel(shape_);
  // Checked before allocating: callers name the tensor when they catch this (importer, plan reader).
  checked_tensor_bytes(numel_, static_cast<int64_t>(dtype_size(dtype_)),
                       cat("a ", dtype_name(dtype_), " tensor of shape ", shape_str(shape_)));
  storage_.assign(bytes() + 64, std::byte{0});
}

Tensor::Tensor(const Tensor& other) : dtype_(other.dtype_), shape_(other.shape_), numel_(other.numel_) {
  storage_.assign(bytes() + 64, std::byte{0});
  if (bytes()) std::memcpy(aligned(), other.aligned(), bytes());
}

Tensor& Tensor::operator=(const Tensor& other) {
  if (this != &other) *this = Tensor(other);
  return *this;
}

std::byte* Tensor::aligned() const {
  auto p = reinterpret_cast<uintptr_t>(storage_.data());
  return reinterpret_cast<std::byte*>((p + 63) & ~uintptr_t{63});
}

Tensor Tensor::reshaped(Shape shape) const {
  if (shape_numel(shape) != numel_)
    throw Error(cat("cannot reshape ", shape_str(shape_), " to ", shape_str(shape)));
  Tensor t(*this);
  t.shape_ = std::move(shape);
  return t;
}

namespace {
template <class To>
void convert_all(const Tensor& from, To* out) {
  const int64_t n = from.numel();
  const std::byte* raw = from.raw();
  auto get = [&](int64_t i) -> double {
    switch (from.dtype()) {
      case DType::f32: return reinterpret_cast<const float*>(raw)[i];
      case DType::f16: return half_to_float(reinterpret_cast<const uint16_t*>(raw)[i]);
      case DType::bf16: return bf16_to_float(reinterpret_cast<const uint16_t*>(raw)[i]);
      case DType::f64: return reinterpret_cast<const double*>(raw)[i];
      case DType::i8: return reinterpret_cast<const int8_t*>(raw)[i];
      case DType::u8: return reinterpret_cast<const uint8_t*>(raw)[i];
      case DType::boolean: return reinterpret_cast<const uint8_t*>(raw)[i] ? 1 : 0;
      case DType::i32: return reinterpret_cast<const int32_t*>(raw)[i];
      case DType::i64: return static_cast<double>(reinterpret_cast<const int64_t*>(raw)[i]);
    }
    return 0;
  };
  if (from.dtype() == DType::i64) {  // keep int64 exact
    const auto* src = reinterpret_cast<const int64_t*>(raw);
    for (int64_t i = 0; i < n; ++i) out[i] = static_cast<To>(src[i]);
    return;
  }
  if constexpr (std::is_integral_v<To>) {
    // A float outside the integer type (inf, NaN, 1e30 as a size) has no conversion in C++; it is an error here.
    const double low = static_cast<double>(std::numeric_limits<To>::min());
    const double high =
        std::is_same_v<To, int64_t> ? 9223372036854775808.0 : static_cast<double>(std::numeric_limits<To>::max()) + 1;
    for (int64_t i = 0; i < n; ++i) {
      const double v = get(i);
      if (!(v >= low && v < high))
        throw Error(cat("the value ", v, " does not fit the integer type ", dtype_name(dtype_of<To>())));
      out[i] = static_cast<To>(v);
    }
  } else {
    for (int64_t i = 0; i < n; ++i) out[i] = static_cast<To>(get(i));
  }
}
}  // namespace

Tensor Tensor::cast(DType to) const {
  Tensor t(to, shape_);
  switch (to) {
    case DType::f32: convert_all(*this, t.data<float>()); break;
    case DType::f64: convert_all(*this, t.data<double>()); break;
    case DType::i8: convert_all(*this, t.data<int8_t>()); break;
    case DType::u8: convert_all(*this, t.data<uint8_t>()); break;
    case DType::boolean: {
      std::vector<float> f = to_float();
      auto* out = reinterpret_cast<uint8_t*>(t.raw());
      for (int64_t i = 0; i < numel_; ++i) out[i] = f[i] != 0.f;
      break;
    }
    case DType::i32: convert_all(*this, t.data<int32_t>()); break;
    case DType::i64: convert_all(*this, t.data<int64_t>()); break;
    case DType::f16:
    case DType::bf16: {
      std::vector<float> f = to_float();
      auto* out = reinterpret_cast<uint16_t*>(t.raw());
      for (int64_t i = 0; i < numel_; ++i) out[i] = to == DType::f16 ? float_to_half(f[i]) : float_to_bf16(f[i]);
      break;
    }
  }
  return t;
}

std::vector<int64_t> Tensor::to_int64() const {
  std::vector<int64_t> v(numel_);
  convert_all(*this, v.data());
  return v;
}

std::vector<float> Tensor::to_float() const {
  std::vector<float> v(numel_);
  convert_all(*this, v.data());
  return v;
}

float half_to_float(uint16_t h) {
  const uint32_t sign = (h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
  if (exp == 0) {
    if (man == 0) {
      bits = sign;
    } else {  // subnormal: normalise
      exp = 127 - 15 + 1;
      while (!(man & 0x400)) { man <<= 1; --exp; }
      bits = sign | (exp << 23) | ((man & 0x3ff) << 13);
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (man << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (man << 13);
  }
  return std::bit_cast<float>(bits);
}

uint16_t float_to_half(float f) {
  const uint32_t x = std::bit_cast<uint32_t>(f);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t abs = x & 0x7fffffffu;
  if (abs >= 0x7f800000u) return static_cast<uint16_t>(sign | 0x7c00u | (abs > 0x7f800000u ? 0x200u : 0));
  if (abs >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // rounds to infinity
  if (abs < 0x38800000u) {  // subnormal or zero in half
    const float a = std::bit_cast<float>(abs);
    const float scaled = a * 16777216.0f;  // 2^24: one half subnormal ulp = 2^-24
    uint32_t m = static_cast<uint32_t>(std::nearbyint(scaled));
    return static_cast<uint16_t>(sign | m);
  }
  uint32_t mant = abs & 0x7fffffu;
  uint32_t exp = (abs >> 23) - 127 + 15;
  uint32_t h = (exp << 10) | (mant >> 13);
  const uint32_t rest = mant & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) ++h;
  return static_cast<uint16_t>(sign | h);
}

float bf16_to_float(uint16_t b) { return std::bit_cast<float>(static_cast<uint32_t>(b) << 16); }

uint16_t float_to_bf16(float f) {
  uint32_t x = std::bit_cast<uint32_t>(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x40u);  // quiet NaN
  x += 0x7fffu + ((x >> 16) & 1u);
  return static_cast<uint16_t>(x >> 16);
}

}  // namespace crowdrt
