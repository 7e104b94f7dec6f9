#include "backends/backend.h"

#include "core/error.h"

namespace crowdrt {

const char* precision_name(Precision precision) {
  switch (precision) {
    case Precision::fp32: return "fp32";
    case Precision::fp16: return "fp16";
    case Precision::bf16: return "bf16";
    case Precision::int8: return "int8";
  }
  return "?";
}

bool precision_permits(Precision permission, Precision precision) {
  switch (precision) {
    case Precision::fp32: return true;
    case Precision::fp16: return permission != Precision::fp32;
    case Precision::bf16: return permission == Precision::bf16 || permission == Precision::int8;
    case Precision::int8: return permission == Precision::int8;
  }
  return false;
}

Precision precision_from_name(const std::string& name) {
  for (Precision p : {Precision::fp32, Precision::fp16, Precision::bf16, Precision::int8})
    if (name == precision_name(p)) return p;
  throw Error(cat("unknown precision '", name, "': use fp32, fp16, bf16 or int8"));
}

// Host backends: the defaults of CompiledGraph's device-resident entry points refuse.
void CompiledGraph::run_on_device(bool) {
  throw Error("this plan runs on the CPU: device-resident inference needs a CUDA plan (build with --device cuda)");
}
double CompiledGraph::wait_output_sum() {
  throw Error("wait_output_sum: no device-resident inference on this backend");
}
void CompiledGraph::wait_output(size_t, float*) {
  throw Error("wait_output: no device-resident inference on this backend");
}

}  // namespace crowdrt
