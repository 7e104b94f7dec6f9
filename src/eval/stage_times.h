// Where a frame's time goes, stage by stage, and the mean / median / p90 of each stage over a run.
#pragma once
#include <array>
#include <string>
#include <vector>

namespace crowdrt::eval {

// decode: reading and decoding the image; resize: resize to the network size and the RGB / gray conversions;
// flow: DIS optical flow; packing: the NCHW float tensor; inference: the engine; total: all of these for the frame
// (in the pipelined runner the stages of different frames overlap, so end-to-end FPS is frames / wall time).
enum class Stage { decode, resize, flow, packing, inference, total };
inline constexpr int kStages = 6;
const char* stage_name(Stage stage);

struct StageTimes {
  std::array<double, kStages> ms{};
  double& operator[](Stage s) { return ms[static_cast<int>(s)]; }
  double operator[](Stage s) const { return ms[static_cast<int>(s)]; }
};

struct Summary {
  double mean = 0, median = 0, p90 = 0;
};
// Linear interpolation between ranks (as `crowdrt perf`); all zero for no values.
Summary summarise(std::vector<double> values);
double percentile_of_sorted(const std::vector<double>& sorted, double p);

}  // namespace crowdrt::eval
