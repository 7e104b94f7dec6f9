#include <charconv>
#include <cmath>

#include "core/error.h"
#include "core/file.h"
#include "data/annotations.h"

namespace crowdrt::data {
namespace {
std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::string shown(std::string_view line) {
  std::string s(line.substr(0, 80));
  for (char& c : s)
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
  return line.size() > 80 ? s + "..." : s;
}
}  // namespace

HeadsByFrame parse_annotations(std::string_view text, const std::string& path) {
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  HeadsByFrame heads;
  int64_t line_number = 0;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    const std::string_view raw = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    ++line_number;
    const std::string_view line = trim(raw);
    if (line.empty()) continue;
    const auto fail = [&](const std::string& why) {
      return Error(cat(path, ":", line_number, ": ", why, " in '", shown(line),
                       "'; expected frame,x,y (frame a whole number from 1, x and y numbers)"));
    };
    std::string_view fields[3];
    std::string_view rest = line;
    for (int i = 0; i < 3; ++i) {
      if (rest.data() == nullptr) throw fail(cat("only ", i, " field", i == 1 ? "" : "s"));
      const size_t comma = rest.find(',');
      fields[i] = trim(rest.substr(0, comma));
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
    int64_t frame = 0;
    const auto [fend, ferr] = std::from_chars(fields[0].data(), fields[0].data() + fields[0].size(), frame);
    if (fields[0].empty() || ferr != std::errc() || fend != fields[0].data() + fields[0].size())
      throw fail(cat("frame '", shown(fields[0]), "' is not a whole number"));
    if (frame < 1) throw fail(cat("frame ", frame, " (frames count from 1)"));
    double xy[2];
    for (int i = 0; i < 2; ++i) {
      const std::string_view f = fields[i + 1];
      const auto [end_ptr, err] = std::from_chars(f.data(), f.data() + f.size(), xy[i]);
      if (f.empty() || err != std::errc() || end_ptr != f.data() + f.size() || !std::isfinite(xy[i]))
        throw fail(cat(i == 0 ? "x" : "y", " '", shown(f), "' is not a finite number"));
    }
    heads[frame].push_back({xy[0], xy[1]});
  }
  return heads;
}

HeadsByFrame read_annotations(const std::string& path) {
  const std::vector<std::byte> bytes = read_file(path);
  return parse_annotations(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), path);
}

}  // namespace crowdrt::data
