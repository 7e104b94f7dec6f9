// The GPU DIS flow against OpenCV's DIS with the same preset, settings (spatial propagation off) and warm start,
// on synthetic sequences: the endpoint-error distribution per preset. Skips, saying so, where no GPU is present.
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "core/error.h"
#include "data/synth.h"
#include "vision/cuda/cuda_dis_flow.h"
#include "vision/dis_flow.h"
#include "vision/frame.h"

using namespace crowdrt;
using namespace crowdrt::vision;

namespace {

#define SKIP_WITHOUT_GPU()                                                             \
  do {                                                                                 \
    int devices = 0;                                                                   \
    if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {                 \
      cudaGetLastError();                                                              \
      GTEST_SKIP() << "no CUDA device here: the GPU flow tests run on the lent GPU"; \
    }                                                                                  \
  } while (0)

const FlowPreset kPresets[] = {FlowPreset::ultrafast, FlowPreset::fast, FlowPreset::medium};

// The seed's eval gray of each frame: resized to the network size, BGR -> RGB, then COLOR_BGR2GRAY on the RGB image.
std::vector<cv::Mat> synth_grays(cv::Size render, cv::Size network, int frames, uint64_t seed) {
  data::SynthSequence sequence(render, seed, 0);
  std::vector<cv::Mat> grays;
  for (int i = 0; i < frames; ++i)
    grays.push_back(seed_gray_from_rgb(bgr_to_rgb(resize_frame(sequence.render_next().bgr, network))));
  return grays;
}

class DeviceFrame {
 public:
  explicit DeviceFrame(cv::Size size) : size_(size) {
    if (cudaMalloc(&data_, static_cast<size_t>(size.area())) != cudaSuccess) throw Error("test: cudaMalloc failed");
  }
  ~DeviceFrame() { cudaFree(data_); }
  const uint8_t* upload(const cv::Mat& gray) {
    EXPECT_TRUE(gray.isContinuous() && gray.size() == size_);
    EXPECT_EQ(cudaMemcpy(data_, gray.data, gray.total(), cudaMemcpyHostToDevice), cudaSuccess);
    return static_cast<const uint8_t*>(data_);
  }

 private:
  cv::Size size_;
  void* data_ = nullptr;
};

struct EndpointErrors {
  std::vector<float> all;
  double reference_magnitude = 0;  // mean |flow| of OpenCV's flow over the frames after the first
  int worst_frame = 0;
  double worst_frame_mean = 0;
  double quantile(double q) const {
    std::vector<float> v = all;
    const size_t k = std::min(v.size() - 1, static_cast<size_t>(q * (v.size() - 1) + 0.5));
    std::nth_element(v.begin(), v.begin() + k, v.end());
    return v[k];
  }
  double max() const { return *std::max_element(all.begin(), all.end()); }
};

// Runs OpenCV's DIS (crowdrt's DisFlow: warm start from the previous flow warped by itself) and the GPU DIS over the
// same frames and collects |flow_gpu - flow_cpu| at every pixel of every frame.
EndpointErrors compare_with_opencv(FlowPreset preset, const std::vector<cv::Mat>& grays,
                                   std::vector<cv::Mat>* gpu_flows = nullptr) {
  const cv::Size size = grays[0].size();
  DisFlow cpu(preset);
  CudaDisFlow gpu(preset, size.width, size.height);
  DeviceFrame frame(size);
  std::vector<float> host(2 * static_cast<size_t>(size.area()));
  EndpointErrors errors;
  for (size_t f = 0; f < grays.size(); ++f) {
    const cv::Mat& reference = cpu.next(grays[f]);
    gpu.next(frame.upload(grays[f]), size.width);
    gpu.download(host.data());
    if (gpu_flows) gpu_flows->push_back(cv::Mat(size, CV_32FC2, host.data()).clone());
    double sum = 0, magnitude = 0;
    for (int y = 0; y < size.height; ++y) {
      const cv::Vec2f* r = reference.ptr<cv::Vec2f>(y);
      const float* g = host.data() + 2 * static_cast<size_t>(y) * size.width;
      for (int x = 0; x < size.width; ++x) {
        const float e = std::hypot(g[2 * x] - r[x][0], g[2 * x + 1] - r[x][1]);
        errors.all.push_back(std::isfinite(e) ? e : 1e9f);
        sum += e;
        magnitude += std::hypot(r[x][0], r[x][1]);
      }
    }
    if (f > 0) errors.reference_magnitude += magnitude / size.area() / (grays.size() - 1);
    const double mean = sum / size.area();
    if (mean > errors.worst_frame_mean) errors.worst_frame_mean = mean, errors.worst_frame = static_cast<int>(f) + 1;
  }
  return errors;
}

void report(const char* what, FlowPreset preset, const EndpointErrors& e) {
  std::printf(
      "[ flow    ] %-34s %-9s EPE median %.3g  p99 %.3g  max %.3g  worst frame %d (mean %.3g); OpenCV's mean |flow| "
      "%.3f px\n",
      what, flow_preset_name(preset), e.quantile(0.5), e.quantile(0.99), e.max(), e.worst_frame, e.worst_frame_mean,
      e.reference_magnitude);
}

// The comparison means something only if the sequence moves: the synthetic camera drifts and people walk.
void expect_motion(const EndpointErrors& e) {
  EXPECT_GT(e.reference_magnitude, 0.2) << "the test sequence barely moves";
}

}  // namespace

TEST(CudaDisFlow, AgreesWithOpenCVOnSyntheticSequencesAtEveryPreset) {
  SKIP_WITHOUT_GPU();
  struct Case {
    const char* name;
    cv::Size render;
  };
  const Case cases[] = {{"synth 608x608", {608, 608}}, {"synth 1920x1080 resized to 608x608", {1920, 1080}}};
  for (const Case& c : cases) {
    const std::vector<cv::Mat> grays = synth_grays(c.render, {608, 608}, 12, 7);
    for (FlowPreset preset : kPresets) {
      const EndpointErrors e = compare_with_opencv(preset, grays);
      report(c.name, preset, e);
      expect_motion(e);
      EXPECT_LE(e.quantile(0.5), 0.05) << c.name << " " << flow_preset_name(preset);
      EXPECT_LE(e.quantile(0.99), 0.5) << c.name << " " << flow_preset_name(preset);
    }
  }
}

TEST(CudaDisFlow, FrameSizesWithoutPowerOfTwoFactorsUseOpenCVsGeneralAreaResize) {
  SKIP_WITHOUT_GPU();
  // 250x190 at medium: levels 125x95, 62x47, 31x23 (odd sizes: non-integer area factors).
  const std::vector<cv::Mat> grays = synth_grays({500, 380}, {250, 190}, 6, 3);
  for (FlowPreset preset : kPresets) {
    const EndpointErrors e = compare_with_opencv(preset, grays);
    report("synth 500x380 resized to 250x190", preset, e);
    expect_motion(e);
    EXPECT_LE(e.quantile(0.5), 0.05) << flow_preset_name(preset);
    EXPECT_LE(e.quantile(0.99), 0.5) << flow_preset_name(preset);
  }
}

TEST(CudaDisFlow, StartSequenceForgetsThePreviousFrameAndFlow) {
  SKIP_WITHOUT_GPU();
  const std::vector<cv::Mat> grays = synth_grays({320, 240}, {320, 240}, 4, 5);
  CudaDisFlow reused(FlowPreset::fast, 320, 240), fresh(FlowPreset::fast, 320, 240);
  DeviceFrame frame({320, 240});
  std::vector<float> a(2 * 320 * 240), b(a.size());
  for (int f = 0; f < 3; ++f) reused.next(frame.upload(grays[f]), 320);
  reused.start_sequence();
  for (int f = 2; f < 4; ++f) {
    reused.next(frame.upload(grays[f]), 320);
    fresh.next(frame.upload(grays[f]), 320);
    reused.download(a.data());
    fresh.download(b.data());
    EXPECT_EQ(a, b) << "frame " << f;
  }
}

TEST(CudaDisFlow, GraphReplayComputesWhatDirectLaunchesCompute) {
  SKIP_WITHOUT_GPU();
  const std::vector<cv::Mat> grays = synth_grays({320, 240}, {320, 240}, 5, 9);
  setenv("CROWDRT_DIS_GRAPHS", "0", 1);
  CudaDisFlow direct(FlowPreset::medium, 320, 240);
  unsetenv("CROWDRT_DIS_GRAPHS");
  CudaDisFlow graphed(FlowPreset::medium, 320, 240);
  ASSERT_FALSE(direct.uses_graphs());
  ASSERT_TRUE(graphed.uses_graphs());
  DeviceFrame frame({320, 240});
  std::vector<float> a(2 * 320 * 240), b(a.size());
  for (int f = 0; f < 5; ++f) {
    direct.next(frame.upload(grays[f]), 320);
    graphed.next(frame.upload(grays[f]), 320);
    direct.download(a.data());
    graphed.download(b.data());
    EXPECT_EQ(a, b) << "frame " << f + 1;
  }
}

TEST(CudaDisFlow, RefusesFramesTooSmallForThePresetAndThePresetNone) {
  SKIP_WITHOUT_GPU();
  const int smallest = dis_minimum_size(FlowPreset::medium);
  EXPECT_NO_THROW(CudaDisFlow(FlowPreset::medium, smallest, smallest));
  try {
    CudaDisFlow(FlowPreset::medium, smallest - 1, smallest - 1);
    FAIL() << "a frame below the pyramid's minimum was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("too small"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(std::to_string(smallest)), std::string::npos) << e.what();
  }
  EXPECT_THROW(CudaDisFlow(FlowPreset::none, 608, 608), Error);
}
