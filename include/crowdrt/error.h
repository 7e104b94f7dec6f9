// crowdrt::Error: the one exception type of crowdrt, in the library and in the program alike.
// Its message says what failed, on which file, tensor or layer, and what to do about it.
// Misusing the API (a wrong shape, an engine without a plan, an unknown option) throws it too;
// crowdrt never aborts the process on bad input.
#pragma once
#include <stdexcept>
#include <string>

#include "crowdrt/export.h"

namespace crowdrt {

class CROWDRT_API Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace crowdrt
