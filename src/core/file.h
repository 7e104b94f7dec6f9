// Reading whole files and writing them so that a reader never sees half a file.
#pragma once
#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace crowdrt {

// Throws Error naming the path and the reason when the file cannot be read.
std::vector<std::byte> read_file(const std::string& path);
// Writes to "<path>.tmp-<pid>" then renames over path; nothing is left behind on failure.
void write_file_atomic(const std::string& path, std::span<const std::byte> bytes);
bool file_exists(const std::string& path);

}  // namespace crowdrt
