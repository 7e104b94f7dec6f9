// NumPy .npy files, format 1.0/2.0, little-endian float32, C order (the interchange of `infer`).
#pragma once
#include <cstddef>
#include <span>
#include <string>

#include "core/tensor.h"

namespace crowdrt {

// Error naming the file and what is wrong (not .npy, not float32, Fortran order, truncated, ...).
Tensor read_npy(const std::string& path);
Tensor parse_npy(std::span<const std::byte> bytes, const std::string& what = "buffer");
// Writes format 1.0 through a temporary file and rename.
void write_npy(const std::string& path, const Tensor& tensor);

}  // namespace crowdrt
