// The one timer of the CUDA compile: forms of the same work (an int8 Conv against its fp16 form, a fused chain
// against its members' kernels, the stem on the staging buffer against the converted input) timed side by side.
#pragma once
#include <cuda_runtime_api.h>

#include <functional>
#include <vector>

namespace crowdrt::cuda {

// Milliseconds per run of each of `forms`, timed side by side and interleaved: per round and form one warm-up
// run, then 20 runs between two events; the best of 3 rounds (near ties would otherwise be left to noise).
// An empty form is not run (infinity). With `exclude_failing`, a form whose run throws crowdrt::Error is dropped
// from later rounds and gets infinity (a candidate that fails when it runs is no candidate); otherwise the error
// propagates. `what` names the synchronisation in CUDA error messages.
std::vector<double> time_side_by_side(cudaStream_t stream, std::vector<std::function<void()>> forms,
                                      const char* what = "side-by-side timing", bool exclude_failing = false);

}  // namespace crowdrt::cuda
