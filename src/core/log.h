// Messages to stderr at a level chosen once by the program (the CLI's -v / --quiet).
#pragma once
#include <string>

namespace crowdrt {

enum class LogLevel { quiet = 0, warn = 1, info = 2, verbose = 3 };

void set_log_level(LogLevel level);
LogLevel log_level();
void log_warn(const std::string& message);
void log_info(const std::string& message);
void log_verbose(const std::string& message);

}  // namespace crowdrt
