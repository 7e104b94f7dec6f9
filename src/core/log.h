// Messages to stderr at a level chosen once by the program (the CLI's -v / -q / --log-level). Warnings are
// written at every level: -q hides information and progress, never a warning.
#pragma once
#include <optional>
#include <string>

namespace crowdrt {

enum class LogLevel { warn = 1, info = 2, verbose = 3 };

void set_log_level(LogLevel level);
LogLevel log_level();
// "warn", "info", "verbose" (and "quiet" for warn); nullopt for any other word.
std::optional<LogLevel> log_level_from_name(const std::string& name);
void log_warn(const std::string& message);
void log_info(const std::string& message);
void log_verbose(const std::string& message);

// Progress (core/progress.h) tells the log when its line is on the terminal, so that a message first clears
// that line instead of being appended to it.
void set_progress_line_open(bool open);

}  // namespace crowdrt
