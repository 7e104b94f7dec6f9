#include "engine/builder.h"

#include <algorithm>
#include <filesystem>
#include <cmath>
#include <map>
#include <set>
#include <thread>

#include "core/file.h"
#include "core/hash.h"
#include "core/log.h"
#include "engine/backend_registry.h"
#include "engine/device_info.h"
#include "ir/graph_stats.h"
#include "ir/passes/passes.h"
#include "core/progress.h"
#include "onnx/import.h"
#include "quant/calibrator.h"

namespace crowdrt {
namespace {
// Weights stored in other float types (fp16 checkpoints, fp64) run as fp32 in the IR.
ir::Graph constants_to_fp32(ir::Graph graph) {
  for (ir::Node& node : graph.nodes())
    for (ir::ValueId& v : node.inputs) {
      if (v == ir::kNoValue) continue;
      const ir::Value& val = graph.value(v);
      if (val.is_constant() && val.data->dtype() != DType::f32 &&
          (val.data->dtype() == DType::f16 || val.data->dtype() == DType::bf16 || val.data->dtype() == DType::f64))
        v = graph.add_constant(val.name + "_fp32", val.data->cast(DType::f32));
    }
  return graph;
}

void check_supported(const ir::Graph& graph, const Backend& backend) {
  std::map<std::string, std::string> first;  // op → first node that the backend cannot run
  for (const ir::Node& n : graph.nodes())
    if (!backend.supports(graph, n, Precision::fp32) && !first.count(ir::op_name(n.op)))
      first[ir::op_name(n.op)] = n.name;
  if (first.empty()) return;
  std::string list;
  for (const auto& [op, node] : first) list += cat(list.empty() ? "" : ", ", op, " (node ", node, ")");
  throw Error(cat("device '", backend.name(), "' cannot run: ", list));
}
}  // namespace

ir::Graph unfused_graph(ir::Graph graph) {
  graph = ir::fold_constants(std::move(graph));
  graph = ir::remove_identity(std::move(graph));
  graph = constants_to_fp32(std::move(graph));
  graph = ir::remove_dead(std::move(graph));
  graph.validate();
  return graph;
}

ir::Graph optimise(ir::Graph graph, const Backend& backend) {
  graph = unfused_graph(std::move(graph));
  graph = ir::fold_batchnorm(std::move(graph));
  graph = ir::fuse_residual_add(std::move(graph));
  graph = ir::fuse_activation(std::move(graph));
  graph = ir::remove_dead(std::move(graph));
  graph = ir::plan_concat_in_place(std::move(graph), [&](const ir::Graph& g, const ir::Node& n) {
    return backend.concat_in_place(g, n);
  });
  graph.validate();
  return graph;
}

std::string default_calibration_cache(const std::string& onnx_path) {
  const std::filesystem::path path(onnx_path);
  const std::filesystem::path stem = path.extension() == ".onnx" ? path.parent_path() / path.stem() : path;
  return stem.string() + "_calib.bin";
}

std::vector<std::pair<std::string, float>> calibrate(const ir::Graph& unfused, const Backend& backend,
                                                     const std::string& method, CalibrationInput input, int threads) {
  if (unfused.inputs().size() != 1)
    throw Error(cat("calibration needs a model with one input; this one has ", unfused.inputs().size()));
  // Every node output becomes a graph output, so that one run shows every tensor TensorRT would name.
  ir::Graph all = unfused;
  all.outputs().clear();
  std::set<ir::ValueId> seen;
  for (const ir::Node& n : all.nodes())
    for (ir::ValueId v : n.outputs)
      if (seen.insert(v).second) all.outputs().push_back(v);
  const ir::ValueId input_value = all.inputs()[0];
  std::vector<std::string> names{all.value(input_value).name};
  for (ir::ValueId v : all.outputs()) names.push_back(all.value(v).name);
  quant::Calibrator calibrator(quant::calibration_method_from_name(method), names);

  CompileOptions options;
  options.threads = threads;
  const std::unique_ptr<CompiledGraph> compiled = backend.compile(all, options);
  std::vector<Tensor> outputs;
  std::vector<float*> out_ptrs;
  for (ir::ValueId v : all.outputs()) outputs.emplace_back(DType::f32, all.value(v).shape);
  for (Tensor& t : outputs) out_ptrs.push_back(t.data<float>());
  const Shape& input_shape = all.value(input_value).shape;

  Progress progress("calibrating", input.frames);
  Tensor frame;
  while (input.next(&frame)) {
    if (frame.dtype() != DType::f32 || frame.shape() != input_shape)
      throw Error(cat("calibration frame ", calibrator.batches() + 1, " is ", dtype_name(frame.dtype()), " ",
                      shape_str(frame.shape()), "; the model's input '", all.value(input_value).name, "' is f32 ",
                      shape_str(input_shape)));
    const float* in = frame.data<float>();
    compiled->run(std::span<const float* const>(&in, 1), out_ptrs);
    calibrator.collect(0, frame.span<float>());
    for (size_t i = 0; i < outputs.size(); ++i) calibrator.collect(i + 1, outputs[i].span<float>());
    calibrator.batch_done();
    progress.advance();
  }
  if (calibrator.batches() == 0) throw Error("calibration got no frames");
  log_info(cat("calibrated ", names.size(), " tensors on ", calibrator.batches(), " frames (", method, ") in ",
               std::round(progress.seconds() * 10) / 10, " s"));
  return calibrator.amax();
}

namespace {

// The calibrated amax of every tensor: from the cache when it exists, else by calibrating (and then the cache
// is written).
std::map<std::string, float> activation_amax(const std::string& onnx_path, const ir::Graph& unfused,
                                             const Backend& backend, const BuildOptions& options,
                                             const CalibrationInputFactory& calibration_input,
                                             nlohmann::json* record) {
  const std::string cache_path =
      options.calib_cache.empty() ? default_calibration_cache(onnx_path) : options.calib_cache;
  const quant::CalibrationMethod method = quant::calibration_method_from_name(options.calibrator);
  (*record)["cache"] = cache_path;
  (*record)["calibrator"] = options.calibrator;
  if (std::filesystem::exists(cache_path)) {
    const std::vector<std::byte> bytes = read_file(cache_path);
    const quant::CalibrationCache cache = quant::parse_calibration_cache(
        std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), cache_path);
    std::map<std::string, float> amax = quant::amax_from_cache(cache, method, cache_path);
    size_t known = 0;
    for (ir::ValueId v = 0; v < static_cast<ir::ValueId>(unfused.value_count()); ++v)
      known += amax.count(unfused.value(v).name);
    log_info(cat("read calibration cache ", cache_path, " (", cache.algorithm, ", ", amax.size(), " tensors, ", known,
                 " of them in this model); delete it to calibrate again"));
    if (known == 0)
      throw Error(cat(cache_path, ": none of its ", amax.size(),
                      " tensor names is a tensor of this model; it was made for another model (delete it or pass "
                      "another --calib-cache)"));
    (*record)["source"] = "cache";
    return amax;
  }
  if (!calibration_input || (options.calib_dir.empty() && options.calib_data.empty()))
    throw Error(cat("int8 needs calibration: no cache at ", cache_path,
                    "; pass --calib-dir DIR (the seed's calibration folder) or --calib-data ROOT (a VisDrone root), "
                    "or --calib-cache FILE with an existing cache"));
  CalibrationInput input = calibration_input(options, unfused.value(unfused.inputs()[0]).shape);
  if (input.frames < 500)
    log_warn(cat("calibrating on ", input.frames,
                 " frames; NVIDIA suggests about 500 for int8 calibration (the seed's calibrator warns too)"));
  const auto amax = calibrate(unfused, backend, options.calibrator, std::move(input), options.threads);
  const quant::CalibrationCache cache = quant::cache_from_amax(amax, method, options.calib_cache_version);
  const std::string text = quant::format_calibration_cache(cache);
  write_file_atomic(cache_path, std::span<const std::byte>(reinterpret_cast<const std::byte*>(text.data()), text.size()));
  log_info(cat("wrote calibration cache ", cache_path, " (", cache.algorithm, ", ", amax.size(), " tensors)"));
  (*record)["source"] = "calibrated";
  return std::map<std::string, float>(amax.begin(), amax.end());
}

}  // namespace

Plan build_plan(const std::string& onnx_path, const BuildOptions& options,
                const CalibrationInputFactory& calibration_input) {
  const std::vector<std::byte> bytes = read_file(onnx_path);
  onnx_import::ImportOptions import_options;
  import_options.input_shapes = options.input_shapes;
  ir::Graph imported = onnx_import::import_onnx_bytes(bytes, onnx_path, import_options);
  const std::unique_ptr<Backend> backend = make_backend(options.device);
  ir::Graph unfused = unfused_graph(imported);
  ir::Graph graph = optimise(std::move(imported), *backend);
  check_supported(graph, *backend);

  CompileOptions compile_options{options.precision, options.threads, /*time_tactics=*/true, options.timing_cache, {}, {}};
  compile_options.keep_fp32.insert(options.keep_fp32.begin(), options.keep_fp32.end());
  nlohmann::json calibration = nlohmann::json::object();
  if (precision_permits(options.precision, Precision::int8)) {
    check_supported(unfused, *backend);
    // Calibrated on the unfused graph's tensors; the fused graph keeps the names of the values it still has
    // (a fused Conv writes its activation's output), so the same map serves it.
    compile_options.activation_amax =
        activation_amax(onnx_path, unfused, *backend, options, calibration_input, &calibration);
  } else if (!options.save_qdq.empty() || !options.sensitivity_report.empty() || options.count_budget > 0) {
    throw Error("--save-qdq, --sensitivity and --count-budget need int8: pass --precision int8 (or --int8)");
  }
  const std::unique_ptr<CompiledGraph> compiled = backend->compile(graph, compile_options);
  // The tactics the timing chose travel in the plan, so that loading it compiles the same kernels.
  std::map<std::string, std::string> tactic_of;
  for (const LayerInfo& l : compiled->layers())
    if (!l.tactic.empty()) tactic_of[l.node] = l.tactic;
  for (ir::Node& node : graph.nodes())
    if (auto it = tactic_of.find(node.name); it != tactic_of.end()) node.attrs.set("tactic", it->second);
  for (const LayerInfo& l : compiled->layers())
    log_verbose(cat("  ", l.node, "  ", l.op, "  ", precision_name(l.precision), "  ", l.kernel, "  ", l.layout,
                    l.tactic.empty() ? "" : "  " + l.tactic, l.note.empty() ? "" : "  (" + l.note + ")"));

  Plan plan;
  plan.graph = std::move(graph);
  auto io = [&](const std::vector<ir::ValueId>& ids) {
    nlohmann::json out = nlohmann::json::array();
    for (ir::ValueId v : ids) out.push_back({{"name", plan.graph.value(v).name}, {"shape", plan.graph.value(v).shape}});
    return out;
  };
  // Only the amax of values the optimised graph still has: what a backend needs to rebuild the same kernels.
  nlohmann::json amax = nlohmann::json::object();
  for (ir::ValueId v = 0; v < static_cast<ir::ValueId>(plan.graph.value_count()); ++v)
    if (auto it = compile_options.activation_amax.find(plan.graph.value(v).name);
        it != compile_options.activation_amax.end())
      amax[it->first] = it->second;
  size_t lowered = 0;
  for (const LayerInfo& l : compiled->layers()) lowered += l.precision != Precision::fp32;
  plan.header = {
      {"producer", std::string("crowdrt ") + CROWDRT_VERSION},
      {"source", {{"path", onnx_path}, {"bytes", bytes.size()}, {"fnv1a64", hash_hex(bytes)}}},
      {"backend", backend->name()},
      {"device", backend->device_fingerprint()},
      {"device_description", describe_host_device()},
      {"build",
       {{"precision", precision_name(options.precision)},
        {"threads", options.threads},
        {"keep_fp32", std::vector<std::string>(compile_options.keep_fp32.begin(), compile_options.keep_fp32.end())},
        {"layers_below_fp32", lowered}}},
      {"inputs", io(plan.graph.inputs())},
      {"outputs", io(plan.graph.outputs())},
      {"macs", ir::graph_macs(plan.graph)},
      {"parameters", ir::graph_parameters(plan.graph)},
      {"arena_bytes", compiled->arena_bytes()},
      {"layers", layers_to_json(compiled->layers())},
  };
  if (!calibration.empty()) {
    calibration["activation_amax"] = amax;
    plan.header["calibration"] = calibration;
  }
  return plan;
}

}  // namespace crowdrt
