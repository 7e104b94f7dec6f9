// safetensors (huggingface/safetensors, README "Format"): an 8-byte little-endian header length, a JSON
// header {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}, then the data;
// offsets count from the first byte after the header. Tensors keep the header's order.
#include <nlohmann/json.hpp>

#include <cstring>

#include "checkpoint/checkpoint.h"

namespace crowdrt::checkpoint {

namespace {

using Json = nlohmann::ordered_json;

// A header past this is not a weights file; it also bounds what a hostile file makes us parse.
constexpr uint64_t max_header_bytes = uint64_t{100} << 20;

DType safetensors_dtype(const std::string& name, const std::string& where) {
  static const std::pair<const char*, DType> known[] = {
      {"F32", DType::f32}, {"F16", DType::f16}, {"BF16", DType::bf16}, {"F64", DType::f64}, {"I64", DType::i64},
      {"I32", DType::i32}, {"I8", DType::i8},   {"U8", DType::u8},     {"BOOL", DType::boolean}};
  for (const auto& [n, dtype] : known)
    if (name == n) return dtype;
  throw Error(cat(where, " has dtype ", name, ", which crowdrt does not read (F32 F16 BF16 F64 I64 I32 I8 U8 BOOL); "
                  "convert it to float32 before saving"));
}

uint64_t non_negative(const Json& value, const std::string& where, const char* role) {
  if (!value.is_number_unsigned())
    throw Error(cat(where, ": ", role, " is not a non-negative integer; the file is damaged"));
  return value.get<uint64_t>();
}

}  // namespace

StateDict read_safetensors(std::span<const std::byte> bytes, const std::string& what) {
  if (bytes.size() < 8) throw Error(cat(what, ": too short for a safetensors file (", bytes.size(), " bytes)"));
  uint64_t header_bytes = 0;
  for (int i = 0; i < 8; ++i) header_bytes |= uint64_t(static_cast<uint8_t>(bytes[i])) << (8 * i);
  if (header_bytes > max_header_bytes || header_bytes > bytes.size() - 8)
    throw Error(cat(what, ": safetensors header of ", header_bytes, " bytes does not fit in the file of ", bytes.size(),
                    " bytes; the file is truncated or not safetensors"));
  const char* header_text = reinterpret_cast<const char*>(bytes.data() + 8);
  const Json header = Json::parse(header_text, header_text + header_bytes, nullptr, /*allow_exceptions=*/false);
  if (header.is_discarded() || !header.is_object())
    throw Error(cat(what, ": safetensors header is not a JSON object; the file is damaged"));
  const std::span<const std::byte> data = bytes.subspan(8 + header_bytes);

  StateDict out;
  for (const auto& [name, info] : header.items()) {
    if (name == "__metadata__") continue;
    const std::string where = cat(what, ": tensor '", name, "'");
    if (!info.is_object() || !info.contains("dtype") || !info["dtype"].is_string() || !info.contains("shape") ||
        !info["shape"].is_array() || !info.contains("data_offsets") || !info["data_offsets"].is_array() ||
        info["data_offsets"].size() != 2)
      throw Error(cat(where, " lacks dtype, shape or data_offsets [begin, end]; the file is damaged"));
    const DType dtype = safetensors_dtype(info["dtype"].get<std::string>(), where);
    Shape shape;
    uint64_t numel = 1;
    for (const Json& d : info["shape"]) {
      const uint64_t size = non_negative(d, where, "a shape entry");
      if (size > uint64_t{1} << 62 || __builtin_mul_overflow(numel, size, &numel) || numel > uint64_t{1} << 62)
        throw Error(cat(where, " has a shape too large for any file; the file is damaged"));
      shape.push_back(static_cast<int64_t>(size));
    }
    const uint64_t begin = non_negative(info["data_offsets"][0], where, "data_offsets[0]");
    const uint64_t end = non_negative(info["data_offsets"][1], where, "data_offsets[1]");
    if (begin > end || end > data.size())
      throw Error(cat(where, " has data_offsets [", begin, ", ", end, "] outside the ", data.size(),
                      " data bytes; the file is truncated or damaged"));
    if (end - begin != numel * dtype_size(dtype))
      throw Error(cat(where, " spans ", end - begin, " bytes but its shape ", shape_str(shape), " of ",
                      dtype_name(dtype), " needs ", numel * dtype_size(dtype), "; the file is damaged"));
    Tensor tensor(dtype, shape);
    if (numel > 0) std::memcpy(tensor.raw(), data.data() + begin, end - begin);
    out.entries.emplace_back(name, std::move(tensor));
  }
  return out;
}

}  // namespace crowdrt::checkpoint
