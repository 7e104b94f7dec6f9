// IR → ONNX: a canonical graph (ir/graph.h's attribute forms, as build_smp_model and fold_constants leave it)
// written as an ONNX model for opsets 11 to 17, checked by ONNX's own checker before it is returned.
#pragma once
#include <onnx/onnx_pb.h>

#include <string>

#include "ir/graph.h"

namespace crowdrt::onnx_export {

struct ExportOptions {
  int opset = 11;  // the seed's pytorch2onnx.py exports opset 11
  std::string producer = "crowdrt";
  std::string graph_name = "main_graph";
};

inline constexpr int kOldestExportOpset = 11;
inline constexpr int kNewestExportOpset = 17;

// Every value's shape must be known; float weights are stored as float32 raw_data; constants no node reads are
// left out. Error naming the node for ops or attribute forms ONNX cannot hold at that opset (fused Conv
// epilogues, HardSwish before 14), and when onnx::checker rejects the result.
onnx::ModelProto export_onnx(const ir::Graph& graph, const ExportOptions& options = {});
// export_onnx, serialised to `path` (written whole to a temporary file first, then renamed).
void write_onnx(const ir::Graph& graph, const std::string& path, const ExportOptions& options = {});

// The ONNX IR version that goes with an opset (onnx/helper.py VERSION_TABLE): 11 → 6, 12-14 → 7, 15-17 → 8.
int64_t ir_version_for_opset(int opset);

}  // namespace crowdrt::onnx_export
