// Frames are checked before OpenCV decodes them: libjpeg accepts a JPEG cut in half with only a warning on
// stderr (grey lower half), libpng prints its own lines before failing, and a header may claim a size whose
// allocation alone exhausts memory. The checks below read the container (PNG chunks with their CRCs, JPEG
// markers up to the end-of-image marker) and the claimed size, so that each of these is one error naming the file.
#include <array>
#include <cstdint>
#include <opencv2/imgcodecs.hpp>
#include <span>

#include "core/error.h"
#include "core/file.h"
#include "vision/frame.h"

namespace crowdrt::vision {
namespace {

using Bytes = std::span<const std::byte>;

uint32_t big_endian(Bytes b, size_t at, int n) {
  uint32_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | static_cast<uint8_t>(b[at + i]);
  return v;
}

bool starts_with(Bytes b, std::initializer_list<uint8_t> prefix) {
  if (b.size() < prefix.size()) return false;
  size_t i = 0;
  for (uint8_t p : prefix)
    if (static_cast<uint8_t>(b[i++]) != p) return false;
  return true;
}

// CRC-32 as PNG defines it (ISO 3309, polynomial 0xEDB88320; PNG specification section 5.5).
uint32_t png_crc(Bytes b) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t n = 0; n < 256; ++n) {
      uint32_t c = n;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[n] = c;
    }
    return t;
  }();
  uint32_t c = 0xFFFFFFFFu;
  for (std::byte x : b) c = table[(c ^ static_cast<uint8_t>(x)) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

// A chunk type as the message shows it: its four letters, or '?' for a byte that is not one.
std::string printable_chunk_type(const std::string& type) {
  std::string out;
  for (char c : type) out += (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ? c : '?';
  return out;
}

struct ClaimedSize {
  uint32_t width = 0, height = 0;
};

// Walks the chunks (length, type, data, CRC) from the signature to IEND.
ClaimedSize check_png(Bytes b, const std::string& path) {
  ClaimedSize size;
  size_t at = 8;
  bool first = true;
  while (true) {
    if (at + 8 > b.size())
      throw Error(cat(path, ": PNG is truncated (", b.size(), " bytes, no IEND chunk); the file is incomplete"));
    const uint32_t length = big_endian(b, at, 4);
    const std::string type(reinterpret_cast<const char*>(b.data() + at + 4), 4);
    if (length > b.size() || at + 12 + length > b.size())
      throw Error(cat(path, ": PNG is truncated (", b.size(), " bytes, inside a chunk); the file is incomplete"));
    if (png_crc(b.subspan(at + 4, 4 + length)) != big_endian(b, at + 8 + length, 4))
      throw Error(cat(path, ": PNG chunk ", printable_chunk_type(type), " at byte ", at,
                      " has a wrong CRC; the file is damaged"));
    if (first) {
      if (type != "IHDR" || length != 13)
        throw Error(cat(path, ": PNG does not start with its IHDR header; the file is damaged"));
      size = {big_endian(b, at + 8, 4), big_endian(b, at + 12, 4)};
      first = false;
    }
    at += 12 + length;
    if (type == "IEND") return size;
  }
}

// Walks the markers to the first start of scan (reading the frame header's size on the way), then looks for
// the end-of-image marker: inside entropy-coded data 0xFF is always followed by 0x00 or a restart marker, so
// FF D9 after the scan exists exactly when the file was not cut.
ClaimedSize check_jpeg(Bytes b, const std::string& path) {
  ClaimedSize size;
  size_t at = 2;
  while (true) {
    while (at < b.size() && static_cast<uint8_t>(b[at]) == 0xFF && at + 1 < b.size() &&
           static_cast<uint8_t>(b[at + 1]) == 0xFF)
      ++at;  // fill bytes
    if (at + 4 > b.size())
      throw Error(
          cat(path, ": JPEG is truncated (", b.size(), " bytes, before its image data); the file is incomplete"));
    if (static_cast<uint8_t>(b[at]) != 0xFF)
      throw Error(cat(path, ": JPEG marker expected at byte ", at, "; the file is damaged"));
    const uint8_t marker = static_cast<uint8_t>(b[at + 1]);
    const uint32_t length = big_endian(b, at + 2, 2);
    if (length < 2 || at + 2 + length > b.size())
      throw Error(cat(path, ": JPEG is truncated (", b.size(), " bytes, inside a header); the file is incomplete"));
    const bool frame_header = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (frame_header && length >= 7) size = {big_endian(b, at + 7, 2), big_endian(b, at + 5, 2)};
    at += 2 + length;
    if (marker == 0xDA) break;  // start of scan: entropy-coded data follows
  }
  for (size_t i = b.size() - 1; i > at; --i)
    if (static_cast<uint8_t>(b[i]) == 0xD9 && static_cast<uint8_t>(b[i - 1]) == 0xFF) return size;
  throw Error(cat(path, ": JPEG is truncated (", b.size(), " bytes, no end-of-image marker); the file is incomplete"));
}

}  // namespace

cv::Mat decode_frame(const std::string& path) {
  if (!file_exists(path)) throw Error(cat(path, ": frame not found"));
  // imdecode on our own read gives a clear error for unreadable files instead of an empty Mat.
  const std::vector<std::byte> bytes = read_file(path);
  if (bytes.empty()) throw Error(cat(path, ": is empty (0 bytes); expected a .jpg or .png frame"));
  ClaimedSize claimed;
  if (starts_with(bytes, {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A}))
    claimed = check_png(bytes, path);
  else if (starts_with(bytes, {0xFF, 0xD8, 0xFF}))
    claimed = check_jpeg(bytes, path);
  if (uint64_t{claimed.width} * claimed.height > max_frame_pixels)
    throw Error(cat(path, ": claims ", claimed.width, "x", claimed.height, " pixels, more than the ", max_frame_pixels,
                    " (16384x16384) a frame may have; the file is damaged or not a video frame"));
  const cv::Mat buffer(1, static_cast<int>(bytes.size()), CV_8U, const_cast<std::byte*>(bytes.data()));
  cv::Mat image;
  try {
    image = cv::imdecode(buffer, cv::IMREAD_COLOR);
  } catch (const cv::Exception& e) {
    throw Error(cat(path, ": OpenCV cannot decode it (", e.err, "); expected a .jpg or .png frame"));
  }
  if (image.empty())
    throw Error(cat(path, ": not a readable image (", bytes.size(), " bytes); expected a .jpg or .png frame"));
  return image;
}

}  // namespace crowdrt::vision
