// 64-bit FNV-1a: checksums of plan files and fingerprints of source models (not cryptographic).
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace crowdrt {

class Hasher {
 public:
  void update(std::span<const std::byte> bytes);
  void update(const std::string& text);
  uint64_t digest() const { return state_; }
  std::string hex() const;  // 16 lowercase hex digits

 private:
  uint64_t state_ = 0xcbf29ce484222325ull;
};

uint64_t hash_bytes(std::span<const std::byte> bytes);
std::string hash_hex(std::span<const std::byte> bytes);

}  // namespace crowdrt
