// crowdrt::Engine (public) over the engine module's runtime, plus the seed's count on frames.
#include "api/internal.h"

namespace crowdrt::internal {

void check_engine_options(const v0::EngineOptions& options) {
  check_thread_count(options.threads, "EngineOptions::threads");
  check_flow_preset(options.flow);  // a bad preset is reported at load, not at the first frame
  if (!options.flow_device.empty() && options.flow_device != "cpu" && options.flow_device != "cuda")
    throw Error(cat("EngineOptions::flow_device '", options.flow_device,
                    "': choose cpu, cuda, or empty for the plan's device"));
}

}  // namespace crowdrt::internal

namespace crowdrt::v0 {
namespace {

void check_shape(const char* what, const TensorSpec& spec, const Dims& given) {
  if (given == spec.shape) return;
  std::string hint;
  if (given.size() == 4 && spec.shape.size() == 4 && given[1] != spec.shape[1])
    hint = cat(": the model takes ", spec.shape[1], " channels");
  else if (given.size() != spec.shape.size())
    hint = cat(": ", spec.shape.size(), " dimensions (NCHW) expected, not ", given.size());
  throw Error(
      cat("infer: ", what, " '", spec.name, "' must be ", dims_str(spec.shape), ", got ", dims_str(given), hint));
}

void check_data(const char* what, const TensorSpec& spec, const void* data) {
  if (!data) throw Error(cat("infer: ", what, " '", spec.name, "' has no data (null pointer)"));
}

}  // namespace

Engine::Engine() = default;
Engine::Engine(const std::string& plan_path, const EngineOptions& options) { load(plan_path, options); }
Engine::~Engine() = default;
Engine::Engine(Engine&&) noexcept = default;
Engine& Engine::operator=(Engine&&) noexcept = default;

void Engine::load(const std::string& plan_path, const EngineOptions& options) {
  impl_.reset();
  load_error_.clear();
  try {
    internal::check_engine_options(options);
    impl_ = std::make_unique<Impl>(internal::RuntimeEngine::load(plan_path, internal::RuntimeOptions{options.threads}),
                                   options);
  } catch (const Error& e) {
    load_error_ = e.what();
    throw;
  } catch (const std::exception& e) {  // not expected from the plan reader; still the documented type
    load_error_ = cat(plan_path, ": ", e.what());
    throw Error(load_error_);
  }
}

bool Engine::loaded() const { return impl_ != nullptr; }

Engine::Impl& Engine::impl() const {
  if (impl_) return *impl_;
  if (!load_error_.empty()) throw Error(cat("Engine: no plan is loaded, the last load failed: ", load_error_));
  throw Error("Engine: no plan is loaded (default-constructed or moved from); call load(plan_path) first");
}

const std::vector<TensorSpec>& Engine::inputs() const { return impl().inputs; }
const std::vector<TensorSpec>& Engine::outputs() const { return impl().outputs; }
std::string Engine::device() const { return impl().engine.plan().header.value("backend", ""); }
std::string Engine::precision() const {
  const nlohmann::json& header = impl().engine.plan().header;
  return header.contains("build") ? header["build"].value("precision", "fp32") : "fp32";
}

void Engine::infer(const std::vector<TensorView>& inputs, const std::vector<MutableTensorView>& outputs) {
  Impl& d = impl();
  if (inputs.size() != d.inputs.size() || outputs.size() != d.outputs.size())
    throw Error(cat("infer: the plan has ", d.inputs.size(), " inputs and ", d.outputs.size(), " outputs, given ",
                    inputs.size(), " and ", outputs.size()));
  std::vector<const float*> in;
  std::vector<float*> out;
  for (size_t i = 0; i < inputs.size(); ++i) {
    check_shape("input", d.inputs[i], inputs[i].shape);
    check_data("input", d.inputs[i], inputs[i].data);
    in.push_back(inputs[i].data);
  }
  for (size_t i = 0; i < outputs.size(); ++i) {
    check_shape("output", d.outputs[i], outputs[i].shape);
    check_data("output", d.outputs[i], outputs[i].data);
    out.push_back(outputs[i].data);
  }
  const std::lock_guard<std::mutex> lock(d.running);
  d.engine.infer(in, out);
}

void Engine::infer(const TensorView& input, const MutableTensorView& output) {
  const Impl& d = impl();
  if (d.inputs.size() != 1 || d.outputs.size() != 1)
    throw Error(cat("infer: this plan has ", d.inputs.size(), " inputs and ", d.outputs.size(),
                    " outputs; pass them all as lists"));
  infer(std::vector<TensorView>{input}, std::vector<MutableTensorView>{output});
}

Tensor Engine::infer(const TensorView& input) {
  const Impl& d = impl();
  if (d.outputs.size() != 1)
    throw Error(cat("infer: this plan has ", d.outputs.size(), " outputs; pass them all as lists"));
  Tensor output(d.outputs[0].shape);
  infer(input, MutableTensorView(output));
  return output;
}

double Engine::count(const TensorView& input) { return infer(input).sum() / 100.0; }

Engine::DeviceBuffers Engine::device_buffers() {
  Impl& d = impl();
  ::crowdrt::CompiledGraph::DeviceIo io;
  if (!d.engine.device_io(&io))
    throw Error(cat("device_buffers: this plan runs on '", device(), "'; device-resident inference needs a CUDA plan"));
  return {io.stream, io.inputs, io.outputs};
}

double Engine::infer_on_device() {
  Impl& d = impl();
  device_buffers();  // the same refusal for CPU plans
  const std::lock_guard<std::mutex> lock(d.running);
  d.engine.run_on_device(true);
  return d.engine.wait_output_sum();
}

}  // namespace crowdrt::v0
