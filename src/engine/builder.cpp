#include "engine/builder.h"

#include <map>
#include <thread>

#include "core/file.h"
#include "core/hash.h"
#include "core/log.h"
#include "engine/backend_registry.h"
#include "engine/device_info.h"
#include "ir/graph_stats.h"
#include "ir/passes/passes.h"
#include "onnx/import.h"

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

ir::Graph optimise(ir::Graph graph, const Backend& backend) {
  graph = ir::fold_constants(std::move(graph));
  graph = ir::remove_identity(std::move(graph));
  graph = constants_to_fp32(std::move(graph));
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

Plan build_plan(const std::string& onnx_path, const BuildOptions& options) {
  const std::vector<std::byte> bytes = read_file(onnx_path);
  onnx_import::ImportOptions import_options;
  import_options.input_shapes = options.input_shapes;
  ir::Graph graph = onnx_import::import_onnx_bytes(bytes, onnx_path, import_options);
  const std::unique_ptr<Backend> backend = make_backend(options.device);
  graph = optimise(std::move(graph), *backend);
  check_supported(graph, *backend);

  CompileOptions compile_options{options.precision, options.threads, /*time_tactics=*/true, options.timing_cache};
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
  plan.header = {
      {"producer", std::string("crowdrt ") + CROWDRT_VERSION},
      {"source", {{"path", onnx_path}, {"bytes", bytes.size()}, {"fnv1a64", hash_hex(bytes)}}},
      {"backend", backend->name()},
      {"device", backend->device_fingerprint()},
      {"device_description", describe_host_device()},
      {"build", {{"precision", precision_name(options.precision)}, {"threads", options.threads}}},
      {"inputs", io(plan.graph.inputs())},
      {"outputs", io(plan.graph.outputs())},
      {"macs", ir::graph_macs(plan.graph)},
      {"parameters", ir::graph_parameters(plan.graph)},
      {"arena_bytes", compiled->arena_bytes()},
      {"layers", layers_to_json(compiled->layers())},
  };
  return plan;
}

}  // namespace crowdrt
