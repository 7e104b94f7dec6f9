// The version of the crowdrt library in use.
#pragma once
#include "crowdrt/export.h"

namespace crowdrt {
inline namespace v0 {

// "major.minor.patch" of the loaded libcrowdrt (the SONAME carries the major).
CROWDRT_API const char* version();

}  // namespace v0
}  // namespace crowdrt
