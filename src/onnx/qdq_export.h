// The model with explicit quantisation: QuantizeLinear / DequantizeLinear at the calibrated scales, placed as
// TensorRT's explicit quantisation expects (shared/QUANT.md): a Q/DQ pair on the activation input of every
// quantised Conv / ConvTranspose (one scale per tensor, amax / 127) and a DequantizeLinear on its int8 weight
// (per output channel, max|w| / 127, values in [-127, 127]); zero points 0; opset 13. TensorRT fuses
// DQ → Conv → (BN, ReLU, residual add) → Q itself; ONNX Runtime runs the file as it is.
#pragma once
#include <onnx/onnx_pb.h>

#include <map>
#include <set>
#include <string>

#include "ir/graph.h"

namespace crowdrt::onnx_export {

struct QdqResult {
  int quantised_layers = 0;  // Convs that got Q/DQ
  int skipped_layers = 0;    // kept float: no amax for their input, in keep_fp32, or grouped ConvTranspose
};

// `graph`: unfused (as the calibrator saw it: builder's unfused_graph), value names = ONNX tensor names.
// `keep_float`: node names left without Q/DQ (--keep-fp32).
onnx::ModelProto export_qdq_onnx(const ir::Graph& graph, const std::map<std::string, float>& activation_amax,
                                 const std::set<std::string>& keep_float, QdqResult* result = nullptr);
QdqResult write_qdq_onnx(const ir::Graph& graph, const std::map<std::string, float>& activation_amax,
                         const std::set<std::string>& keep_float, const std::string& path);

}  // namespace crowdrt::onnx_export
