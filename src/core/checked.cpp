#include "core/checked.h"

#include "core/tensor.h"

namespace crowdrt {

int64_t checked_mul(int64_t a, int64_t b, const std::string& what) {
  int64_t out;
  if (__builtin_mul_overflow(a, b, &out))
    throw Error(cat(what, ": ", a, " x ", b, " overflows 64 bits"));
  return out;
}

int64_t checked_add(int64_t a, int64_t b, const std::string& what) {
  int64_t out;
  if (__builtin_add_overflow(a, b, &out))
    throw Error(cat(what, ": ", a, " + ", b, " overflows 64 bits"));
  return out;
}

int64_t checked_numel(const std::vector<int64_t>& shape, const std::string& what) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) throw Error(cat(what, ": shape ", shape_str(shape), " has a negative dimension"));
    int64_t next;
    if (__builtin_mul_overflow(n, d, &next))
      throw Error(cat(what, ": shape ", shape_str(shape), " has more elements than 64 bits count"));
    n = next;
  }
  return n;
}

std::string tensor_limit_text() {
  return kMaxTensorBytes >= (int64_t{1} << 30) ? cat(kMaxTensorBytes >> 30, " GiB")
                                               : cat(kMaxTensorBytes >> 20, " MiB");
}

int64_t checked_tensor_bytes(int64_t numel, int64_t element_size, const std::string& what) {
  int64_t bytes;
  if (numel < 0 || __builtin_mul_overflow(numel, element_size, &bytes) || bytes > kMaxTensorBytes)
    throw Error(cat(what, ": ", numel, " elements of ", element_size, " bytes is more than the ", tensor_limit_text(),
                    " crowdrt allows for one tensor (its largest model needs under 1 GiB per tensor); give smaller "
                    "input shapes"));
  return bytes;
}

}  // namespace crowdrt
