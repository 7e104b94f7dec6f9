// Helpers shared by the test programs (include as "../test_util.h").
#pragma once
#include <string>

#include "crowdrt/error.h"

namespace crowdrt::test_util {

// The message of the crowdrt::Error `call` throws, or "no error" (tests compare with it to say "it threw").
template <class Call>
std::string error_of(Call&& call) {
  try {
    call();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace crowdrt::test_util
