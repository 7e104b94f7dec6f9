// Output shapes and dtypes of every node from its inputs' (static shapes only, batch included).
#pragma once
#include "ir/graph.h"

namespace crowdrt::ir {

// Sets value shapes of the node's outputs; Error naming the node when inputs are inconsistent.
// Resize needs its output size known (canonical attributes or constant scales/sizes inputs).
void infer_node_shapes(Graph& graph, const Node& node);
// Runs infer_node_shapes over the graph in order.
void infer_shapes(Graph& graph);

// Transpose's permutation: the perm attribute, or the axes reversed when it is absent.
std::vector<int64_t> transpose_perm(const Attributes& attrs, size_t rank);

}  // namespace crowdrt::ir

namespace crowdrt::ir {

// Explicit pads (begin..., end...) of a Conv or pool for ONNX auto_pad NOTSET (the given pads, zeros when
// absent), VALID, SAME_UPPER and SAME_LOWER (extra padding at the end / at the beginning).
std::vector<int64_t> explicit_pads(const Shape& spatial_in, const std::vector<int64_t>& kernel,
                                   const std::vector<int64_t>& strides, const std::vector<int64_t>& dilations,
                                   const std::string& auto_pad, const std::vector<int64_t>& pads);

// What a Slice node takes along each dimension of its data (all dimensions, untouched ones in full);
// starts/ends/axes/steps from attributes (opset < 10) or constant inputs, clamped as ONNX specifies.
struct SliceRange {
  int64_t start = 0;
  int64_t step = 1;
  int64_t count = 0;
};
std::vector<SliceRange> slice_ranges(const Graph& graph, const Node& node);

}  // namespace crowdrt::ir
