// Frames through the network: decode, resize, optical flow and packing of coming frames overlap the engine's
// work on the current one, and sequences are prepared on several threads at once; the results reach the caller
// in the serial order and are bit-identical to it, because each sequence's flow chain runs in its own order on
// one thread (DIS's warm start makes a frame's flow depend on the previous frame's). `serial` runs the seed's
// loop instead: one frame fully, then the next, on the calling thread.
#pragma once
#include <functional>
#include <memory>
#include <opencv2/core.hpp>

#include "core/tensor.h"
#include "engine/runtime.h"
#include "eval/frame_source.h"
#include "eval/stage_times.h"
#include "vision/dis_flow.h"

namespace crowdrt::eval {

struct PipelineOptions {
  vision::FlowPreset flow = vision::FlowPreset::medium;  // ignored for 3-channel plans
  // The seed's eval.py keeps the previous gray frame and flow across sequences (SEED.md); by default the flow
  // restarts at each sequence. Carrying it makes all sequences one flow chain, prepared on one thread.
  bool carry_flow = false;
  bool serial = false;
  int workers = 0;      // threads preparing frames (0: the number of cores); sequences are shared among them
  int lookahead = 3;    // frames each sequence may be prepared ahead of the engine
  bool keep_frames = false;  // hand the decoded frame to the callback (for overlays)
  // The whole frame on the GPU (CUDA plans; eval::DeviceFramePath): upload, resize, gray, flow, packing, inference
  // and the density's sum run on the device. Serial: one frame after the other on the engine given. Otherwise
  // `lanes` sequences are in flight at once, each lane an engine of the same plan with its own CUDA stream (the one
  // given, then engines from more_engines) decoding its sequences' frames on its own thread.
  bool device_frames = false;
  int lanes = 8;
  std::function<std::unique_ptr<Engine>()> more_engines;
};

struct FrameOutput {
  size_t sequence_index = 0;
  const SequenceSource* sequence = nullptr;
  int64_t frame = 0;                 // 0-based within the sequence
  cv::Size source_size;              // the decoded frame's size
  const Tensor* density = nullptr;   // the plan's output, 1x1xHxW
  const cv::Mat* frame_bgr = nullptr;  // the decoded frame when keep_frames, else empty
  bool flow_restarted = false;       // the source broke before this frame (a live stream reconnected)
  StageTimes times;
};

struct PipelineRun {
  int64_t frames = 0;
  double wall_seconds = 0;
};

// The network input (size, channels) is the plan's first input. on_frame runs on the calling thread, in order;
// an Error from it or from any stage stops the run and is rethrown here.
PipelineRun run_pipeline(Engine& engine, const std::vector<SequenceSource>& sources, const PipelineOptions& options,
                         const std::function<void(const FrameOutput&)>& on_frame);

}  // namespace crowdrt::eval
