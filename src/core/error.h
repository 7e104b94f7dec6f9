// The one exception type of crowdrt: what failed, where, and what to do about it.
#pragma once
#include <stdexcept>
#include <string>

namespace crowdrt {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// Builds a message from any streamable parts: throw Error(cat("bad shape ", s, " in ", node)).
template <class... Parts>
std::string cat(const Parts&... parts);

}  // namespace crowdrt

#include <sstream>
template <class... Parts>
std::string crowdrt::cat(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}
