#include "core/log.h"

#include <atomic>
#include <cstdio>

#include "core/printable.h"

namespace crowdrt {
namespace {
// The process-wide settings: how chatty messages are (set by the program's entry point), and whether a
// progress line is drawn on stderr now.
std::atomic<LogLevel> g_level{LogLevel::info};
std::atomic<bool> g_progress_line_open{false};

void emit(LogLevel level, const char* prefix, const std::string& message) {
  if (level != LogLevel::warn && g_level.load() < level) return;
  // The progress line is redrawn at its next step; the message takes its place meanwhile.
  const char* clear = g_progress_line_open.exchange(false) ? "\r\033[K" : "";
  // Messages may quote data files; their control bytes are escaped (a table's newlines are kept).
  std::fprintf(stderr, "%s%s%s\n", clear, prefix, printable(message, /*keep_newlines=*/true).c_str());
}
}  // namespace

void set_log_level(LogLevel level) { g_level = level; }
LogLevel log_level() { return g_level.load(); }

std::optional<LogLevel> log_level_from_name(const std::string& name) {
  if (name == "warn" || name == "quiet") return LogLevel::warn;
  if (name == "info") return LogLevel::info;
  if (name == "verbose") return LogLevel::verbose;
  return std::nullopt;
}

void log_warn(const std::string& message) { emit(LogLevel::warn, "warning: ", message); }
void log_info(const std::string& message) { emit(LogLevel::info, "", message); }
void log_verbose(const std::string& message) { emit(LogLevel::verbose, "", message); }
void set_progress_line_open(bool open) { g_progress_line_open = open; }

}  // namespace crowdrt
