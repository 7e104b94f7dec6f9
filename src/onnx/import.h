// ONNX → IR: opsets 11 to 17, the operators PyTorch emits for smp Unet / UnetPlusPlus.
#pragma once
#include <cstddef>
#include <map>
#include <span>
#include <string>

#include "ir/graph.h"

namespace crowdrt::onnx_import {

struct ImportOptions {
  std::map<std::string, Shape> input_shapes;  // overrides for dynamic or other input shapes
};

// Returns the raw graph (shape ops still present; run ir::fold_constants next). Error, one line:
// unreadable or not ONNX, unsupported ops (every type named with its first node), dynamic dimensions.
ir::Graph import_onnx(const std::string& path, const ImportOptions& options = {});
ir::Graph import_onnx_bytes(std::span<const std::byte> bytes, const std::string& what,
                            const ImportOptions& options = {});

}  // namespace crowdrt::onnx_import
