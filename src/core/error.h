// The one exception type of crowdrt: what failed, where, and what to do about it. It is the public
// crowdrt::Error (include/crowdrt/error.h), so errors thrown anywhere reach library users as that type.
#pragma once
#include <string>

#include "crowdrt/error.h"

namespace crowdrt {

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
