// VisDrone-CC head annotations: one head a line, "frame,x,y", frame 1-based (SEED.md "VisDrone-CC layout").
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace crowdrt::data {

struct Head {
  double x = 0, y = 0;
};
// Heads by 1-based frame number; frames without heads have no entry.
using HeadsByFrame = std::map<int64_t, std::vector<Head>>;

// Copes with what real downloads hold: a UTF-8 byte order mark, CRLF line ends, blank lines, spaces
// around fields, extra columns after x,y (ignored). Error "path:line: ..." on anything else.
HeadsByFrame parse_annotations(std::string_view text, const std::string& path);
HeadsByFrame read_annotations(const std::string& path);

}  // namespace crowdrt::data
