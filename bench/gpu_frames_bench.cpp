// The whole frame on the GPU, end to end, as `crowdrt eval --flow-device cuda` runs it (eval::run_pipeline with
// GPU lanes): synthetic 1920x1080 sequences, JPEG-encoded in memory (libturbojpeg, quality 92, as `crowdrt synth`),
// decoded by each lane on its own CPU thread (libjpeg-turbo), uploaded, resized, gray, DIS flow, packed and inferred
// on the GPU, the density copied back (evaluation reads it). Then one stream through eval::DeviceFramePath on
// frames already decoded in host memory (what Engine::count does per frame). No disk: the files' reading is left out.
// usage: bench_gpu_frames MODEL.onnx [--precision fp16] [--flow medium] [--sequences 8] [--frames 60] [--lanes 4]
#include <turbojpeg.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"
#include "data/synth.h"
#include "engine/builder.h"
#include "eval/device_frames.h"
#include "eval/pipeline.h"

using namespace crowdrt;
using Clock = std::chrono::steady_clock;

namespace {

std::vector<unsigned char> encode_jpeg(const cv::Mat& bgr) {
  tjhandle h = tjInitCompress();
  unsigned char* buf = nullptr;
  unsigned long size = 0;
  if (tjCompress2(h, bgr.data, bgr.cols, static_cast<int>(bgr.step[0]), bgr.rows, TJPF_BGR, &buf, &size, TJSAMP_420, 92,
                  TJFLAG_ACCURATEDCT) != 0)
    throw Error(cat("tjCompress2: ", tjGetErrorStr2(h)));
  std::vector<unsigned char> out(buf, buf + size);
  tjFree(buf);
  tjDestroy(h);
  return out;
}

class JpegReader final : public eval::FrameReader {
 public:
  explicit JpegReader(const std::vector<std::vector<unsigned char>>* frames)
      : frames_(frames), h_(tjInitDecompress()) {}
  ~JpegReader() override { tjDestroy(h_); }
  bool read(cv::Mat& bgr) override {
    if (next_ >= frames_->size()) return false;
    const auto& jpeg = (*frames_)[next_++];
    int w = 0, h = 0, sub = 0, colour = 0;
    if (tjDecompressHeader3(h_, jpeg.data(), jpeg.size(), &w, &h, &sub, &colour) != 0) throw Error("bad JPEG header");
    bgr.create(h, w, CV_8UC3);
    if (tjDecompress2(h_, jpeg.data(), jpeg.size(), bgr.data, w, static_cast<int>(bgr.step[0]), h, TJPF_BGR, 0) != 0)
      throw Error(cat("tjDecompress2: ", tjGetErrorStr2(h_)));
    return true;
  }

 private:
  const std::vector<std::vector<unsigned char>>* frames_;
  tjhandle h_;
  size_t next_ = 0;
};

double percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(q * (v.size() - 1) + 0.5))];
}

}  // namespace

int main(int argc, char** argv) try {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: bench_gpu_frames MODEL.onnx [--precision fp16] [--flow medium] [--sequences 8] [--frames 60] "
                 "[--lanes 4]\n");
    return 2;
  }
  std::string onnx = argv[1], precision = "fp16", flow = "medium";
  int sequences = 8, frames = 60, lanes = 4;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--precision") precision = v;
    else if (k == "--flow") flow = v;
    else if (k == "--sequences") sequences = std::atoi(v.c_str());
    else if (k == "--frames") frames = std::atoi(v.c_str());
    else if (k == "--lanes") lanes = std::atoi(v.c_str());
  }
  BuildOptions build;
  build.device = "cuda";
  build.precision = precision_from_name(precision);
  const Plan plan = build_plan(onnx, build);
  Engine engine(Plan(plan), RuntimeOptions{}, "bench plan");

  std::vector<std::vector<std::vector<unsigned char>>> jpegs(sequences);
  std::vector<cv::Mat> decoded;  // the first sequence, decoded, for the one-stream figure
  size_t jpeg_bytes = 0;
  for (int s = 0; s < sequences; ++s) {
    data::SynthSequence seq({1920, 1080}, 5, static_cast<uint64_t>(s));
    for (int f = 0; f < frames; ++f) {
      const cv::Mat bgr = seq.render_next().bgr;
      jpegs[s].push_back(encode_jpeg(bgr));
      jpeg_bytes += jpegs[s].back().size();
      if (s == 0) decoded.push_back(bgr);
    }
  }
  std::vector<eval::SequenceSource> sources;
  for (int s = 0; s < sequences; ++s) {
    eval::SequenceSource src;
    src.name = cat("synth", s);
    src.frames = frames;
    const auto* data = &jpegs[s];
    src.open = [data] { return std::unique_ptr<eval::FrameReader>(new JpegReader(data)); };
    sources.push_back(src);
  }
  const unsigned threads = std::thread::hardware_concurrency();
  std::printf("plan: %s %s, input %s; %d sequences x %d synthetic 1920x1080 JPEG frames (%.0f KB each); flow %s; "
              "host threads %u\n",
              onnx.c_str(), precision.c_str(), shape_str(engine.inputs()[0].shape).c_str(), sequences, frames,
              jpeg_bytes / 1024.0 / (sequences * frames), flow.c_str(), threads);

  for (int run_lanes : {1, lanes, 2 * lanes}) {
    eval::PipelineOptions options;
    options.flow = vision::parse_flow_preset(flow);
    options.device_frames = true;
    options.lanes = run_lanes;
    options.more_engines = [&] { return std::make_unique<Engine>(Plan(plan), RuntimeOptions{}, "bench lane"); };
    std::vector<double> decode, gpu;
    const eval::PipelineRun r = eval::run_pipeline(engine, sources, options, [&](const eval::FrameOutput& f) {
      decode.push_back(f.times.ms[static_cast<int>(eval::Stage::decode)]);
      gpu.push_back(f.times.ms[static_cast<int>(eval::Stage::inference)]);
    });
    std::printf(
        "eval pipeline, %d lane(s): %lld frames in %.3f s = %.1f FPS end to end; per frame: JPEG decode median "
        "%.2f ms (p90 %.2f), host time submitting and waiting for the GPU (upload, preprocessing, flow, inference, "
        "density back, overlapped with the next decode) median %.3f ms (p90 %.3f)\n",
        run_lanes, static_cast<long long>(r.frames), r.wall_seconds, r.frames / r.wall_seconds, percentile(decode, 0.5),
        percentile(decode, 0.9), percentile(gpu, 0.5), percentile(gpu, 0.9));
  }

  // One stream, frames already decoded: submit + wait per frame (Engine::count on a CUDA plan).
  eval::DeviceFramePath path(engine, vision::parse_flow_preset(flow));
  for (int round = 0; round < 2; ++round) {  // round 0 warms up (graph capture, pinned buffers)
    path.start_sequence();
    const auto t = Clock::now();
    double sum = 0;
    for (const cv::Mat& bgr : decoded) {
      path.submit(bgr);
      sum += path.wait_count();
    }
    const double s = std::chrono::duration<double>(Clock::now() - t).count();
    if (round == 1)
      std::printf(
          "one stream, decoded frames in host memory (Engine::count): %zu frames in %.3f s = %.1f FPS (%.3f ms per "
          "frame; counts sum %.2f)\n",
          decoded.size(), s, decoded.size() / s, 1000 * s / decoded.size(), sum);
  }
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "bench_gpu_frames: %s\n", e.what());
  return 1;
}
