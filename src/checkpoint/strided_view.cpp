// torch.save writes a view's whole storage plus (offset, sizes, strides): transposed weights,
// channels_last tensors and slices arrive non-contiguous, and several tensors may share one storage.
#include "checkpoint/strided_view.h"

#include <cstring>

namespace crowdrt::checkpoint {

namespace {
// Stride-0 views (expand) can describe far more elements than their storage holds; cap what a
// small file may make us allocate.
constexpr int64_t max_expanded_elements = int64_t{1} << 24;
}  // namespace

Tensor copy_strided_view(std::span<const std::byte> storage, DType dtype, int64_t offset,
                         const std::vector<int64_t>& sizes, const std::vector<int64_t>& strides,
                         const std::string& where) {
  const size_t element = dtype_size(dtype);
  const int64_t storage_numel = static_cast<int64_t>(storage.size() / element);
  if (sizes.size() != strides.size())
    throw Error(cat(where, " has ", sizes.size(), " sizes but ", strides.size(), " strides; the file is damaged"));
  if (offset < 0) throw Error(cat(where, " has a negative storage offset; the file is damaged"));
  int64_t numel = 1;
  int64_t last = offset;  // index of the furthest element the view reaches
  for (size_t d = 0; d < sizes.size(); ++d) {
    if (sizes[d] < 0 || strides[d] < 0)
      throw Error(cat(where, " has a negative size or stride; the file is damaged"));
    if (__builtin_mul_overflow(numel, sizes[d], &numel))
      throw Error(cat(where, " has more elements than fit in 64 bits; the file is damaged"));
  }
  if (numel > 0) {
    for (size_t d = 0; d < sizes.size(); ++d) {
      int64_t reach = 0;
      if (__builtin_mul_overflow(sizes[d] - 1, strides[d], &reach) || __builtin_add_overflow(last, reach, &last))
        throw Error(cat(where, " reaches past any storage; the file is damaged"));
    }
    if (last >= storage_numel)
      throw Error(cat(where, " reads element ", last, " of a storage of ", storage_numel,
                      " elements; the file is damaged or truncated"));
    if (numel > storage_numel && numel > max_expanded_elements)
      throw Error(cat(where, " expands a storage of ", storage_numel, " elements to ", numel,
                      " elements; save it after .contiguous() if that is intended"));
  }

  Tensor out(dtype, Shape(sizes.begin(), sizes.end()));
  if (numel == 0) return out;
  std::byte* dst = out.raw();
  const std::byte* src = storage.data();

  bool contiguous = true;
  int64_t expected = 1;
  for (size_t d = sizes.size(); d-- > 0;) {
    if (sizes[d] != 1 && strides[d] != expected) contiguous = false;
    expected *= sizes[d];
  }
  if (contiguous) {
    std::memcpy(dst, src + offset * element, static_cast<size_t>(numel) * element);
    return out;
  }
  // Walk the view in row-major order with an odometer over the dimensions.
  std::vector<int64_t> index(sizes.size(), 0);
  int64_t source = offset;
  for (int64_t i = 0; i < numel; ++i) {
    std::memcpy(dst + i * element, src + source * element, element);
    for (size_t d = sizes.size(); d-- > 0;) {
      source += strides[d];
      if (++index[d] < sizes[d]) break;
      source -= strides[d] * sizes[d];
      index[d] = 0;
    }
  }
  return out;
}

}  // namespace crowdrt::checkpoint
