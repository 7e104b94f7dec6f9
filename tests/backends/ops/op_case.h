// One op's test cases, written once for every backend: each tests/backends/ops/<op>_cases.cpp returns its cases
// (graph builder, input shape, attributes, tolerance per precision) and test_backend_ops runs every backend in
// every precision on them against ReferenceBackend in fp32. A new op adds one <op>_cases.cpp and one line in
// op_cases.cpp's table.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "../graph_maker.h"
#include "backends/backend.h"

namespace crowdrt::test::ops {

// Bound on max|backend - reference| over every output, as a fraction of max(1, max|reference|), by the precision
// the backend was permitted. The defaults are the bounds the per-backend tests held before this harness: fp32 is
// reordered float sums (the CPU tests' 1e-4), fp16 and bf16 round each stored value to 11 and 8 significant bits,
// int8 steps of amax / 127 with weights quantised per output channel.
struct Tolerance {
  float fp32 = 1e-4f, fp16 = 1e-2f, bf16 = 3e-2f, int8 = 5e-2f;
  float of(Precision precision) const;
};

// Where the op under test reads its input x from. graph_input: the plain NCHW float32 input; after_conv: the
// output of a 1x1 convolution of the same channels, in the layout the backend chose for it (oneDNN's blocked
// layouts, the GPU's NHWC); between_convs: x is a 1x1 convolution to 16 channels and the op's output feeds another,
// so that int8 engines keep the op's input and output int8 (the GPU stores values int8 only between
// convolutions, in multiples of 16 channels). between_convs runs in int8 only.
enum class Placement { graph_input, after_conv, between_convs };
const char* placement_name(Placement placement);

using Build = std::function<ir::ValueId(GraphMaker& g, ir::ValueId x, const Shape& shape)>;

struct OpCase {
  ir::Op op;         // the op under test: the nodes of this op that `build` adds are the ones checked for support
  std::string name;  // what sets the case apart: "nearest half_pixel floor scales 0.5x0.75"
  Shape input;       // the shape of x (between_convs keeps its batch and plane, with 16 channels)
  Build build;       // adds the op's node(s) reading x; returns the value that becomes the graph output (a builder
                     // may make other values graph outputs itself with g.output)
  Tolerance tolerance = {};
  std::vector<Placement> placements = {Placement::graph_input, Placement::after_conv, Placement::between_convs};
};

// The input shapes every op is tested on unless its cases say otherwise: odd channel counts and planes (so that no
// kernel gets by on a power of two or a whole vector), one pixel, a wide 64-channel input, a batch of two.
const std::vector<Shape>& op_shapes();

// One case per shape of `shapes` (op_shapes() by default) that `fits` accepts (all when null); the shape is
// appended to the name.
std::vector<OpCase> on_shapes(ir::Op op, const std::string& name, Build build,
                              std::function<bool(const Shape&)> fits = nullptr, Tolerance tolerance = {},
                              const std::vector<Shape>& shapes = op_shapes());

// Every op's cases, in the table's order (op_cases.cpp lists the case files).
std::vector<OpCase> all_op_cases();

}  // namespace crowdrt::test::ops
