// Reading whole files; writing them whole is core/atomic_file.h (write_file_atomic).
#pragma once
#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "core/atomic_file.h"

namespace crowdrt {

// Throws Error naming the path and the reason when the file cannot be read.
std::vector<std::byte> read_file(const std::string& path);
bool file_exists(const std::string& path);

}  // namespace crowdrt
