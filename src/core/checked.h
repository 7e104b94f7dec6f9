// Checked 64-bit arithmetic for sizes that come from files (shapes, attributes, offsets), and the largest
// tensor crowdrt allocates. A size from an untrusted model or plan is computed with these before anything is
// allocated, so that an overflow or an absurd size is an Error naming the tensor instead of a crash.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"

namespace crowdrt {

// The most one tensor may hold: 16 GiB. The largest model crowdrt serves (UNet++ at 4K input) needs under
// 1 GiB per activation, and no device it targets has more memory than an 80 GB GPU or a host of that order,
// so a bigger tensor is a broken or hostile model; refusing it before allocating keeps the process alive.
// Fuzz builds lower it (fuzz/CMakeLists.txt) so that each execution stays small and fast.
#ifdef CROWDRT_MAX_TENSOR_BYTES
constexpr int64_t kMaxTensorBytes = CROWDRT_MAX_TENSOR_BYTES;
#else
constexpr int64_t kMaxTensorBytes = int64_t{16} << 30;
#endif

// "16 GiB": the limit as messages give it.
std::string tensor_limit_text();

// a * b, a + b; Error "<what>: ... overflows 64 bits" when the result does not fit.
int64_t checked_mul(int64_t a, int64_t b, const std::string& what);
int64_t checked_add(int64_t a, int64_t b, const std::string& what);

// Element count of a shape with checked products; Error naming `what` on a negative dimension or overflow.
int64_t checked_numel(const std::vector<int64_t>& shape, const std::string& what);
// Bytes of `numel` elements of `element_size` bytes each, checked and at most kMaxTensorBytes; Error naming
// `what`, its size and the limit otherwise.
int64_t checked_tensor_bytes(int64_t numel, int64_t element_size, const std::string& what);

}  // namespace crowdrt
