// A human description of the machine a plan was built on (CPU model, cores), for plans and reports.
#pragma once
#include <string>

namespace crowdrt {

std::string describe_host_device();

}  // namespace crowdrt
