// Cases that fail on a backend today, each with what is wrong. Mend the backend, then delete the entry: the harness
// prints a known failure that passes, so that none outlives its bug.
#include "harness.h"

namespace crowdrt::test::ops {

const std::vector<KnownFailure>& known_failures() {
  // Seen on the lent H100: 11 int8 runs of the computed-divisor case, all with int8 inputs (between int8 convolutions,
  // or 16 and 64 channels, which the GPU stores int8), some inf where a divisor rounded to 0. The engine keeps a Div's
  // divisor int8 when convolutions around it are; a computed divisor near 0 loses its digits or becomes 0. Mend: read a
  // Div's divisor in fp16 (TensorRT keeps such layers in higher precision), then delete these entries.
  static const char* const kInt8Divisor =
      "int8 divisors near 0 round to 0 or lose their digits (the GPU keeps Div's divisor int8)";
  static const std::vector<KnownFailure> failures = {
      {"cuda", "int8", "Div", "between convs", kInt8Divisor},
      {"cuda", "int8", "Div", "on 1x64x7x9", kInt8Divisor},
      {"cuda", "int8", "Div", "on 1x16x12x10", kInt8Divisor},
  };
  return failures;
}

}  // namespace crowdrt::test::ops
