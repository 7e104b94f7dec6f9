// The counting metrics against values worked out by hand.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/error.h"
#include "eval/metrics.h"
#include "eval/stage_times.h"

namespace crowdrt::eval {
namespace {

TEST(CountErrors, MaeAndRmseOfThreeFrames) {
  const std::vector<double> truth{1, 2, 3}, pred{2, 2, 5};  // errors 1, 0, 2
  const CountErrors e = count_errors(truth, pred);
  EXPECT_DOUBLE_EQ(e.mae, 1.0);
  EXPECT_DOUBLE_EQ(e.rmse, std::sqrt(5.0 / 3.0));
}

TEST(CountErrors, RefusesMismatchedOrEmptyInput) {
  const std::vector<double> one{1}, two{1, 2}, none;
  EXPECT_THROW(count_errors(one, two), Error);
  EXPECT_THROW(count_errors(none, none), Error);
}

TEST(CountOfDensity, IsSumOverHundred) {
  const std::vector<float> d{25.f, 50.f, 0.f, 75.f};
  EXPECT_DOUBLE_EQ(count_of_density(d), 1.5);
}

// An 8x8 map with 100 at (row 1, col 1), 50 at (6, 2), 25 at (3, 5): 1.75 people. Heads given on a 16x16 frame
// land on pixels (x 1, y 1), (6, 1) and (7, 7): 3 people.
TEST(Game, EightByEightByHand) {
  std::vector<float> d(64, 0.f);
  d[1 * 8 + 1] = 100.f;
  d[6 * 8 + 2] = 50.f;
  d[3 * 8 + 5] = 25.f;
  const std::vector<data::Head> heads{{2.5, 2.5}, {12.0, 3.0}, {15.9, 15.9}};
  const GameErrors g = game_errors(d, 8, 8, heads, 16, 16);
  EXPECT_DOUBLE_EQ(g[0], 1.25);  // |1.75 - 3|
  EXPECT_DOUBLE_EQ(g[1], 2.25);  // quadrants: TL 0, TR |0.25-1|, BL 0.5, BR 1
  EXPECT_DOUBLE_EQ(g[2], 2.75);  // 2x2 cells: 0 + 0.5 + 0.25 + 1 + 1
  EXPECT_DOUBLE_EQ(g[3], 2.75);  // pixels: the same five cells differ
}

TEST(Game, HeadsOutsideTheFrameGoToTheBorderPixel) {
  std::vector<float> d(64, 0.f);
  d[7 * 8 + 0] = 100.f;  // bottom-left pixel
  const std::vector<data::Head> heads{{-3.0, 40.0}};
  const GameErrors g = game_errors(d, 8, 8, heads, 16, 16);
  for (double v : g) EXPECT_DOUBLE_EQ(v, 0.0);
}

TEST(Game, MapsSmallerThanTheFinestGridLeaveEmptyCells) {
  // 3x5 map, uniform 20 per pixel: 15 pixels, 3 people, heads none: each level's error is the whole count.
  std::vector<float> d(15, 20.f);
  const GameErrors g = game_errors(d, 3, 5, {}, 5, 3);
  for (double v : g) EXPECT_NEAR(v, 3.0, 1e-12);
}

TEST(Game, RefusesAMapOfTheWrongSize) {
  std::vector<float> d(10, 0.f);
  EXPECT_THROW(game_errors(d, 3, 4, {}, 4, 3), Error);
}

TEST(Summarise, MeanMedianP90) {
  const Summary s = summarise({4, 1, 3, 2});
  EXPECT_DOUBLE_EQ(s.mean, 2.5);
  EXPECT_DOUBLE_EQ(s.median, 2.5);
  EXPECT_DOUBLE_EQ(s.p90, 3.7);  // rank 0.9 * 3 = 2.7 between 3 and 4
  const Summary none = summarise({});
  EXPECT_EQ(none.mean, 0.0);
}

}  // namespace
}  // namespace crowdrt::eval
