// The table of every op's cases, and what the case files share.
#include "op_case.h"

namespace crowdrt::test::ops {

float Tolerance::of(Precision precision) const {
  switch (precision) {
    case Precision::fp32: return fp32;
    case Precision::fp16: return fp16;
    case Precision::bf16: return bf16;
    case Precision::int8: return int8;
  }
  return fp32;
}

const char* placement_name(Placement placement) {
  switch (placement) {
    case Placement::graph_input: return "on the graph input";
    case Placement::after_conv: return "after a conv";
    case Placement::between_convs: return "between convs";
  }
  return "?";
}

const std::vector<Shape>& op_shapes() {
  static const std::vector<Shape> shapes = {{1, 1, 1, 1},   {1, 3, 7, 9},   {1, 5, 33, 17},  {1, 13, 7, 9},
                                            {1, 17, 33, 17}, {1, 64, 7, 9}, {1, 16, 12, 10}, {2, 17, 9, 11}};
  return shapes;
}

std::vector<OpCase> on_shapes(ir::Op op, const std::string& name, Build build, std::function<bool(const Shape&)> fits,
                              Tolerance tolerance, const std::vector<Shape>& shapes) {
  std::vector<OpCase> cases;
  for (const Shape& shape : shapes)
    if (!fits || fits(shape)) cases.push_back({op, cat(name, name.empty() ? "" : " ", "on ", shape_str(shape)), shape,
                                               build, tolerance});
  return cases;
}

// Each op family's cases, one file each (<op>_cases.cpp).
std::vector<OpCase> conv_cases();
std::vector<OpCase> conv_transpose_cases();
std::vector<OpCase> batch_normalization_cases();
std::vector<OpCase> activation_cases();
std::vector<OpCase> binary_cases();
std::vector<OpCase> pool_cases();
std::vector<OpCase> reduce_mean_cases();
std::vector<OpCase> resize_cases();
std::vector<OpCase> pad_cases();
std::vector<OpCase> concat_cases();

std::vector<OpCase> all_op_cases() {
  std::vector<OpCase> all;
  for (auto family : {conv_cases, conv_transpose_cases, batch_normalization_cases, activation_cases, binary_cases,
                      pool_cases, reduce_mean_cases, resize_cases, pad_cases, concat_cases}) {
    std::vector<OpCase> cases = family();
    all.insert(all.end(), std::make_move_iterator(cases.begin()), std::make_move_iterator(cases.end()));
  }
  return all;
}

}  // namespace crowdrt::test::ops
