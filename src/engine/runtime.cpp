#include "engine/runtime.h"

#include <algorithm>

#include "engine/backend_registry.h"
#include "ir/validate.h"

namespace crowdrt {
namespace {

// Fingerprints are ':'-separated fields ("cuda:<GPU>:sm_90:driver ...:runtime ...:cudnn ..."); the first field
// that differs says what changed.
std::string fingerprint_difference(const std::string& built_for, const std::string& here) {
  const auto split = [](const std::string& s) {
    std::vector<std::string> fields;
    size_t start = 0;
    for (size_t colon; (colon = s.find(':', start)) != std::string::npos; start = colon + 1)
      fields.push_back(s.substr(start, colon - start));
    fields.push_back(s.substr(start));
    return fields;
  };
  const std::vector<std::string> a = split(built_for), b = split(here);
  for (size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
    const std::string x = i < a.size() ? a[i] : "", y = i < b.size() ? b[i] : "";
    if (x != y) return cat("the plan has '", x, "' where this machine has '", y, "'");
  }
  return "";
}

}  // namespace

Engine Engine::load(const std::string& plan_path, const RuntimeOptions& options) {
  return Engine(read_plan(plan_path), options, plan_path);
}

Engine::Engine(Plan plan, const RuntimeOptions& options, const std::string& what) : plan_(std::move(plan)) {
  check_thread_count(options.threads, "threads");
  // Every graph a backend compiles is validated, plans handed over in memory included (parse_plan checks files).
  ir::validate_graph(plan_.graph, ir::GraphForm::optimised, what);
  const std::string backend_name = plan_.header.value("backend", "");
  backend_ = make_backend(backend_name);
  const std::string built_for = plan_.header.value("device", "");
  const std::string here = backend_->device_fingerprint();
  if (built_for != here)
    throw Error(cat(what, ": plan was built for device '", built_for, "' but this machine is '", here, "' (",
                    fingerprint_difference(built_for, here), "); rebuild it here with `crowdrt build`"));
  Precision precision = Precision::fp32;
  if (plan_.header.contains("build")) precision = precision_from_name(plan_.header["build"].value("precision", "fp32"));
  CompileOptions compile_options{precision, options.threads, false, {}, {}};
  // The calibrated amax and the layers kept fp32 travel in the header; each Conv's tactic (node_tactic) says
  // which kernel.
  if (plan_.header.contains("calibration")) {
    const nlohmann::json amax = plan_.header["calibration"].value("activation_amax", nlohmann::json::object());
    for (const auto& [name, value] : amax.items()) compile_options.activation_amax[name] = value.get<float>();
  }
  if (plan_.header.contains("build")) {
    const nlohmann::json keep = plan_.header["build"].value("keep_fp32", nlohmann::json::array());
    for (const auto& name : keep) compile_options.keep_fp32.insert(name.get<std::string>());
  }
  compiled_ = backend_->compile(plan_.graph, compile_options);
  for (ir::ValueId v : plan_.graph.inputs()) inputs_.push_back({plan_.graph.value(v).name, plan_.graph.value(v).shape});
  for (ir::ValueId v : plan_.graph.outputs())
    outputs_.push_back({plan_.graph.value(v).name, plan_.graph.value(v).shape});
}

void Engine::infer(std::span<const float* const> inputs, std::span<float* const> outputs,
                   std::vector<double>* layer_ms) {
  if (inputs.size() != inputs_.size() || outputs.size() != outputs_.size())
    throw Error(cat("infer: the plan has ", inputs_.size(), " inputs and ", outputs_.size(), " outputs, given ",
                    inputs.size(), " and ", outputs.size()));
  compiled_->run(inputs, outputs, layer_ms);
}

Tensor Engine::infer(const Tensor& input) {
  if (inputs_.size() != 1 || outputs_.size() != 1)
    throw Error(cat("infer: this plan has ", inputs_.size(), " inputs and ", outputs_.size(),
                    " outputs; use the multi-tensor infer"));
  if (input.dtype() != DType::f32)
    throw Error(cat("infer: input must be float32, got ", dtype_name(input.dtype())));
  if (input.shape() != inputs_[0].shape)
    throw Error(cat("infer: input '", inputs_[0].name, "' must be ", shape_str(inputs_[0].shape), " (NCHW), got ",
                    shape_str(input.shape()),
                    input.shape().size() == 4 && inputs_[0].shape.size() == 4 && input.shape()[1] != inputs_[0].shape[1]
                        ? cat(": the model takes ", inputs_[0].shape[1], " channels")
                        : std::string{}));
  Tensor output(DType::f32, outputs_[0].shape);
  const float* in[] = {input.data<float>()};
  float* out[] = {output.data<float>()};
  compiled_->run(in, out, nullptr);
  return output;
}

}  // namespace crowdrt
