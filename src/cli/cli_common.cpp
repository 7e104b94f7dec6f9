#include "cli/cli_common.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "backends/backend.h"
#include "core/error.h"
#include "core/file.h"

namespace crowdrt::cli {

void check_writable(const std::string& path, bool overwrite, const std::string& flag_hint) {
  std::error_code ec;
  check_output_path(path);  // a folder, device, FIFO or socket: refused whatever overwrite says
  if (file_exists(path) && !overwrite)
    throw Error(cat(path, ": already exists; pass ", flag_hint, " to replace it or choose another path"));
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty() && !std::filesystem::is_directory(parent, ec))
    throw Error(cat(path, ": folder ", parent.string(), " does not exist"));
}

std::pair<std::string, Shape> parse_input_shape(const std::string& text) {
  const size_t colon = text.rfind(':');
  const auto bad = [&] {
    return CLI::ValidationError("--input-shape", cat("'", text, "': expected NAME:DIMS such as input:1x5x608x608"));
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

namespace {
std::string words_list(const std::vector<std::string>& words) {
  std::string list;
  for (size_t i = 0; i < words.size(); ++i) list += cat(i == 0 ? "" : i + 1 == words.size() ? " or " : ", ", words[i]);
  return list;
}
}  // namespace

CLI::Validator one_of(std::vector<std::string> words) {
  const std::string list = words_list(words);
  return CLI::Validator(
      [words = std::move(words), list](std::string& value) -> std::string {
        if (std::find(words.begin(), words.end(), value) != words.end()) return "";
        return cat("'", value, "' is not one of ", list);
      },
      "");
}

CLI::Validator list_of(std::vector<std::string> words) {
  const std::string list = words_list(words);
  return CLI::Validator(
      [words = std::move(words), list](std::string& value) -> std::string {
        std::string item;
        bool any = false;
        for (size_t i = 0; i <= value.size(); ++i) {
          if (i < value.size() && value[i] != ',') {
            item += value[i];
            continue;
          }
          if (item.empty()) continue;
          if (std::find(words.begin(), words.end(), item) == words.end())
            return cat("'", item, "' (in '", value, "') is not one of ", list);
          any = true;
          item.clear();
        }
        return any ? "" : cat("'", value, "': give one or more of ", list, ", comma-separated");
      },
      "");
}

CLI::Validator device_name() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        if (value == "cpu" || value == "cuda" || value == "ref") return "";
        return cat("'", value, "' is not a device; choose cpu (oneDNN), cuda (NVIDIA GPU) or ref (reference loops)");
      },
      "");
}

CLI::Validator at_least(double low) {
  return CLI::Validator(
      [low](std::string& value) -> std::string {
        char* end = nullptr;
        const double v = std::strtod(value.c_str(), &end);
        if (value.empty() || end != value.c_str() + value.size() || !std::isfinite(v))
          return cat("'", value, "' is not a number");
        if (v < low) return cat("'", value, "' is below ", low, "; give ", low, " or more");
        return "";
      },
      "");
}

CLI::Validator thread_count() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        int v = 0;
        const auto [end, err] = std::from_chars(value.data(), value.data() + value.size(), v);
        if (value.empty() || err != std::errc() || end != value.data() + value.size() || v < 0 || v > kMaxThreads)
          return cat("'", value, "' is not a thread count; give 0 (every core) or a whole number from 1 to ",
                     kMaxThreads);
        return "";
      },
      "");
}

std::pair<int, int> parse_width_height(const std::string& text, const std::string& flag, bool square_ok) {
  const auto number = [](std::string_view s, int& v) {
    const auto [end, err] = std::from_chars(s.data(), s.data() + s.size(), v);
    return !s.empty() && err == std::errc() && end == s.data() + s.size() && v > 0 && v <= 16384;
  };
  const size_t x = text.find('x');
  int w = 0, h = 0;
  const bool ok = x == std::string::npos ? square_ok && number(text, w) && (h = w) > 0
                                         : number(std::string_view(text).substr(0, x), w) &&
                                               number(std::string_view(text).substr(x + 1), h);
  if (!ok)
    throw CLI::ValidationError(flag,
                               cat("'", text, "' is not WIDTHxHEIGHT", square_ok ? " (or one number for a square)" : "",
                                   " such as 608x608 or 1088x608 (1 to 16384 each)"));
  return {w, h};
}

CLI::Validator width_by_height(bool square_ok) {
  return CLI::Validator(
      [square_ok](std::string& value) -> std::string {
        try {
          parse_width_height(value, "", square_ok);
        } catch (const CLI::ValidationError& e) {
          std::string message = e.what();
          return message.starts_with(": ") ? message.substr(2) : message;
        }
        return "";
      },
      "");
}

void check_network_size(int width, int height, const std::string& flag) {
  if (width % 32 == 0 && height % 32 == 0) return;
  const auto round_up = [](int v) { return std::min((v + 31) / 32 * 32, 16384); };
  throw CLI::ValidationError(flag, cat(width, "x", height, " (", size_words(width, height),
                                       ") must be a multiple of 32 in both dimensions: the encoder halves it five "
                                       "times and the decoder doubles it back; use e.g. ",
                                       round_up(width), "x", round_up(height)));
}

std::string size_words(int64_t width, int64_t height) { return cat(width, " wide, ", height, " high"); }

}  // namespace crowdrt::cli
