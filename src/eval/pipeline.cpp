#include "eval/pipeline.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>

#include "core/cancel.h"
#include "core/error.h"
#include "eval/device_frames.h"
#include "vision/frame.h"
#include "vision/pack_five_channel.h"

namespace crowdrt::eval {
namespace {

using Clock = std::chrono::steady_clock;
// Frames a GPU lane may finish ahead of delivery (each holds its density map: 1.5 MB at 608x608).
constexpr int kLaneLookahead = 64;
double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

struct PreparedFrame {
  cv::Mat bgr;  // kept only when asked
  cv::Size source_size;
  Tensor input;            // the network input; the density map when `inferred`
  bool inferred = false;   // prepared and inferred on the GPU (DevicePreparer)
  bool flow_restarted = false;  // the source broke before this frame (FrameReader::follows_gap)
  StageTimes times;
};

// The seed's eval recipe (vision::NetworkInput's eval variant) with each stage timed.
class FramePreparer {
 public:
  FramePreparer(cv::Size size, int channels, vision::FlowPreset flow) : size_(size), channels_(channels) {
    if (channels != 3 && channels != 5)
      throw Error(cat("the plan takes ", channels, " input channels: crowdrt feeds 3 (RGB) or 5 (RGB + optical flow)"));
    if (channels == 5) {
      if (flow == vision::FlowPreset::none)
        throw Error("the plan takes 5 channels (RGB + optical flow): choose --flow ultrafast, fast or medium");
      flow_ = std::make_unique<vision::DisFlow>(flow);
    }
  }
  void start_sequence() {
    if (flow_) flow_->start_sequence();
  }
  PreparedFrame prepare(cv::Mat bgr, double decode_ms, bool keep) {
    PreparedFrame out;
    out.times[Stage::decode] = decode_ms;
    out.source_size = bgr.size();
    auto t = Clock::now();
    const cv::Mat rgb = vision::bgr_to_rgb(vision::resize_frame(bgr, size_));
    cv::Mat gray;
    if (flow_) gray = vision::seed_gray_from_rgb(rgb);
    out.times[Stage::resize] = ms_since(t);
    cv::Mat flow;
    if (flow_) {
      t = Clock::now();
      flow = flow_->next(gray);
      out.times[Stage::flow] = ms_since(t);
    }
    t = Clock::now();
    out.input = vision::pack_network_input(rgb, flow, channels_);
    out.times[Stage::packing] = ms_since(t);
    if (keep) out.bgr = std::move(bgr);
    return out;
  }

 private:
  cv::Size size_;
  int channels_;
  std::unique_ptr<vision::DisFlow> flow_;
};

// The whole frame on the GPU: the frame is uploaded, prepared and inferred on the device by one engine (one CUDA
// stream); the density map comes back, since evaluation reads it (GAME).
class DevicePreparer {
 public:
  DevicePreparer(Engine& engine, vision::FlowPreset flow) : path_(engine, flow) {}
  void start_sequence() { path_.start_sequence(); }
  // Queues the frame on the GPU; the caller may decode the next frame meanwhile, then collect().
  void submit(cv::Mat bgr, double decode_ms, bool keep) {
    pending_ = PreparedFrame();
    pending_.times[Stage::decode] = decode_ms;
    pending_.source_size = bgr.size();
    const auto t = Clock::now();
    path_.submit(bgr);
    pending_.times[Stage::inference] = ms_since(t);
    if (keep) pending_.bgr = std::move(bgr);
  }
  // `inference`: the host's time in submitting the frame and waiting for its density (the GPU's work overlaps the
  // decoding of the next frame in between).
  PreparedFrame collect() {
    const auto t = Clock::now();
    path_.wait_count();
    path_.density(&pending_.input);
    pending_.inferred = true;
    pending_.times[Stage::inference] += ms_since(t);
    pending_.times[Stage::total] = pending_.times[Stage::decode] + pending_.times[Stage::inference];
    return std::move(pending_);
  }
  PreparedFrame prepare(cv::Mat bgr, double decode_ms, bool keep) {
    submit(std::move(bgr), decode_ms, keep);
    return collect();
  }

 private:
  DeviceFramePath path_;
  PreparedFrame pending_;
};

// One sequence's prepared frames, produced by one worker, consumed in order by the engine's thread.
class FrameQueue {
 public:
  explicit FrameQueue(size_t capacity) : capacity_(capacity) {}
  // False when the run was cancelled (the frame is dropped).
  bool push(PreparedFrame frame) {
    std::unique_lock lock(mutex_);
    space_.wait(lock, [&] { return items_.size() < capacity_ || cancelled_; });
    if (cancelled_) return false;
    items_.push_back(std::move(frame));
    ready_.notify_one();
    return true;
  }
  void finish(std::exception_ptr error = nullptr) {
    std::lock_guard lock(mutex_);
    finished_ = true;
    error_ = error;
    ready_.notify_one();
  }
  void cancel() {
    std::lock_guard lock(mutex_);
    cancelled_ = true;
    space_.notify_all();
  }
  // The next frame; nullopt at the end of the sequence; rethrows the producer's error.
  std::optional<PreparedFrame> pop() {
    std::unique_lock lock(mutex_);
    ready_.wait(lock, [&] { return !items_.empty() || finished_; });
    if (!items_.empty()) {
      PreparedFrame f = std::move(items_.front());
      items_.pop_front();
      space_.notify_one();
      return f;
    }
    if (error_) std::rethrow_exception(error_);
    return std::nullopt;
  }

 private:
  std::mutex mutex_;
  std::condition_variable ready_, space_;
  std::deque<PreparedFrame> items_;
  size_t capacity_;
  bool finished_ = false, cancelled_ = false;
  std::exception_ptr error_;
};

struct NetworkShape {
  cv::Size size;
  int channels;
};

NetworkShape network_shape(const Engine& engine) {
  if (engine.inputs().size() != 1 || engine.outputs().size() != 1)
    throw Error(cat("the plan has ", engine.inputs().size(), " inputs and ", engine.outputs().size(),
                    " outputs; evaluation needs one image input and one density output"));
  const Shape& in = engine.inputs()[0].shape;
  const Shape& out = engine.outputs()[0].shape;
  if (in.size() != 4 || in[0] != 1)
    throw Error(cat("the plan's input is ", shape_str(in), "; evaluation needs 1xCxHxW"));
  if (out.size() != 4 || out[0] != 1 || out[1] != 1)
    throw Error(cat("the plan's output is ", shape_str(out), "; evaluation needs a 1x1xHxW density map"));
  return {cv::Size(static_cast<int>(in[3]), static_cast<int>(in[2])), static_cast<int>(in[1])};
}

void infer_into(Engine& engine, const PreparedFrame& frame, Tensor& density, StageTimes& times) {
  const float* in[] = {frame.input.data<float>()};
  float* out[] = {density.data<float>()};
  const auto t = Clock::now();
  engine.infer(in, out);
  times = frame.times;
  times[Stage::inference] = ms_since(t);
  double total = 0;
  for (int s = 0; s < kStages - 1; ++s) total += times.ms[s];
  times[Stage::total] = total;
}

}  // namespace

PipelineRun run_pipeline(Engine& engine, const std::vector<SequenceSource>& sources, const PipelineOptions& options,
                         const std::function<void(const FrameOutput&)>& on_frame) {
  const NetworkShape net = network_shape(engine);
  Tensor density(DType::f32, engine.outputs()[0].shape);
  PipelineRun run;
  auto start = Clock::now();
  auto deliver = [&](size_t s, int64_t index, const PreparedFrame& frame) {
    throw_if_cancelled();
    FrameOutput out;
    out.sequence_index = s;
    out.sequence = &sources[s];
    out.frame = index;
    out.source_size = frame.source_size;
    out.frame_bgr = &frame.bgr;
    out.flow_restarted = frame.flow_restarted;
    if (frame.inferred) {
      out.density = &frame.input;
      out.times = frame.times;
    } else {
      out.density = &density;
      infer_into(engine, frame, density, out.times);
    }
    on_frame(out);
    ++run.frames;
  };

  // The seed's loop: one frame fully, then the next, on the calling thread (on the CPU or the GPU).
  auto serial = [&](auto& preparer) {
    for (size_t s = 0; s < sources.size(); ++s) {
      if (s == 0 || !options.carry_flow) preparer.start_sequence();
      auto reader = sources[s].open();
      for (int64_t i = 0;; ++i) {
        cv::Mat bgr;
        const auto t = Clock::now();
        if (!reader->read(bgr)) break;
        const double decode_ms = ms_since(t);
        const bool gap = reader->follows_gap();
        if (gap) preparer.start_sequence();
        PreparedFrame frame = preparer.prepare(std::move(bgr), decode_ms, options.keep_frames);
        frame.flow_restarted = gap;
        deliver(s, i, frame);
      }
    }
    run.wall_seconds = std::chrono::duration<double>(Clock::now() - start).count();
    return run;
  };
  if (options.serial && options.device_frames) {
    DevicePreparer preparer(engine, options.flow);
    return serial(preparer);
  }
  if (options.serial) {
    FramePreparer preparer(net.size, net.channels, options.flow);
    return serial(preparer);
  }

  // Groups of sequences that share one flow chain: each sequence alone, or all of them when the flow carries over.
  std::vector<std::vector<size_t>> groups;
  for (size_t s = 0; s < sources.size(); ++s) {
    if (options.carry_flow && !groups.empty()) groups.back().push_back(s);
    else groups.push_back({s});
  }
  std::vector<std::unique_ptr<FrameQueue>> queues;
  // GPU lanes run whole sequences ahead of the one being delivered: their queues hold more (a density map each).
  const size_t capacity = static_cast<size_t>(
      std::max(1, options.device_frames ? std::max(options.lookahead, kLaneLookahead) : options.lookahead));
  for (size_t s = 0; s < sources.size(); ++s) queues.push_back(std::make_unique<FrameQueue>(capacity));
  std::atomic<size_t> next_group{0};
  std::atomic<bool> cancelled{false};
  // GPU lanes: the engine given, then one more engine of the plan per further lane (made before any thread starts).
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int max_workers = static_cast<int>(std::max<size_t>(1, groups.size()));
  const int workers = options.device_frames ? std::clamp(options.lanes, 1, max_workers)
                                            : std::clamp(options.workers > 0 ? options.workers : cores, 1, max_workers);
  std::vector<std::unique_ptr<Engine>> lane_engines;
  std::vector<Engine*> lanes;
  if (options.device_frames) {
    lanes.push_back(&engine);
    for (int w = 1; w < workers; ++w) {
      if (!options.more_engines) break;
      lane_engines.push_back(options.more_engines());
      lanes.push_back(lane_engines.back().get());
    }
  }
  // Loading the further lanes' engines is plan loading, which the run's time leaves out for the first engine too.
  if (options.device_frames) start = Clock::now();
  std::atomic<size_t> next_lane{0};
  auto work = [&] {
    Engine* lane = options.device_frames ? lanes[next_lane.fetch_add(1) % lanes.size()] : nullptr;
    // A lane's GPU buffers are made once: allocating and freeing device memory waits for the whole GPU, every lane.
    std::optional<DevicePreparer> gpu_preparer;
    for (size_t g; (g = next_group.fetch_add(1)) < groups.size();) {
      std::optional<FramePreparer> cpu_preparer;
      size_t current = groups[g].front();
      try {
        if (lane && !gpu_preparer) gpu_preparer.emplace(*lane, options.flow);
        if (!lane) cpu_preparer.emplace(net.size, net.channels, options.flow);
        auto start_sequence = [&] { lane ? gpu_preparer->start_sequence() : cpu_preparer->start_sequence(); };
        for (size_t s : groups[g]) {
          current = s;
          if (s == groups[g].front() || !options.carry_flow) start_sequence();
          auto reader = sources[s].open();
          auto read = [&](cv::Mat& bgr, double& decode_ms) {
            const auto t = Clock::now();
            const bool got = reader->read(bgr);
            decode_ms = ms_since(t);
            return got;
          };
          if (lane) {
            // The GPU works on frame i while this thread decodes frame i + 1.
            cv::Mat bgr;
            double decode_ms = 0;
            bool more = read(bgr, decode_ms), gap = more && reader->follows_gap();
            while (more) {
              if (cancelled) return;
              if (gap) gpu_preparer->start_sequence();
              gpu_preparer->submit(std::move(bgr), decode_ms, options.keep_frames);
              cv::Mat next;
              double next_ms = 0;
              more = read(next, next_ms);
              const bool next_gap = more && reader->follows_gap();
              PreparedFrame frame = gpu_preparer->collect();
              frame.flow_restarted = gap;
              if (!queues[s]->push(std::move(frame))) return;
              bgr = std::move(next);
              decode_ms = next_ms;
              gap = next_gap;
            }
          } else {
            for (;;) {
              if (cancelled) return;
              cv::Mat bgr;
              double decode_ms = 0;
              if (!read(bgr, decode_ms)) break;
              const bool gap = reader->follows_gap();
              if (gap) cpu_preparer->start_sequence();
              PreparedFrame frame = cpu_preparer->prepare(std::move(bgr), decode_ms, options.keep_frames);
              frame.flow_restarted = gap;
              if (!queues[s]->push(std::move(frame))) return;
            }
          }
          queues[s]->finish();
        }
      } catch (...) {
        // The failing sequence reports the error; later sequences of the group never start.
        const auto error = std::current_exception();
        for (size_t s : groups[g])
          if (s >= current) queues[s]->finish(error);
      }
    }
  };
  std::vector<std::thread> threads;
  for (int w = 0; w < (options.device_frames ? static_cast<int>(lanes.size()) : workers); ++w)
    threads.emplace_back(work);
  auto stop = [&] {
    cancelled = true;
    for (auto& q : queues) q->cancel();
    for (auto& t : threads) t.join();
  };
  try {
    for (size_t s = 0; s < sources.size(); ++s)
      for (int64_t i = 0;; ++i) {
        std::optional<PreparedFrame> frame = queues[s]->pop();
        if (!frame) break;
        deliver(s, i, *frame);
      }
  } catch (...) {
    stop();
    throw;
  }
  stop();
  run.wall_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return run;
}

}  // namespace crowdrt::eval
