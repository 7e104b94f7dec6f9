// The whole frame on the GPU (eval::DeviceFramePath) against the CPU recipe (vision::NetworkInput with OpenCV's DIS,
// then the same engine): the network input, and the demo model's counts at every flow preset. Label gpu; skips,
// saying so, where no GPU is present.
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "checkpoint/checkpoint.h"
#include "core/error.h"
#include "data/synth.h"
#include "engine/builder.h"
#include "eval/device_frames.h"
#include "eval/pipeline.h"
#include "models/detect_model.h"
#include "models/smp_model.h"
#include "onnx/export.h"
#include "vision/network_input.h"

using namespace crowdrt;

namespace {

bool gpu_present() {
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess) {
    cudaGetLastError();
    return false;
  }
  return devices > 0;
}
#define SKIP_WITHOUT_GPU() \
  if (!gpu_present()) GTEST_SKIP() << "no CUDA device here: the GPU frame tests run on the lent GPU"

const vision::FlowPreset kPresets[] = {vision::FlowPreset::ultrafast, vision::FlowPreset::fast,
                                       vision::FlowPreset::medium};

// The committed demo model (UNet-mobilenet_v2, 5 channels) as an fp32 CUDA plan at 608x608, built once.
Engine& demo_engine() {
  static std::unique_ptr<Engine> engine = [] {
    const char* env = std::getenv("CROWDRT_DEMO_CHECKPOINT");
    const std::string pth = env ? env : CROWDRT_SOURCE_DIR "/models/demo/demo_unet_mobilenet_v2.pth";
    const checkpoint::StateDict weights = checkpoint::read_checkpoint(pth);
    models::ModelSpec spec;
    spec.arch = *models::detect_arch(weights);
    spec.encoder = *models::detect_encoder(weights);
    spec.in_channels = *models::detect_in_channels(weights, spec.encoder);
    spec.height = spec.width = 608;
    const std::string onnx = (std::filesystem::temp_directory_path() / "crowdrt_gpu_demo_608.onnx").string();
    onnx_export::write_onnx(models::build_smp_model(spec, weights), onnx);
    BuildOptions options;
    options.device = "cuda";
    options.precision = Precision::fp32;
    return std::make_unique<Engine>(build_plan(onnx, options), RuntimeOptions{});
  }();
  return *engine;
}

struct SynthFrames {
  std::vector<cv::Mat> bgr;
  std::vector<double> truth;  // heads per frame
};
SynthFrames synth_frames(cv::Size size, int frames, uint64_t seed, uint64_t sequence) {
  data::SynthSequence s(size, seed, sequence);
  SynthFrames out;
  for (int i = 0; i < frames; ++i) {
    data::SynthFrame f = s.render_next();
    out.bgr.push_back(f.bgr);
    out.truth.push_back(static_cast<double>(f.heads.size()));
  }
  return out;
}

double sum(const Tensor& t) {
  double s = 0;
  for (int64_t i = 0; i < t.numel(); ++i) s += t.data<float>()[i];
  return s;
}

// The CPU recipe: NetworkInput (eval variant, OpenCV's DIS), then the plan.
double cpu_count(Engine& engine, vision::NetworkInput& input, const cv::Mat& bgr) {
  return sum(engine.infer(input.next(bgr))) / 100.0;
}

vision::NetworkInput cpu_input(vision::FlowPreset preset) {
  vision::NetworkInputOptions o;
  o.size = {608, 608};
  o.channels = 5;
  o.flow = preset;
  return vision::NetworkInput(o);
}

}  // namespace

TEST(DeviceFrames, NetworkInputEqualsTheCpuRecipe) {
  SKIP_WITHOUT_GPU();
  Engine& engine = demo_engine();
  const SynthFrames frames = synth_frames({1920, 1080}, 6, 21, 0);
  for (vision::FlowPreset preset : kPresets) {
    eval::DeviceFramePath gpu(engine, preset);
    vision::NetworkInput cpu = cpu_input(preset);
    int64_t rgb_differ = 0;
    double rgb_max = 0, flow_max = 0;
    for (const cv::Mat& bgr : frames.bgr) {
      const Tensor expected = cpu.next(bgr);
      gpu.submit(bgr);
      gpu.wait_count();
      const Tensor actual = gpu.network_input();
      ASSERT_EQ(actual.shape(), expected.shape());
      const float* e = expected.data<float>();
      const float* a = actual.data<float>();
      const size_t plane = 608 * 608;
      for (size_t i = 0; i < 3 * plane; ++i) {
        const double d = std::fabs(a[i] - e[i]);
        rgb_max = std::max(rgb_max, d);
        rgb_differ += d > 0;
      }
      for (size_t i = 3 * plane; i < 5 * plane; ++i)
        flow_max = std::max(flow_max, static_cast<double>(std::fabs(a[i] - e[i])));
    }
    std::printf("[ frames  ] %-9s RGB values differing: %lld (max %.3g); flow max |difference| %.3g px\n",
                vision::flow_preset_name(preset), static_cast<long long>(rgb_differ), rgb_max, flow_max);
    // cv::resize's fixed-point arithmetic is reproduced, so the planes agree; one level (1/255) at a few values
    // would be a rounding-order slip, and is the most the count criterion below tolerates silently.
    EXPECT_LE(rgb_max, 1.0 / 255 + 1e-6) << vision::flow_preset_name(preset);
    EXPECT_LE(rgb_differ, 3 * 608 * 608 / 1000) << vision::flow_preset_name(preset);
    EXPECT_LE(flow_max, 0.5) << vision::flow_preset_name(preset);
  }
}

TEST(DeviceFrames, DemoModelCountsAgreeWithTheOpenCVFlowPath) {
  SKIP_WITHOUT_GPU();
  Engine& engine = demo_engine();
  std::vector<SynthFrames> sequences = {synth_frames({1920, 1080}, 10, 31, 0), synth_frames({1920, 1080}, 10, 31, 1)};
  for (vision::FlowPreset preset : kPresets) {
    eval::DeviceFramePath gpu(engine, preset);
    double worst = 0, abs_error_gpu = 0, abs_error_cpu = 0;
    int frames = 0;
    for (const SynthFrames& seq : sequences) {
      vision::NetworkInput cpu = cpu_input(preset);
      gpu.start_sequence();
      for (size_t f = 0; f < seq.bgr.size(); ++f) {
        const double expected = cpu_count(engine, cpu, seq.bgr[f]);
        gpu.submit(seq.bgr[f]);
        const double actual = gpu.wait_count();
        const double bound = 0.005 * std::fabs(expected) + 0.05;
        EXPECT_LE(std::fabs(actual - expected), bound) << vision::flow_preset_name(preset) << " frame " << f + 1;
        worst = std::max(worst, std::fabs(actual - expected) / bound);
        abs_error_gpu += std::fabs(actual - seq.truth[f]);
        abs_error_cpu += std::fabs(expected - seq.truth[f]);
        ++frames;
      }
    }
    const double mae_gpu = abs_error_gpu / frames, mae_cpu = abs_error_cpu / frames;
    std::printf(
        "[ frames  ] %-9s %d frames: worst |count difference| %.3f of its bound; MAE GPU path %.4f, OpenCV path %.4f\n",
        vision::flow_preset_name(preset), frames, worst, mae_gpu, mae_cpu);
    EXPECT_LE(std::fabs(mae_gpu - mae_cpu), 0.01 * mae_cpu) << vision::flow_preset_name(preset);
  }
}

TEST(DeviceFrames, TheDensityMapIsTheOneTheCountSums) {
  SKIP_WITHOUT_GPU();
  Engine& engine = demo_engine();
  const SynthFrames frames = synth_frames({960, 540}, 2, 41, 0);
  eval::DeviceFramePath gpu(engine, vision::FlowPreset::fast);
  for (const cv::Mat& bgr : frames.bgr) {
    gpu.submit(bgr);
    const double count = gpu.wait_count();
    Tensor density;
    gpu.density(&density);
    EXPECT_EQ(density.shape(), engine.outputs()[0].shape);
    EXPECT_NEAR(sum(density) / 100.0, count, 1e-4 * std::max(1.0, std::fabs(count)));
  }
}

TEST(DeviceFrames, BadFramesAreRefusedAndTheNextSequenceIsUnaffected) {
  SKIP_WITHOUT_GPU();
  Engine& engine = demo_engine();
  const SynthFrames frames = synth_frames({800, 600}, 3, 51, 0);
  eval::DeviceFramePath gpu(engine, vision::FlowPreset::medium), fresh(engine, vision::FlowPreset::medium);
  const cv::Mat gray(480, 640, CV_8UC1, cv::Scalar(90)), bgra(480, 640, CV_8UC4, cv::Scalar(1, 2, 3, 4)), empty;
  for (const cv::Mat* bad : {&gray, &bgra, &empty}) {
    try {
      gpu.submit(*bad);
      FAIL() << "a bad frame was accepted";
    } catch (const Error& e) {
      std::printf("[ frames  ] refused: %s\n", e.what());
      EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
    }
  }
  gpu.start_sequence();
  for (const cv::Mat& bgr : frames.bgr) {
    gpu.submit(bgr);
    const double a = gpu.wait_count();
    fresh.submit(bgr);
    EXPECT_EQ(a, fresh.wait_count());
  }
  // Frames of different sizes within a sequence are resized to the network size first, as the seed's eval does.
  cv::Mat smaller;
  cv::resize(frames.bgr[0], smaller, {640, 360});
  EXPECT_NO_THROW(gpu.submit(smaller));
  EXPECT_NO_THROW(gpu.wait_count());
}

namespace {
// A sequence held in memory, read as a file sequence would be.
class MemoryReader final : public eval::FrameReader {
 public:
  explicit MemoryReader(const std::vector<cv::Mat>* frames) : frames_(frames) {}
  bool read(cv::Mat& bgr) override {
    if (next_ >= frames_->size()) return false;
    bgr = (*frames_)[next_++].clone();
    return true;
  }

 private:
  const std::vector<cv::Mat>* frames_;
  size_t next_ = 0;
};
}  // namespace

TEST(DeviceFrames, PipelinedLanesGiveTheSerialCountsBitForBit) {
  SKIP_WITHOUT_GPU();
  Engine& engine = demo_engine();
  std::vector<SynthFrames> frames;
  for (uint64_t s = 0; s < 5; ++s) frames.push_back(synth_frames({1280, 720}, 6, 61, s));
  std::vector<eval::SequenceSource> sources;
  for (size_t s = 0; s < frames.size(); ++s) {
    eval::SequenceSource src;
    src.name = cat("memory", s);
    const std::vector<cv::Mat>* bgr = &frames[s].bgr;
    src.open = [bgr] { return std::unique_ptr<eval::FrameReader>(new MemoryReader(bgr)); };
    sources.push_back(src);
  }
  auto counts = [&](bool serial, bool carry, int lanes) {
    eval::PipelineOptions o;
    o.flow = vision::FlowPreset::medium;
    o.device_frames = true;
    o.serial = serial;
    o.carry_flow = carry;
    o.lanes = lanes;
    o.more_engines = [&] { return std::make_unique<Engine>(Plan(engine.plan()), RuntimeOptions{}); };
    std::vector<double> out;
    eval::run_pipeline(engine, sources, o, [&](const eval::FrameOutput& f) { out.push_back(sum(*f.density)); });
    return out;
  };
  for (bool carry : {false, true}) {
    const std::vector<double> serial = counts(true, carry, 1);
    ASSERT_EQ(serial.size(), 30u);
    EXPECT_EQ(counts(false, carry, 3), serial) << (carry ? "--carry-flow" : "flow restarted per sequence");
  }
}

TEST(DeviceFrames, RunOnDeviceSumsWhatTheHostCopyOfTheOutputSums) {
  SKIP_WITHOUT_GPU();
  Engine& engine = demo_engine();
  CompiledGraph::DeviceIo io;
  ASSERT_TRUE(engine.device_io(&io));
  const SynthFrames frames = synth_frames({608, 608}, 1, 71, 0);
  vision::NetworkInput cpu = cpu_input(vision::FlowPreset::fast);
  const Tensor input = cpu.next(frames.bgr[0]);
  ASSERT_EQ(cudaMemcpy(io.inputs[0], input.data<float>(), input.bytes(), cudaMemcpyHostToDevice), cudaSuccess);
  engine.run_on_device(true);
  const double device_sum = engine.wait_output_sum();
  EXPECT_NEAR(device_sum, sum(engine.infer(input)), 1e-4 * std::max(1.0, std::fabs(device_sum)));
}

// crowdrt serve's counting sequences on a CUDA plan: each stream prepares its frames on its own CUDA stream
// (eval::DeviceStreamInput) and hands them to a shared engine. Interleaved streams give, frame for frame, the counts
// DeviceFramePath gives for each stream alone, bit for bit, and the density map is the one the count sums.
TEST(DeviceFrames, StreamsSharingOneEngineGiveEachStreamsOwnCounts) {
  SKIP_WITHOUT_GPU();
  Engine& engine = demo_engine();
  std::vector<SynthFrames> sequences;
  for (uint64_t s = 0; s < 3; ++s) sequences.push_back(synth_frames({1280, 720}, 5, 81, s));
  std::vector<std::vector<double>> alone(sequences.size());
  eval::DeviceFramePath path(engine, vision::FlowPreset::medium);
  for (size_t s = 0; s < sequences.size(); ++s) {
    path.start_sequence();
    for (const cv::Mat& bgr : sequences[s].bgr) {
      path.submit(bgr);
      alone[s].push_back(path.wait_count());
    }
  }
  std::vector<eval::DeviceStreamInput> streams;
  for (size_t s = 0; s < sequences.size(); ++s)
    streams.emplace_back(engine.inputs()[0].shape, vision::FlowPreset::medium);
  for (size_t f = 0; f < sequences[0].bgr.size(); ++f) {
    for (size_t s = 0; s < sequences.size(); ++s) streams[s].submit(sequences[s].bgr[f]);  // all queued, then counted
    for (size_t s = 0; s < sequences.size(); ++s) {
      Tensor density;
      const double count = streams[s].count_on(engine, f == 2 ? &density : nullptr);
      EXPECT_EQ(count, alone[s][f]) << "stream " << s << " frame " << f + 1;
      if (f == 2) EXPECT_NEAR(sum(density) / 100.0, count, 1e-6 * std::max(1.0, std::fabs(count)));
    }
  }
  // A new sequence on a stream starts its flow afresh: its first frame counts as the sequence's first frame alone.
  streams[1].start_sequence();
  streams[1].submit(sequences[0].bgr[0]);
  EXPECT_EQ(streams[1].count_on(engine, nullptr), alone[0][0]);
  EXPECT_THROW(eval::DeviceStreamInput({1, 4, 64, 64}, vision::FlowPreset::medium), Error);
}
