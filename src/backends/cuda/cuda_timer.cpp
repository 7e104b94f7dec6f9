#include "backends/cuda/cuda_timer.h"

#include <algorithm>
#include <limits>

#include "backends/cuda/cuda_resources.h"
#include "core/error.h"

namespace crowdrt::cuda {

std::vector<double> time_side_by_side(cudaStream_t stream, std::vector<std::function<void()>> forms, const char* what,
                                      bool exclude_failing) {
  const Event start = make_event(), stop = make_event();
  std::vector<double> best(forms.size(), std::numeric_limits<double>::infinity());
  constexpr int kRounds = 3, kRuns = 20;
  for (int round = 0; round < kRounds; ++round)
    for (size_t k = 0; k < forms.size(); ++k) {
      if (!forms[k]) continue;
      try {
        forms[k]();
        check(cudaEventRecord(start.get(), stream), "cudaEventRecord");
        for (int i = 0; i < kRuns; ++i) forms[k]();
        check(cudaEventRecord(stop.get(), stream), "cudaEventRecord");
        check(cudaEventSynchronize(stop.get()), what);
        float ms = 0.f;
        check(cudaEventElapsedTime(&ms, start.get(), stop.get()), "cudaEventElapsedTime");
        best[k] = std::min(best[k], double(ms) / kRuns);
      } catch (const Error&) {
        if (!exclude_failing) throw;
        cudaGetLastError();
        forms[k] = nullptr;
        best[k] = std::numeric_limits<double>::infinity();
      }
    }
  return best;
}

}  // namespace crowdrt::cuda
