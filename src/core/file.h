// Reading whole files; writing them whole is core/atomic_file.h (write_file_atomic).
#pragma once
#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "core/atomic_file.h"

namespace crowdrt {

// Throws Error naming the path and the reason when the file cannot be read, or when it is not a regular file
// (check_regular_file).
std::vector<std::byte> read_file(const std::string& path);
// Error naming the path unless it is a regular file or a link to one: a folder, a FIFO, a character or block
// device or a socket where a file is expected is refused without being opened (opening a FIFO that has no
// writer would wait for ever). `what` names the role in the message ("model", "image"); empty for "file".
void check_regular_file(const std::string& path, const std::string& what = "");
// Error when an output path exists and is not a regular file: a device node, FIFO, socket or folder is never
// replaced, whatever --overwrite says (as root, replacing /dev/full would break the system).
void check_output_path(const std::string& path);
bool file_exists(const std::string& path);

}  // namespace crowdrt
