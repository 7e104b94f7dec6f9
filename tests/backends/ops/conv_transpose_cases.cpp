// ConvTranspose: strides with and without output padding, pads, groups, no bias, a single pixel; and the GPU tests'
// 2x2 stride-2 upsampling on every shape.
#include "op_case.h"

namespace crowdrt::test::ops {
namespace {

struct ConvTransposeCase {
  int64_t in_channels, out_channels, height, width, kernel, stride, group;
  std::vector<int64_t> pads, output_padding;
  bool bias = true;
};

OpCase conv_transpose_case(const ConvTransposeCase& c) {
  Build build = [c](GraphMaker& g, ir::ValueId x, const Shape&) {
    ir::Attributes a;
    a.set("kernel_shape", ints({c.kernel, c.kernel}));
    a.set("strides", ints({c.stride, c.stride}));
    a.set("dilations", ints({1, 1}));
    a.set("pads", c.pads);
    a.set("output_padding", c.output_padding);
    a.set("group", c.group);
    return g.node(ir::Op::ConvTranspose,
                  {x, g.weight({c.in_channels, c.out_channels / c.group, c.kernel, c.kernel}),
                   c.bias ? g.weight({c.out_channels}) : ir::kNoValue},
                  a);
  };
  const Shape input = {1, c.in_channels, c.height, c.width};
  OpCase result{ir::Op::ConvTranspose,
                cat(c.in_channels, "->", c.out_channels, " channels k", c.kernel, " s", c.stride, " g", c.group,
                    " pads ", shape_str(c.pads), " output padding ", shape_str(c.output_padding),
                    c.bias ? "" : " no bias", " on ", shape_str(input)),
                input, build};
  result.placements = {Placement::graph_input, Placement::after_conv};  // its weights fix the input's channels
  return result;
}

}  // namespace

std::vector<OpCase> conv_transpose_cases() {
  std::vector<OpCase> cases;
  for (const ConvTransposeCase& c : {ConvTransposeCase{64, 32, 7, 9, 2, 2, 1, {0, 0, 0, 0}, {0, 0}},
                                     ConvTransposeCase{5, 3, 7, 9, 3, 2, 1, {1, 1, 1, 1}, {1, 1}},
                                     ConvTransposeCase{17, 13, 33, 17, 3, 1, 1, {0, 1, 2, 0}, {0, 0}, false},
                                     ConvTransposeCase{16, 8, 7, 9, 4, 2, 2, {1, 1, 1, 1}, {0, 0}},
                                     ConvTransposeCase{1, 1, 1, 1, 3, 3, 1, {0, 0, 0, 0}, {2, 1}}})
    cases.push_back(conv_transpose_case(c));
  for (OpCase& c :
       on_shapes(ir::Op::ConvTranspose, "->6 channels k2 s2", [](GraphMaker&g, ir::ValueId x, const Shape&s) {
         ir::Attributes a;
         a.set("kernel_shape", ints({2, 2}));
         a.set("strides", ints({2, 2}));
         return g.node(ir::Op::ConvTranspose, {x, g.weight({s[1], 6, 2, 2}), g.weight({6})}, a);
       }))
    cases.push_back(std::move(c));
  return cases;
}

}  // namespace crowdrt::test::ops
