#include "core/log.h"

#include <atomic>
#include <cstdio>

namespace crowdrt {
namespace {
// The only process-wide setting: how chatty messages are. Set by the program's entry point.
std::atomic<LogLevel> g_level{LogLevel::info};

void emit(LogLevel level, const char* prefix, const std::string& message) {
  if (g_level.load() < level) return;
  std::fprintf(stderr, "%s%s\n", prefix, message.c_str());
}
}  // namespace

void set_log_level(LogLevel level) { g_level = level; }
LogLevel log_level() { return g_level.load(); }
void log_warn(const std::string& message) { emit(LogLevel::warn, "warning: ", message); }
void log_info(const std::string& message) { emit(LogLevel::info, "", message); }
void log_verbose(const std::string& message) { emit(LogLevel::verbose, "", message); }

}  // namespace crowdrt
