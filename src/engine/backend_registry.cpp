#include "engine/backend_registry.h"

#include "backends/cpu/reference/reference_backend.h"
#if CROWDRT_WITH_ONEDNN
#include "backends/cpu/cpu_backend.h"
#endif
#if CROWDRT_WITH_CUDA
#include "backends/cuda/cuda_backend.h"
#endif

namespace crowdrt {

std::vector<std::string> available_devices() {
  std::vector<std::string> devices;
#if CROWDRT_WITH_ONEDNN
  devices.push_back("cpu");
#endif
  devices.push_back("ref");
#if CROWDRT_WITH_CUDA
  devices.push_back("cuda");
#endif
  return devices;
}

std::unique_ptr<Backend> make_backend(const std::string& device) {
#if CROWDRT_WITH_ONEDNN
  if (device == "cpu") return std::make_unique<CpuBackend>();
#endif
  if (device == "ref") return std::make_unique<ReferenceBackend>();
#if CROWDRT_WITH_CUDA
  if (device == "cuda") return std::make_unique<CudaBackend>();
#endif
  std::string list;
  for (const std::string& d : available_devices()) list += (list.empty() ? "" : ", ") + d;
  throw Error(cat("device '", device, "' is not available in this build; available: ", list));
}

}  // namespace crowdrt
