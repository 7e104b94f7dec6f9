#include "cli/cli_common.h"

#include <filesystem>

#include "core/error.h"
#include "core/file.h"

namespace crowdrt::cli {

void check_writable(const std::string& path, bool overwrite, const std::string& flag_hint) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw Error(cat(path, ": is a directory, give a file path"));
  if (file_exists(path) && !overwrite)
    throw Error(cat(path, ": already exists; pass ", flag_hint, " to replace it or choose another path"));
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty() && !std::filesystem::is_directory(parent, ec))
    throw Error(cat(path, ": folder ", parent.string(), " does not exist"));
}

std::pair<std::string, Shape> parse_input_shape(const std::string& text) {
  const size_t colon = text.rfind(':');
  const auto bad = [&] {
    return Error(cat("--input-shape '", text, "': expected NAME:DIMS such as input:1x5x608x608"));
  };
  if (colon == std::string::npos || colon == 0 || colon + 1 >= text.size()) throw bad();
  Shape shape;
  std::string number;
  for (char c : text.substr(colon + 1) + "x") {
    if (c >= '0' && c <= '9') {
      number += c;
      if (number.size() > 9) throw bad();
    } else if (c == 'x' && !number.empty()) {
      shape.push_back(std::stoll(number));
      number.clear();
    } else {
      throw bad();
    }
  }
  return {text.substr(0, colon), shape};
}

}  // namespace crowdrt::cli
