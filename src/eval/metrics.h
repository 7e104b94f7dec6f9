// Counting metrics of the seed (MAE, RMSE over frames; SEED.md "Output and count") and GAME, the grid average
// mean absolute error of Guerrero-Gómez-Olmedo et al. (ECCV 2016): the density map and the annotated points are
// cut into 4^L equal cells and the per-cell count errors are added up; GAME(0) is the absolute count error.
#pragma once
#include <array>
#include <span>
#include <vector>

#include "data/annotations.h"

namespace crowdrt::eval {

// count = sum(density) / 100 (the seed's ground truth put 100 at each head before a Gaussian filter).
inline constexpr double kDensityScale = 100.0;
double count_of_density(std::span<const float> density);

struct CountErrors {
  double mae = 0, rmse = 0;
};
// Error when the spans differ in length or are empty.
CountErrors count_errors(std::span<const double> truth, std::span<const double> predicted);

inline constexpr int kGameLevels = 4;  // GAME(0) .. GAME(3)
using GameErrors = std::array<double, kGameLevels>;

// Heads given in source-frame pixels, scaled to the density map's grid (x * width / source_width, ...).
// A head belongs to the pixel that holds it; heads outside the frame go to the nearest border pixel.
// Cell c of n = 2^L along an axis of length s holds pixels [c*s/n, (c+1)*s/n) (integer division).
GameErrors game_errors(std::span<const float> density, int height, int width, const std::vector<data::Head>& heads,
                       int source_width, int source_height);

}  // namespace crowdrt::eval
