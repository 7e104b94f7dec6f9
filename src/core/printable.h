// Bytes that came from data files (testlist lines, file names, zone names, CSV fields) are shown through
// printable() before they reach a terminal, so that a dataset cannot send escape sequences to it.
#pragma once
#include <string>
#include <string_view>

namespace crowdrt {

// The text with every control character (ESC, CR, BEL, DEL...), and every byte that is not part of valid
// UTF-8, written as \xNN; a backslash stays a backslash. Valid UTF-8 letters pass unchanged. Newlines are kept
// where keep_newlines (a multi-line log message), escaped otherwise (an error is one line).
std::string printable(std::string_view text, bool keep_newlines = false);

}  // namespace crowdrt
