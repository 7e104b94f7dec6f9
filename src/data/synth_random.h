// The synthetic generator's randomness: std::mt19937_64 (its output is fixed by the C++ standard) with
// distributions written here, because std's distributions differ between library versions.
#pragma once
#include <cmath>
#include <cstdint>
#include <numbers>
#include <random>

namespace crowdrt::data {

class SynthRandom {
 public:
  explicit SynthRandom(uint64_t seed) : engine_(seed) {}
  // Independent stream number `index` of `seed` (splitmix64 of both, so nearby seeds do not correlate).
  static SynthRandom stream(uint64_t seed, uint64_t index) {
    uint64_t z = seed * 0x9E3779B97F4A7C15ull + index + 0x632BE59BD9B4E019ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return SynthRandom(z ^ (z >> 31));
  }
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }  // [0, 1)
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  int integer(int lo, int hi) {  // [lo, hi]; the modulo bias is below 2^-50 for these small ranges
    return lo + static_cast<int>(engine_() % static_cast<uint64_t>(hi - lo + 1));
  }
  bool chance(double p) { return uniform() < p; }
  double normal(double mean = 0, double sigma = 1) {  // Box-Muller, one value per call
    const double u1 = 1.0 - uniform(), u2 = uniform();
    return mean + sigma * std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
  }
  double log_uniform(double lo, double hi) { return std::exp(uniform(std::log(lo), std::log(hi))); }

 private:
  std::mt19937_64 engine_;
};

}  // namespace crowdrt::data
