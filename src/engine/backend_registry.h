// The backends this build has, by device name.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "backends/backend.h"

namespace crowdrt {

std::vector<std::string> available_devices();  // "cpu" (oneDNN builds), "ref"
// Error listing the available devices for an unknown or absent one.
std::unique_ptr<Backend> make_backend(const std::string& device);

}  // namespace crowdrt
