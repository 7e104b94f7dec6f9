// libzip reads from our buffer (zip_source_buffer_create + zip_open_from_source), so a checkpoint is
// read once from disk and never unpacked to files.
#include "checkpoint/zip_archive.h"

#include <zip.h>

#include <algorithm>
#include <memory>

#include "core/error.h"

namespace crowdrt::checkpoint {

namespace {
struct ZipErrorGuard {
  zip_error_t error;
  ZipErrorGuard() { zip_error_init(&error); }
  ~ZipErrorGuard() { zip_error_fini(&error); }
  std::string message() { return zip_error_strerror(&error); }
};
struct ZipFileCloser {
  void operator()(zip_file_t* file) const { zip_fclose(file); }
};
}  // namespace

ZipArchive::ZipArchive(std::span<const std::byte> bytes, std::string what) : what_(std::move(what)) {
  ZipErrorGuard error;
  zip_source_t* source = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error.error);
  if (!source) throw Error(cat(what_, ": cannot read as a zip archive (", error.message(), ")"));
  // ZIP_CHECKCONS compares the local headers with the central directory: a damaged file fails here.
  archive_ = zip_open_from_source(source, ZIP_RDONLY | ZIP_CHECKCONS, &error.error);
  if (!archive_) {
    zip_source_free(source);
    throw Error(cat(what_, ": not a readable zip archive (", error.message(),
                    "); the file is damaged or truncated, save it again with torch.save"));
  }
  const zip_int64_t count = zip_get_num_entries(archive_, 0);
  for (zip_int64_t i = 0; i < count; ++i) {
    const char* name = zip_get_name(archive_, static_cast<zip_uint64_t>(i), ZIP_FL_ENC_RAW);
    if (!name) {
      zip_discard(archive_);
      throw Error(cat(what_, ": zip entry ", i, " has no readable name; the file is damaged"));
    }
    names_.emplace_back(name);
  }
}

ZipArchive::~ZipArchive() { zip_discard(archive_); }

bool ZipArchive::contains(const std::string& name) const { return index_of(name) >= 0; }

int64_t ZipArchive::index_of(const std::string& name) const {
  for (size_t i = 0; i < names_.size(); ++i)
    if (names_[i] == name) return static_cast<int64_t>(i);
  return -1;
}

uint64_t ZipArchive::declared_size(const std::string& name) const {
  const int64_t index = index_of(name);
  if (index < 0) throw Error(cat(what_, ": the archive has no entry ", name));
  zip_stat_t stat;
  zip_stat_init(&stat);
  if (zip_stat_index(archive_, static_cast<zip_uint64_t>(index), 0, &stat) != 0 || !(stat.valid & ZIP_STAT_SIZE))
    throw Error(cat(what_, ": cannot read the size of zip entry ", name, "; the file is damaged"));
  return stat.size;
}

std::vector<std::byte> ZipArchive::read(const std::string& name, uint64_t max_bytes) const {
  const int64_t index = index_of(name);
  if (index < 0) throw Error(cat(what_, ": the archive has no entry ", name));
  std::unique_ptr<zip_file_t, ZipFileCloser> file(zip_fopen_index(archive_, static_cast<zip_uint64_t>(index), 0));
  if (!file)
    throw Error(cat(what_, ": cannot open zip entry ", name, " (", zip_strerror(archive_),
                    "); the file is damaged, save it again with torch.save"));
  // The sizes the archive declares are checked before anything is inflated, so that a small file claiming
  // gigabytes is refused at once: over max_bytes, or more than deflate can give from the compressed bytes
  // (at most 1032 to 1, RFC 1951's longest match for each 2-bit code; torch.save stores entries uncompressed).
  zip_stat_t stat;
  zip_stat_init(&stat);
  if (zip_stat_index(archive_, static_cast<zip_uint64_t>(index), 0, &stat) != 0 || !(stat.valid & ZIP_STAT_SIZE))
    throw Error(cat(what_, ": cannot read the size of zip entry ", name, "; the file is damaged"));
  const uint64_t declared = stat.size;
  if (declared > max_bytes)
    throw Error(cat(what_, ": zip entry ", name, " claims ", declared, " bytes, more than the ", max_bytes,
                    " it may hold; the file is damaged or not a PyTorch checkpoint"));
  constexpr uint64_t max_deflate_ratio = 1032;
  if ((stat.valid & ZIP_STAT_COMP_SIZE) && (stat.valid & ZIP_STAT_COMP_METHOD) && stat.comp_method != ZIP_CM_STORE &&
      declared > stat.comp_size * max_deflate_ratio + 1024)
    throw Error(cat(what_, ": zip entry ", name, " claims ", declared, " bytes from ", stat.comp_size,
                    " compressed, more than deflate can give; the file is damaged"));
  // Read in chunks rather than trusting the declared size for one big allocation; start near the
  // declared size so that small entries cost one small read.
  std::vector<std::byte> out;
  constexpr uint64_t max_chunk = uint64_t{1} << 20;
  size_t chunk = static_cast<size_t>(std::min(max_chunk, std::min(declared, max_bytes) + 1));
  while (true) {
    const size_t old = out.size();
    out.resize(old + chunk);
    const zip_int64_t got = zip_fread(file.get(), out.data() + old, chunk);
    if (got < 0)
      throw Error(cat(what_, ": cannot read zip entry ", name, " (", zip_error_strerror(zip_file_get_error(file.get())),
                      "); the file is damaged, save it again with torch.save"));
    out.resize(old + static_cast<size_t>(got));
    if (got == 0) break;
    chunk = static_cast<size_t>(std::min<uint64_t>(max_chunk, uint64_t{chunk} * 2));
    if (out.size() > max_bytes)
      throw Error(cat(what_, ": zip entry ", name, " holds more than the ", max_bytes, " bytes expected"));
  }
  return out;
}

}  // namespace crowdrt::checkpoint
