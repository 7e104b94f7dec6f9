// The plan file: magic + format version + JSON header + weights + checksum.
//
//   offset 0   "CRWDPLAN"                      8 bytes
//          8   format version, uint32 LE       (kPlanFormatVersion)
//         12   reserved, uint32 (0)
//         16   header length H, uint64 LE
//         24   header: JSON, H bytes (source model hash, backend, device fingerprint, build options,
//              per-layer choices, the optimised graph with each constant's offset in the weights)
//          …   zero padding to a multiple of 64
//          W   weights, each constant 64-byte aligned, W + weights_bytes
//   end − 8    checksum: FNV-1a 64 of every byte before it, uint64 LE
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "backends/backend.h"
#include "ir/graph.h"

namespace crowdrt {

// 2: a layer's tactic is a record of fields (Tactic; node attributes tactic, tactic_precision, tactic_int8_io,
// tactic_fused, tactic_reads_staging) where version 1 wrote one string with prefixes ("int8/", "chain/", ...).
constexpr uint32_t kPlanFormatVersion = 2;

struct Plan {
  nlohmann::json header;  // everything but the graph (filled by the builder): source, backend, device, build, layers
  ir::Graph graph;        // optimised, compute ops only
};

std::vector<std::byte> serialize_plan(const Plan& plan);
// Error (one line, naming `what`) on a wrong magic, another format version, a bad checksum or a malformed header.
Plan parse_plan(std::span<const std::byte> bytes, const std::string& what);
void write_plan(const std::string& path, const Plan& plan);
Plan read_plan(const std::string& path);

// JSON of LayerInfo lists, shared by the builder, the runtime and inspect.
nlohmann::json layers_to_json(const std::vector<LayerInfo>& layers);

// A plan's layers by the precision they run in, counted the same way by build, inspect and bench: one layer per
// node of the optimised graph (a backend's reorders and weight copies are not layers), each in the precision of
// its own kernel.
struct PrecisionMix {
  int layers = 0;
  std::map<Precision, int> count;  // layers per precision
  int at(Precision p) const;
  // "44 int8, 16 bf16, 12 fp32": lowest precision first, precisions with no layer left out.
  std::string text() const;
};
PrecisionMix precision_mix(const Plan& plan);

}  // namespace crowdrt
