#include "eval/metrics.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace crowdrt::eval {

double count_of_density(std::span<const float> density) {
  double sum = 0;
  for (float v : density) sum += v;
  return sum / kDensityScale;
}

CountErrors count_errors(std::span<const double> truth, std::span<const double> predicted) {
  if (truth.size() != predicted.size())
    throw Error(cat("count_errors: ", truth.size(), " true counts but ", predicted.size(), " predictions"));
  if (truth.empty()) throw Error("count_errors: no frames to measure");
  double abs_sum = 0, sq_sum = 0;
  for (size_t i = 0; i < truth.size(); ++i) {
    const double e = truth[i] - predicted[i];
    abs_sum += std::abs(e);
    sq_sum += e * e;
  }
  const double n = static_cast<double>(truth.size());
  return {abs_sum / n, std::sqrt(sq_sum / n)};
}

namespace {
// The cell (0..n-1) of pixel p on an axis of `size` pixels cut into n cells of [c*size/n, (c+1)*size/n).
int cell_of(int p, int size, int n) {
  int c = static_cast<int>(static_cast<int64_t>(p) * n / size);
  while (c > 0 && p < static_cast<int64_t>(c) * size / n) --c;
  while (c + 1 < n && p >= static_cast<int64_t>(c + 1) * size / n) ++c;
  return c;
}
}  // namespace

GameErrors game_errors(std::span<const float> density, int height, int width, const std::vector<data::Head>& heads,
                       int source_width, int source_height) {
  if (height <= 0 || width <= 0 || density.size() != static_cast<size_t>(height) * width)
    throw Error(cat("game_errors: a density map of ", density.size(), " values is not ", height, "x", width));
  if (source_width <= 0 || source_height <= 0)
    throw Error(cat("game_errors: source frame size ", source_width, "x", source_height, " must be positive"));
  const int finest = 1 << (kGameLevels - 1);
  // Per-cell sums at the finest grid; a coarser cell is exactly a block of finer ones since the boundaries nest
  // (c*size/n with n a power of two: floor(2c*size/2n) = floor(c*size/n)).
  std::vector<double> predicted(finest * finest, 0.0), truth(finest * finest, 0.0);
  std::vector<int> column_cell(width);
  for (int x = 0; x < width; ++x) column_cell[x] = cell_of(x, width, finest);
  for (int y = 0; y < height; ++y) {
    const int row = cell_of(y, height, finest);
    const float* line = density.data() + static_cast<size_t>(y) * width;
    for (int x = 0; x < width; ++x) predicted[row * finest + column_cell[x]] += line[x];
  }
  for (const data::Head& h : heads) {
    const int px = std::clamp(static_cast<int>(std::floor(h.x * width / source_width)), 0, width - 1);
    const int py = std::clamp(static_cast<int>(std::floor(h.y * height / source_height)), 0, height - 1);
    truth[cell_of(py, height, finest) * finest + column_cell[px]] += 1.0;
  }
  GameErrors errors{};
  for (int level = 0; level < kGameLevels; ++level) {
    const int n = 1 << level, block = finest / n;
    double total = 0;
    for (int cy = 0; cy < n; ++cy)
      for (int cx = 0; cx < n; ++cx) {
        double p = 0, t = 0;
        for (int by = 0; by < block; ++by)
          for (int bx = 0; bx < block; ++bx) {
            const int i = (cy * block + by) * finest + cx * block + bx;
            p += predicted[i];
            t += truth[i];
          }
        total += std::abs(p / kDensityScale - t);
      }
    errors[level] = total;
  }
  return errors;
}

}  // namespace crowdrt::eval
