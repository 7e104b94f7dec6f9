#include "engine/builder.h"

#include <algorithm>
#include <filesystem>
#include <cmath>
#include <map>
#include <set>
#include <thread>

#include "core/cancel.h"
#include "core/file.h"
#include "core/hash.h"
#include "core/log.h"
#include "engine/backend_registry.h"
#include "engine/device_info.h"
#include "ir/graph_stats.h"
#include "ir/passes/passes.h"
#include "ir/validate.h"
#include "core/progress.h"
#include "onnx/import.h"
#include "onnx/qdq_export.h"
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
  // Outputs of a Clip bounded on both sides (ReLU6) are flagged: the entropy method keeps their observed range.
  std::set<ir::ValueId> seen;
  std::vector<std::string> names{all.value(all.inputs()[0]).name};
  std::vector<bool> bounded{false};
  for (const ir::Node& n : all.nodes()) {
    const bool clip = n.op == ir::Op::Clip && std::isfinite(n.attrs.f("min", -INFINITY)) &&
                      std::isfinite(n.attrs.f("max", INFINITY));
    for (ir::ValueId v : n.outputs)
      if (seen.insert(v).second) {
        all.outputs().push_back(v);
        names.push_back(all.value(v).name);
        bounded.push_back(clip);
      }
  }
  const ir::ValueId input_value = all.inputs()[0];
  quant::Calibrator calibrator(quant::calibration_method_from_name(method), names, bounded);

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
  for (;;) {
    throw_if_cancelled();
    if (!input.next(&frame)) break;
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
  progress.finish();
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
  const std::string frames_given = !options.calib_dir.empty() ? options.calib_dir : options.calib_data;
  if (options.recalibrate && frames_given.empty())
    throw Error("--recalibrate needs frames to calibrate on: pass --calib-dir DIR or --calib-data ROOT");
  if (std::filesystem::exists(cache_path) && !options.recalibrate) {
    const std::vector<std::byte> bytes = read_file(cache_path);
    const quant::CalibrationCache cache = quant::parse_calibration_cache(
        std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), cache_path);
    std::map<std::string, float> amax = quant::amax_from_cache(cache, method, cache_path);
    size_t known = 0;
    for (ir::ValueId v = 0; v < static_cast<ir::ValueId>(unfused.value_count()); ++v)
      known += amax.count(unfused.value(v).name);
    log_info(cat("read calibration cache ", cache_path, " (", cache.algorithm, ", ", amax.size(), " tensors, ", known,
                 " of them in this model)", frames_given.empty() ? "" : cat("; ", frames_given, " was not used"),
                 "; --recalibrate calibrates again and replaces it"));
    if (known == 0)
      throw Error(cat(cache_path, ": none of its ", amax.size(),
                      " tensor names is a tensor of this model; it was made for another model (delete it or pass "
                      "another --calib-cache)"));
    (*record)["source"] = "cache";
    if (!frames_given.empty()) (*record)["frames_not_used"] = frames_given;
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
  write_text_atomic(cache_path, text);
  log_info(cat("wrote calibration cache ", cache_path, " (", cache.algorithm, ", ", amax.size(), " tensors)"));
  (*record)["source"] = "calibrated";
  return std::map<std::string, float>(amax.begin(), amax.end());
}

// The count (sum of the first output / 100, SEED.md) of each frame on one compiled graph.
std::vector<double> counts_of(const ir::Graph& graph, const Backend& backend, const CompileOptions& options,
                              const std::vector<Tensor>& frames) {
  const std::unique_ptr<CompiledGraph> compiled = backend.compile(graph, options);
  std::vector<Tensor> outputs;
  std::vector<float*> out_ptrs;
  for (ir::ValueId v : graph.outputs()) outputs.emplace_back(DType::f32, graph.value(v).shape);
  for (Tensor& t : outputs) out_ptrs.push_back(t.data<float>());
  std::vector<double> counts;
  for (const Tensor& frame : frames) {
    throw_if_cancelled();
    const float* in = frame.data<float>();
    compiled->run(std::span<const float* const>(&in, 1), out_ptrs);
    double sum = 0;
    for (float v : outputs[0].span<float>()) sum += v;
    counts.push_back(sum / 100.0);
  }
  return counts;
}

// mean |count - reference count| / mean |reference count|
double count_error(const std::vector<double>& counts, const std::vector<double>& reference) {
  double diff = 0, mean = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    diff += std::abs(counts[i] - reference[i]);
    mean += std::abs(reference[i]);
  }
  return mean > 0 ? diff / mean : diff / std::max<size_t>(counts.size(), 1);
}

// How much int8 in each Conv alone changes the count, on (at most kSensitivityFrames of) the calibration
// frames, against the fp32 engine; then, with a budget, the worst layers are kept fp32 one by one until the
// whole int8 engine is within it. Layers are compiled without timing, so every Conv with a scale runs int8.
constexpr int64_t kSensitivityFrames = 50;

void int8_sensitivity(const ir::Graph& graph, const Backend& backend, const BuildOptions& options,
                      const CalibrationInputFactory& calibration_input, const Shape& input_shape,
                      CompileOptions* compile_options) {
  if (!calibration_input || (options.calib_dir.empty() && options.calib_data.empty()))
    throw Error("--sensitivity and --count-budget measure counts on the calibration frames: pass --calib-dir or "
                "--calib-data too");
  BuildOptions frame_options = options;
  frame_options.calib_max =
      options.calib_max > 0 ? std::min(options.calib_max, kSensitivityFrames) : kSensitivityFrames;
  CalibrationInput input = calibration_input(frame_options, input_shape);
  std::vector<Tensor> frames;
  Tensor frame;
  while (static_cast<int64_t>(frames.size()) < frame_options.calib_max) {
    throw_if_cancelled();
    if (!input.next(&frame)) break;
    frames.push_back(frame);
  }
  if (frames.empty()) throw Error("--sensitivity: the calibration source gave no frames");

  CompileOptions fp32 = *compile_options;
  fp32.precision = Precision::fp32;
  fp32.time_tactics = false;
  const std::vector<double> reference = counts_of(graph, backend, fp32, frames);
  CompileOptions int8 = *compile_options;
  int8.time_tactics = false;
  std::vector<std::string> convs;
  for (const ir::Node& n : graph.nodes())
    if (n.op == ir::Op::Conv && !compile_options->keep_fp32.count(n.name)) convs.push_back(n.name);
  const double all_int8 = count_error(counts_of(graph, backend, int8, frames), reference);

  struct Layer {
    std::string node;
    double error;
  };
  std::vector<Layer> layers;
  Progress progress("int8 sensitivity", static_cast<int64_t>(convs.size()), "layers");
  for (const std::string& node : convs) {
    CompileOptions one = int8;
    for (const std::string& other : convs)
      if (other != node) one.keep_fp32.insert(other);
    layers.push_back({node, count_error(counts_of(graph, backend, one, frames), reference)});
    progress.advance();
  }
  progress.finish();
  std::stable_sort(layers.begin(), layers.end(), [](const Layer& a, const Layer& b) { return a.error > b.error; });

  // The fewest of the worst layers kept fp32 that bring the error within the budget, by bisection over their
  // number (the error falls as more layers are kept, though not always strictly).
  nlohmann::json kept = nlohmann::json::array();
  double error = all_int8;
  if (options.count_budget > 0 && all_int8 > options.count_budget) {
    auto error_keeping = [&](size_t k) {
      CompileOptions o = int8;
      for (size_t i = 0; i < k; ++i) o.keep_fp32.insert(layers[i].node);
      const double e = count_error(counts_of(graph, backend, o, frames), reference);
      log_verbose(cat("keeping the ", k, " worst layers fp32: count error ", e));
      return e;
    };
    size_t low = 0, high = layers.size();  // error(low) > budget; error(high) = 0 (every Conv fp32)
    double high_error = 0;
    while (high - low > 1) {
      const size_t mid = (low + high) / 2;
      const double e = error_keeping(mid);
      if (e <= options.count_budget) {
        high = mid;
        high_error = e;
      } else {
        low = mid;
      }
    }
    error = high_error;
    for (size_t i = 0; i < high; ++i) {
      compile_options->keep_fp32.insert(layers[i].node);
      kept.push_back(layers[i].node);
    }
    log_info(cat("count budget ", options.count_budget, ": the ", high,
                 " most sensitive layer(s) kept fp32, count error ", all_int8, " -> ", error));
  }
  if (!options.sensitivity_report.empty()) {
    double mean = 0;
    for (double c : reference) mean += c / reference.size();
    nlohmann::json report = {{"frames", frames.size()},
                             {"metric", "mean |count - fp32 count| / mean |fp32 count| over the frames"},
                             {"mean_fp32_count", mean},
                             {"all_int8_count_error", all_int8},
                             {"count_budget", options.count_budget},
                             {"kept_fp32", kept},
                             {"final_count_error", error},
                             {"layers", nlohmann::json::array()}};
    for (const Layer& l : layers) report["layers"].push_back({{"node", l.node}, {"count_error_int8_alone", l.error}});
    const std::string text = report.dump(2) + "\n";
    write_text_atomic(options.sensitivity_report, text);
    log_info(cat("wrote int8 sensitivity of ", layers.size(), " layers to ", options.sensitivity_report));
  }
}

}  // namespace

Plan build_plan(const std::string& onnx_path, const BuildOptions& options,
                const CalibrationInputFactory& calibration_input) {
  check_thread_count(options.threads, "threads");
  throw_if_cancelled();
  const std::vector<std::byte> bytes = read_file(onnx_path);
  onnx_import::ImportOptions import_options;
  import_options.input_shapes = options.input_shapes;
  ir::Graph imported = onnx_import::import_onnx_bytes(bytes, onnx_path, import_options);
  ir::check_node_names(imported, options.keep_fp32, cat(onnx_path, ": --keep-fp32"));
  const std::unique_ptr<Backend> backend = make_backend(options.device);
  ir::Graph unfused, graph;
  try {  // shape inference and folding name the node; the file is named here
    unfused = unfused_graph(imported);
    graph = optimise(std::move(imported), *backend);
  } catch (const Error& e) {
    throw Error(std::string(e.what()).starts_with(onnx_path + ": ") ? e.what() : cat(onnx_path, ": ", e.what()));
  }
  ir::validate_graph(graph, ir::GraphForm::optimised, onnx_path);
  check_supported(graph, *backend);

  CompileOptions compile_options{options.precision, options.threads, options.time_tactics, options.timing_cache,
                                 {}, {}};
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
  if (!options.sensitivity_report.empty() || options.count_budget > 0)
    int8_sensitivity(graph, *backend, options, calibration_input, unfused.value(unfused.inputs()[0]).shape,
                     &compile_options);
  if (!options.save_qdq.empty()) {
    const onnx_export::QdqResult qdq = onnx_export::write_qdq_onnx(unfused, compile_options.activation_amax,
                                                                   compile_options.keep_fp32, options.save_qdq);
    log_info(cat("wrote ", options.save_qdq, ": Q/DQ on ", qdq.quantised_layers, " Conv layers (", qdq.skipped_layers,
                 " left float)"));
  }
  std::unique_ptr<CompiledGraph> compiled;
  {
    Progress progress(options.time_tactics ? "build: timing kernels" : "build: choosing kernels",
                      static_cast<int64_t>(graph.nodes().size()), "layers");
    compile_options.on_layer = [&progress](size_t, size_t) {
      throw_if_cancelled();
      progress.advance();
    };
    compiled = backend->compile(graph, compile_options);
    compile_options.on_layer = nullptr;
  }
  // The tactics the timing chose travel in the plan, so that loading it compiles the same kernels.
  std::map<std::string, Tactic> tactic_of;
  for (const LayerInfo& l : compiled->layers())
    if (!l.tactic.empty()) tactic_of[l.node] = l.tactic;
  for (ir::Node& node : graph.nodes())
    if (auto it = tactic_of.find(node.name); it != tactic_of.end()) set_node_tactic(node.attrs, it->second);
  for (const LayerInfo& l : compiled->layers())
    log_verbose(cat("  ", l.node, "  ", l.op, "  ", precision_name(l.precision), "  ", l.kernel, "  ", l.layout,
                    l.tactic.empty() ? "" : "  " + l.tactic.text(), l.note.empty() ? "" : "  (" + l.note + ")"));

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
  plan.header = {
      {"producer", std::string("crowdrt ") + CROWDRT_VERSION},
      {"source", {{"path", onnx_path}, {"bytes", bytes.size()}, {"fnv1a64", hash_hex(bytes)}}},
      {"backend", backend->name()},
      {"device", backend->device_fingerprint()},
      {"device_description", describe_host_device()},
      {"build",
       {{"precision", precision_name(options.precision)},
        {"threads", options.threads},
        {"keep_fp32", std::vector<std::string>(compile_options.keep_fp32.begin(), compile_options.keep_fp32.end())}}},
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
  // Layers counted as build, inspect and bench count them (PrecisionMix), not the backend's steps.
  const PrecisionMix mix = precision_mix(plan);
  plan.header["build"]["layers_below_fp32"] = mix.layers - mix.at(Precision::fp32);
  // A permission nothing used is worth a warning: e.g. fp16 on a CPU without fp16 kernels builds an fp32 plan.
  if (options.precision != Precision::fp32 && mix.at(options.precision) == 0)
    log_warn(cat(precision_name(options.precision), " was permitted, but no layer runs in ",
                 precision_name(options.precision), " on the ", backend->name(), " backend here: the plan runs ",
                 mix.text(), "; `crowdrt inspect` gives each layer's reason"));
  return plan;
}

}  // namespace crowdrt
