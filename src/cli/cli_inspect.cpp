// crowdrt inspect: what is in an ONNX model or a plan: layers, shapes, parameters, MACs, kernels.
#include <cstring>
#include <map>
#include <memory>

#include "cli/cli_common.h"
#include "core/file.h"
#include "engine/plan.h"
#include "ir/graph_stats.h"
#include "ir/passes/passes.h"
#include "onnx/import.h"

namespace crowdrt::cli {
namespace {
void print_graph(const ir::Graph& g, const std::map<std::string, nlohmann::json>& layer_by_node) {
  const bool plan = !layer_by_node.empty();
  std::printf("%-4s %-44s %-20s %-18s %10s %12s%s\n", "#", "node", "op", "output", "params", "MACs",
              plan ? "  precision  kernel" : "");
  int i = 0;
  for (const ir::Node& n : g.nodes()) {
    const std::string op = ir::fused_op_name(n);
    std::string extra;
    if (auto it = layer_by_node.find(n.name); it != layer_by_node.end())
      extra = cat("  ", it->second.value("precision", ""), "  ", it->second.value("kernel", ""),
                  it->second.value("note", "").empty() ? "" : " (" + it->second.value("note", "") + ")");
    std::printf("%-4d %-44s %-20s %-18s %10lld %12lld%s\n", i++, n.name.substr(0, 44).c_str(), op.substr(0, 20).c_str(),
                shape_str(g.value(n.outputs[0]).shape).c_str(), static_cast<long long>(ir::node_parameters(g, n)),
                static_cast<long long>(ir::node_macs(g, n)), extra.c_str());
  }
  for (ir::ValueId v : g.inputs())
    std::printf("input  %s: %s\n", g.value(v).name.c_str(), shape_str(g.value(v).shape).c_str());
  for (ir::ValueId v : g.outputs())
    std::printf("output %s: %s\n", g.value(v).name.c_str(), shape_str(g.value(v).shape).c_str());
  std::printf("%zu layers, %.3f M parameters, %.3f GMACs\n", g.nodes().size(), ir::graph_parameters(g) / 1e6,
              ir::graph_macs(g) / 1e9);
}
}  // namespace

void register_inspect(CLI::App& app) {
  auto path = std::make_shared<std::string>();
  CLI::App* cmd =
      app.add_subcommand("inspect", "Show the layers of an ONNX model or a plan (shapes, parameters, MACs, kernels)");
  cmd->add_option("file", *path, "An .onnx model or a crowdrt plan")->required();
  cmd->callback([path] {
    const std::vector<std::byte> bytes = read_file(*path);
    if (bytes.size() >= 8 && std::memcmp(bytes.data(), "CRWDPLAN", 8) == 0) {
      const Plan plan = parse_plan(bytes, *path);
      const nlohmann::json& h = plan.header;
      std::printf(
          "plan %s\n  producer %s, format version %u\n  source %s (fnv1a64 %s)\n  backend %s, device %s (%s)\n"
          "  precision %s, activations %.1f MB\n",
          path->c_str(), h.value("producer", "?").c_str(), kPlanFormatVersion, h["source"].value("path", "?").c_str(),
          h["source"].value("fnv1a64", "?").c_str(), h.value("backend", "?").c_str(), h.value("device", "?").c_str(),
          h.value("device_description", "?").c_str(), h["build"].value("precision", "?").c_str(),
          h.value("arena_bytes", 0.0) / 1e6);
      if (h.contains("calibration")) {
        const nlohmann::json& c = h["calibration"];
        std::printf("  int8 calibration: %s (%s), %zu activation ranges", c.value("calibrator", "?").c_str(),
                    c.value("source", "?") == "cache" ? ("read from " + c.value("cache", "?")).c_str()
                                                      : ("calibrated, cache " + c.value("cache", "?")).c_str(),
                    c.value("activation_amax", nlohmann::json::object()).size());
        const nlohmann::json keep = h["build"].value("keep_fp32", nlohmann::json::array());
        if (!keep.empty()) std::printf(", %zu layer(s) kept fp32", keep.size());
        std::printf("\n");
      }
      std::map<std::string, nlohmann::json> layers;
      for (const auto& l : h["layers"]) layers[l.value("node", "")] = l;
      print_graph(plan.graph, layers);
      std::printf("precision: %s\n", precision_mix(plan).text().c_str());
      return;
    }
    ir::Graph g = ir::fold_constants(onnx_import::import_onnx_bytes(bytes, *path));
    g = ir::remove_identity(std::move(g));
    std::printf("ONNX model %s (after folding shape arithmetic and removing identities)\n", path->c_str());
    print_graph(g, {});
  });
}

}  // namespace crowdrt::cli
