// ONNX TensorProto ⇄ crowdrt Tensor: element types and the ways ONNX stores tensor bytes.
#pragma once
#include <onnx/onnx_pb.h>

#include <string>

#include "core/tensor.h"

namespace crowdrt::onnx_import {

// The DType of an ONNX TensorProto.DataType code; Error naming `where` for types crowdrt does not hold
// (string, complex, uint16/32/64, int16, float8).
DType dtype_from_onnx(int data_type, const std::string& where);
// Copies a tensor out of raw_data or the typed fields (float_data, int32_data, int64_data, double_data).
// Error naming `where` for external data, unsupported types and sizes that do not match the dims.
Tensor tensor_from_proto(const onnx::TensorProto& proto, const std::string& where);

}  // namespace crowdrt::onnx_import
