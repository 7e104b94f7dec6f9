// What the public API (include/crowdrt) is built on. Include this in every src/api file, after any other
// internal header that file needs and before anything else.
//
// The public classes live in crowdrt::v0 (an inline namespace), so crowdrt::Engine in a user's program is
// crowdrt::v0::Engine, a different symbol from the engine module's own crowdrt::Engine. Where both are
// declared, the plain name is ambiguous; so the internal types are named here, before the public headers
// are included, under crowdrt::internal.
#pragma once
#include <memory>
#include <mutex>

#include "core/tensor.h"
#include "engine/builder.h"
#include "engine/runtime.h"
#include "serve/zones.h"

namespace crowdrt::internal {

using RuntimeEngine = ::crowdrt::Engine;
using RuntimeOptions = ::crowdrt::RuntimeOptions;
using PlanBuildOptions = ::crowdrt::BuildOptions;
using InternalTensor = ::crowdrt::Tensor;
using ::crowdrt::Plan;
using ::crowdrt::PrecisionMix;
using ::crowdrt::precision_mix;

}  // namespace crowdrt::internal

#include "crowdrt/crowdrt.h"

namespace crowdrt::internal {

// Error listing the presets unless `name` is a DIS flow preset (ultrafast, fast, medium, none).
void check_flow_preset(const std::string& name);
// Error for EngineOptions an engine cannot take (threads, flow preset, flow_device), before any loading.
void check_engine_options(const v0::EngineOptions& options);
// The builder's source of int8 calibration frames (src/data); none in an engine-only build, which calibrates
// from an existing calibration cache only.
::crowdrt::CalibrationInputFactory calibration_frames();
// The zones checked by serve's zones-file parser (Error naming the zone), and their JSON text in `key` (equal
// texts: equal zones).
std::vector<serve::Zone> checked_zones(const std::vector<v0::Zone>& zones, std::string* key);
// Copies of internal tensors / shapes into public ones.
v0::Tensor to_public(InternalTensor tensor);
v0::Dims to_dims(const ::crowdrt::Shape& shape);

}  // namespace crowdrt::internal

namespace crowdrt::v0 {

// Engine::count(frame)'s preprocessing state, defined with the frames code (src/api/frames.cpp), which an
// engine-only build (CROWDRT_WITH_FRAMES=OFF) replaces by src/api/no_frames.cpp.
struct FrameInput;
struct FrameInputDeleter {
  void operator()(FrameInput* input) const;
};

struct Engine::Impl {
  internal::RuntimeEngine engine;
  std::vector<TensorSpec> inputs, outputs;
  EngineOptions options;
  std::unique_ptr<FrameInput, FrameInputDeleter> frames;  // made by the first count(frame)
  std::mutex running;  // one inference (and one frame's flow) at a time: the arena and flow state are shared

  // Inline, so that it stays hidden although Engine is exported.
  Impl(internal::RuntimeEngine loaded, const EngineOptions& engine_options)
      : engine(std::move(loaded)), options(engine_options) {
    for (const TensorInfo& t : engine.inputs()) inputs.push_back({t.name, internal::to_dims(t.shape)});
    for (const TensorInfo& t : engine.outputs()) outputs.push_back({t.name, internal::to_dims(t.shape)});
  }
};

}  // namespace crowdrt::v0
