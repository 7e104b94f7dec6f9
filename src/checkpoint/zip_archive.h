// A read-only zip archive in memory, on libzip (private to src/checkpoint).
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

struct zip;

namespace crowdrt::checkpoint {

class ZipArchive {
 public:
  // `bytes` must outlive the archive. Throws Error naming `what` when they are not a readable zip.
  ZipArchive(std::span<const std::byte> bytes, std::string what);
  ~ZipArchive();
  ZipArchive(const ZipArchive&) = delete;
  ZipArchive& operator=(const ZipArchive&) = delete;

  const std::vector<std::string>& names() const { return names_; }
  bool contains(const std::string& name) const;
  // The uncompressed size the directory declares for `name`.
  uint64_t declared_size(const std::string& name) const;
  // The whole entry, checked against its CRC; Error when it is missing, damaged or over max_bytes.
  std::vector<std::byte> read(const std::string& name, uint64_t max_bytes) const;

 private:
  int64_t index_of(const std::string& name) const;
  std::string what_;
  struct zip* archive_ = nullptr;
  std::vector<std::string> names_;
};

}  // namespace crowdrt::checkpoint
