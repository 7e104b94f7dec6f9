// Materialising a torch view (storage, offset, sizes, strides) as a contiguous Tensor (private).
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace crowdrt::checkpoint {

// `storage` holds whole elements of `dtype`. Every element the view reaches must lie inside it;
// otherwise, and for negative sizes or strides, throws Error starting with `where`.
Tensor copy_strided_view(std::span<const std::byte> storage, DType dtype, int64_t offset,
                         const std::vector<int64_t>& sizes, const std::vector<int64_t>& strides,
                         const std::string& where);

}  // namespace crowdrt::checkpoint
