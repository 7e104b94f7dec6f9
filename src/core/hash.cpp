#include "core/hash.h"

#include <cstdio>

namespace crowdrt {

void Hasher::update(std::span<const std::byte> bytes) {
  uint64_t h = state_;
  for (std::byte b : bytes) {
    h ^= static_cast<uint8_t>(b);
    h *= 0x100000001b3ull;
  }
  state_ = h;
}

void Hasher::update(const std::string& text) {
  update(std::span<const std::byte>(reinterpret_cast<const std::byte*>(text.data()), text.size()));
}

std::string Hasher::hex() const {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(state_));
  return buf;
}

uint64_t hash_bytes(std::span<const std::byte> bytes) {
  Hasher h;
  h.update(bytes);
  return h.digest();
}

std::string hash_hex(std::span<const std::byte> bytes) {
  Hasher h;
  h.update(bytes);
  return h.hex();
}

}  // namespace crowdrt
