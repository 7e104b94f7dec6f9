// Resize: nearest in every coordinate transform x nearest mode, linear in every transform it has, each at an integer
// upscale, a non-integer one (3 x 1.5) and a non-integer downscale (0.5 x 0.75). Its 72 variants make the most runs
// of any op, so they run on six of the shapes every op has: not 1x13x7x9 (the 3 and 5 channel shapes stand for a
// part of a channel block) nor 1x17x33x17 (2x17x9x11 stands for a block and a part).
#include "op_case.h"

namespace crowdrt::test::ops {

std::vector<OpCase> resize_cases() {
  const std::vector<std::string> transforms = {"half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric",
                                               "tf_half_pixel_for_nearest"};
  const std::vector<std::string> nearest_modes = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};
  const std::vector<std::pair<float, float>> scales = {{2.f, 2.f}, {3.f, 1.5f}, {0.5f, 0.75f}};
  std::vector<Shape> shapes;
  for (const Shape& s : op_shapes())
    if (s[1] != 13 && s[1] != 17) shapes.push_back(s);
  shapes.push_back({2, 17, 9, 11});
  std::vector<OpCase> cases;
  for (const std::string& mode : {std::string("nearest"), std::string("linear")})
    for (const std::string& transform : transforms)
      for (const std::string& nearest : mode == "nearest" ? nearest_modes : std::vector<std::string>{"floor"})
        for (const auto& [sh, sw] : scales) {
          if (mode == "linear" && transform == "tf_half_pixel_for_nearest") continue;
          ir::Attributes a;
          a.set("mode", mode);
          a.set("coordinate_transformation_mode", transform);
          a.set("nearest_mode", nearest);
          a.set("scales", std::vector<float>{1.f, 1.f, sh, sw});
          const float scale_h = sh, scale_w = sw;
          const std::string name = cat(mode, " ", transform, mode == "nearest" ? " " + nearest : "", " scales ", sh,
                                       "x", sw);
          for (OpCase& c : on_shapes(
                   ir::Op::Resize, name,
                   [a](GraphMaker& g, ir::ValueId x, const Shape&) { return g.node(ir::Op::Resize, {x}, a); },
                   [scale_h, scale_w](const Shape& s) { return s[2] * scale_h >= 1 && s[3] * scale_w >= 1; }, {},
                   shapes))
            cases.push_back(std::move(c));
        }
  return cases;
}

}  // namespace crowdrt::test::ops
