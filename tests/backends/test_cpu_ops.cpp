// CpuBackend's non-convolution ops against the reference, each on a graph input (plain layout) and after a
// convolution (the layout oneDNN chose), over odd channel counts and sizes.
#include <limits>

#include "test_cpu_harness.h"

namespace crowdrt::test {
namespace {

const std::vector<Shape> kShapes = {{1, 1, 1, 1}, {1, 3, 7, 9}, {1, 5, 33, 17}, {1, 13, 7, 9}, {1, 17, 33, 17},
                                    {1, 64, 7, 9}};

// A 1x1 convolution, so that what follows reads oneDNN's layout rather than the graph input's.
ir::ValueId after_conv(GraphMaker& g, ir::ValueId x, int64_t channels) {
  ir::Attributes pointwise;
  pointwise.set("kernel_shape", ints({1, 1}));
  return g.node(ir::Op::Conv, {x, g.weight({channels, channels, 1, 1})}, pointwise);
}

// Runs `op` on every shape, from the graph input and after a convolution.
template <class Build>
void for_every_shape(Build build) {
  for (const Shape& shape : kShapes)
    for (bool blocked : {false, true}) {
      SCOPED_TRACE(cat(shape_str(shape), blocked ? " after conv" : " on the graph input"));
      GraphMaker g;
      ir::ValueId x = g.input(shape);
      if (blocked) x = after_conv(g, x, shape[1]);
      g.output(build(g, x, shape));
      expect_cpu_matches_reference(g.graph);
    }
}

TEST(CpuOps, EveryStandaloneActivationMatchesReference) {
  ir::Attributes leaky, clip, clip_lower, hard_sigmoid;
  leaky.set("alpha", 0.2f);
  clip.set("min", -0.3f);
  clip.set("max", 0.6f);
  clip_lower.set("min", 0.1f);
  clip_lower.set("max", std::numeric_limits<float>::infinity());
  hard_sigmoid.set("alpha", 0.3f);
  hard_sigmoid.set("beta", 0.4f);
  const std::vector<std::pair<ir::Op, ir::Attributes>> ops = {
      {ir::Op::Relu, {}},           {ir::Op::LeakyRelu, leaky}, {ir::Op::Clip, clip},     {ir::Op::Clip, clip_lower},
      {ir::Op::Sigmoid, {}},        {ir::Op::HardSigmoid, hard_sigmoid}, {ir::Op::HardSwish, {}}, {ir::Op::Identity, {}}};
  for (const auto& [op, attrs] : ops) {
    SCOPED_TRACE(ir::op_name(op));
    for_every_shape([&](GraphMaker& g, ir::ValueId x, const Shape&) { return g.node(op, {x}, attrs); });
  }
}

TEST(CpuOps, BatchNormalizationWithGlobalStatisticsMatchesReference) {
  for_every_shape([](GraphMaker& g, ir::ValueId x, const Shape& s) {
    ir::Attributes eps;
    eps.set("epsilon", 1e-3f);
    const ir::ValueId var = g.graph.add_constant(cat("var", g.graph.value_count()), random_tensor({s[1]}, 5, 0.5f, 2.f));
    return g.node(ir::Op::BatchNormalization, {x, g.weight({s[1]}), g.weight({s[1]}), g.weight({s[1]}), var}, eps);
  });
}

TEST(CpuOps, BinaryOpsBroadcastEitherOperandAndMatchReference) {
  for (ir::Op op : {ir::Op::Add, ir::Op::Sub, ir::Op::Mul, ir::Op::Div}) {
    SCOPED_TRACE(ir::op_name(op));
    // full + full (both computed), full op per-channel constant, per-channel constant op full (first
    // operand broadcast), full op lower-rank constant, full op scalar, full op computed spatial map.
    for_every_shape([&](GraphMaker& g, ir::ValueId x, const Shape& s) {
      auto positive = [&](Shape shape) {
        return g.graph.add_constant(cat("k", g.graph.value_count()), random_tensor(std::move(shape), 9, 0.5f, 1.5f));
      };
      ir::ValueId y = g.node(op, {x, g.node(ir::Op::Sigmoid, {x})});
      y = g.node(op, {y, positive({1, s[1], 1, 1})});
      y = g.node(op, {positive({1, s[1], 1, 1}), y});
      y = g.node(op, {y, positive({s[1], 1, 1})});
      y = g.node(op, {y, positive({1})});
      ir::Attributes mean_over_channels;
      mean_over_channels.set("axes", ints({1}));
      mean_over_channels.set("keepdims", int64_t{1});
      const ir::ValueId map = g.node(ir::Op::Sigmoid, {g.node(ir::Op::ReduceMean, {x}, mean_over_channels)});
      y = g.node(op, {y, g.node(ir::Op::Add, {map, positive({1})})});
      return g.node(op, {g.node(ir::Op::Add, {map, positive({1})}), y});
    });
  }
}

TEST(CpuOps, PoolsMatchReferenceWithStridesPadsDilationsAndCeilMode) {
  struct PoolCase {
    ir::Op op;
    std::vector<int64_t> kernel, strides, pads, dilations;
    int64_t ceil_mode, count_include_pad;
  };
  const std::vector<PoolCase> cases = {
      {ir::Op::MaxPool, {3, 3}, {2, 2}, {1, 1, 1, 1}, {1, 1}, 0, 0},  // resnet stem
      {ir::Op::MaxPool, {2, 2}, {2, 2}, {0, 0, 0, 0}, {1, 1}, 1, 0},
      {ir::Op::MaxPool, {3, 2}, {1, 2}, {0, 1, 1, 0}, {2, 1}, 0, 0},
      {ir::Op::MaxPool, {3, 3}, {2, 2}, {1, 1, 0, 0}, {1, 1}, 1, 0},
      {ir::Op::AveragePool, {3, 3}, {2, 2}, {1, 1, 1, 1}, {1, 1}, 0, 1},
      {ir::Op::AveragePool, {3, 3}, {2, 2}, {1, 1, 1, 1}, {1, 1}, 0, 0},
      {ir::Op::AveragePool, {2, 3}, {2, 2}, {0, 1, 0, 1}, {1, 1}, 1, 0},
      {ir::Op::AveragePool, {2, 2}, {2, 2}, {1, 0, 1, 0}, {1, 1}, 0, 1},
  };
  for (const PoolCase& c : cases) {
    SCOPED_TRACE(cat(ir::op_name(c.op), " k", shape_str(c.kernel), " s", shape_str(c.strides), " pads",
                     shape_str(c.pads), " ceil", c.ceil_mode, " include_pad", c.count_include_pad));
    for_every_shape([&](GraphMaker& g, ir::ValueId x, const Shape& s) {
      ir::Attributes a;
      a.set("kernel_shape", c.kernel);
      a.set("strides", c.strides);
      a.set("pads", c.pads);
      if (c.op == ir::Op::MaxPool) a.set("dilations", c.dilations);
      a.set("ceil_mode", c.ceil_mode);
      a.set("count_include_pad", c.count_include_pad);
      // a pool window must fit the (padded) input
      if (s[2] + c.pads[0] + c.pads[2] < (c.kernel[0] - 1) * c.dilations[0] + 1 ||
          s[3] + c.pads[1] + c.pads[3] < (c.kernel[1] - 1) * c.dilations[1] + 1)
        return g.node(ir::Op::Relu, {x});
      return g.node(c.op, {x}, a);
    });
  }
  for_every_shape([](GraphMaker& g, ir::ValueId x, const Shape&) { return g.node(ir::Op::GlobalAveragePool, {x}); });
}

TEST(CpuOps, ReduceMeanMatchesReferenceWithAndWithoutKeptAxes) {
  for (const auto& [axes, keepdims] : std::vector<std::pair<std::vector<int64_t>, int64_t>>{
           {{2, 3}, 1}, {{1}, 0}, {{1, 2, 3}, 1}, {{3}, 0}}) {
    SCOPED_TRACE(cat("axes ", shape_str(axes), " keepdims ", keepdims));
    for_every_shape([&](GraphMaker& g, ir::ValueId x, const Shape&) {
      ir::Attributes a;
      a.set("axes", axes);
      a.set("keepdims", keepdims);
      return g.node(ir::Op::ReduceMean, {x}, a);
    });
  }
}

TEST(CpuOps, ResizeMatchesReferenceInEveryModeAndCoordinateTransform) {
  const std::vector<std::string> transforms = {"half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric",
                                               "tf_half_pixel_for_nearest"};
  const std::vector<std::string> nearest_modes = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};
  const std::vector<std::pair<float, float>> scales = {{2.f, 2.f}, {3.f, 1.5f}, {0.5f, 0.75f}};
  for (const std::string& mode : {std::string("nearest"), std::string("linear")})
    for (const std::string& transform : transforms)
      for (const std::string& nearest : mode == "nearest" ? nearest_modes : std::vector<std::string>{"floor"})
        for (const auto& [sh, sw] : scales) {
          if (mode == "linear" && transform == "tf_half_pixel_for_nearest") continue;
          SCOPED_TRACE(cat(mode, " ", transform, " ", nearest, " scales ", sh, "x", sw));
          for_every_shape([&](GraphMaker& g, ir::ValueId x, const Shape& s) {
            if (s[2] * sh < 1 || s[3] * sw < 1) return g.node(ir::Op::Relu, {x});
            ir::Attributes a;
            a.set("mode", mode);
            a.set("coordinate_transformation_mode", transform);
            a.set("nearest_mode", nearest);
            a.set("scales", std::vector<float>{1.f, 1.f, sh, sw});
            return g.node(ir::Op::Resize, {x}, a);
          });
        }
}

TEST(CpuOps, PadMatchesReferenceInEveryModeIncludingCrops) {
  const std::vector<std::vector<int64_t>> pad_sets = {{0, 0, 1, 2, 0, 0, 3, 0}, {0, 0, 2, 2, 0, 0, 2, 2},
                                                      {0, 0, -1, 1, 0, 0, 1, -1}};
  for (const char* mode : {"constant", "reflect", "edge"})
    for (const auto& pads : pad_sets) {
      SCOPED_TRACE(cat(mode, " pads ", shape_str(pads)));
      for_every_shape([&](GraphMaker& g, ir::ValueId x, const Shape& s) {
        if (s[2] < 3 || s[3] < 3) return g.node(ir::Op::Relu, {x});  // crops and reflections need room
        ir::Attributes a;
        a.set("mode", std::string(mode));
        a.set("pads", pads);
        a.set("value", 0.25f);
        return g.node(ir::Op::Pad, {x}, a);
      });
    }
}

TEST(CpuOps, ConcatAlongEveryAxisMatchesReference) {
  for (int64_t axis : {1, 2, 3})
    for_every_shape([&](GraphMaker& g, ir::ValueId x, const Shape&) {
      ir::Attributes a;
      a.set("axis", axis);
      return g.node(ir::Op::Concat, {x, g.node(ir::Op::Sigmoid, {x}), g.node(ir::Op::Relu, {x})}, a);
    });
}

}  // namespace
}  // namespace crowdrt::test
