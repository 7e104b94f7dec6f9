// GPU DIS optical flow beside OpenCV's DIS on the same machine, one program so that both figures come from one
// moment: per-frame time at 608x608 (or --size WxH) on a synthetic sequence, warm start included, for each preset;
// OpenCV (crowdrt's DisFlow: warm start warped on the CPU, as the CPU path runs it) at 1, 2 and all threads.
// usage: bench_cuda_flow [--frames N] [--size WxH] [--preset P]      prints a table and one JSON line per row
#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <opencv2/core.hpp>
#include <string>
#include <thread>
#include <vector>

#include "data/synth.h"
#include "vision/cuda/cuda_dis_flow.h"
#include "vision/dis_flow.h"
#include "vision/frame.h"

using namespace crowdrt;
using namespace crowdrt::vision;

namespace {
double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}
void check(cudaError_t e) {
  if (e != cudaSuccess) {
    std::fprintf(stderr, "bench_cuda_flow: %s\n", cudaGetErrorString(e));
    std::exit(1);
  }
}
}  // namespace

int main(int argc, char** argv) {
  int frames = 60;
  cv::Size size(608, 608);
  std::string only;  // --preset NAME: that preset alone
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--frames")) frames = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--size")) std::sscanf(argv[i + 1], "%dx%d", &size.width, &size.height);
    else if (!std::strcmp(argv[i], "--preset")) only = argv[i + 1];
  }
  data::SynthSequence sequence({1920, 1080}, 11, 0);
  std::vector<cv::Mat> grays;
  for (int i = 0; i < frames; ++i)
    grays.push_back(seed_gray_from_rgb(bgr_to_rgb(resize_frame(sequence.render_next().bgr, size))));

  cudaDeviceProp prop{};
  check(cudaGetDeviceProperties(&prop, 0));
  const int all_threads = static_cast<int>(std::thread::hardware_concurrency());
  std::printf("GPU: %s; host threads: %d; %d synthetic frames (1920x1080 resized to %dx%d, seed gray)\n", prop.name,
              all_threads, frames, size.width, size.height);
  std::printf("| preset | GPU DIS ms (median, warm start) | OpenCV DIS ms 1 thread | 2 threads | %d threads |\n",
              all_threads);
  std::printf("|---|---|---|---|---|\n");

  uint8_t* device_frames = nullptr;
  const size_t frame_bytes = static_cast<size_t>(size.area());
  check(cudaMalloc(&device_frames, frame_bytes * frames));
  for (int i = 0; i < frames; ++i)
    check(cudaMemcpy(device_frames + i * frame_bytes, grays[i].data, frame_bytes, cudaMemcpyHostToDevice));

  for (FlowPreset preset : {FlowPreset::ultrafast, FlowPreset::fast, FlowPreset::medium}) {
    if (!only.empty() && only != flow_preset_name(preset)) continue;
    CudaDisFlow gpu(preset, size.width, size.height);
    cudaEvent_t start, stop;
    check(cudaEventCreate(&start));
    check(cudaEventCreate(&stop));
    std::vector<double> gpu_ms;
    for (int round = 0; round < 3; ++round) {  // round 0 warms up (graph capture, caches)
      gpu.start_sequence();
      for (int i = 0; i < frames; ++i) {
        check(cudaEventRecord(start, gpu.stream()));
        gpu.next(device_frames + i * frame_bytes, size.width);
        check(cudaEventRecord(stop, gpu.stream()));
        check(cudaEventSynchronize(stop));
        float ms = 0;
        check(cudaEventElapsedTime(&ms, start, stop));
        if (round > 0 && i > 0) gpu_ms.push_back(ms);
      }
    }
    double cpu_ms[3];
    const int threads[3] = {1, 2, all_threads};
    for (int t = 0; t < 3; ++t) {
      cv::setNumThreads(threads[t]);
      DisFlow cpu(preset);
      std::vector<double> ms;
      for (int i = 0; i < frames; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        cpu.next(grays[i]);
        const auto t1 = std::chrono::steady_clock::now();
        if (i > 0) ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
      }
      cpu_ms[t] = median(ms);
    }
    const double g = median(gpu_ms);
    std::printf("| %s | %.3f | %.2f | %.2f | %.2f |\n", flow_preset_name(preset), g, cpu_ms[0], cpu_ms[1], cpu_ms[2]);
    std::printf(
        "{\"preset\": \"%s\", \"size\": \"%dx%d\", \"gpu_ms\": %.4f, \"opencv_ms_1\": %.3f, \"opencv_ms_2\": %.3f, "
        "\"opencv_ms_all\": %.3f, \"threads_all\": %d, \"gpu\": \"%s\"}\n",
        flow_preset_name(preset), size.width, size.height, g, cpu_ms[0], cpu_ms[1], cpu_ms[2], all_threads, prop.name);
    cudaEventDestroy(start);
    cudaEventDestroy(stop);
  }
  cudaFree(device_frames);
  return 0;
}
