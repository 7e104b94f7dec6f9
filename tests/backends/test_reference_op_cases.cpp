// Every reference kernel against PyTorch on the cases tests/reference/make_op_cases.py writes (CTest fixture
// op_cases): max |reference - PyTorch| <= 1e-5 * max(1, max |PyTorch|).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "core/npy.h"
#include "reference_op_runner.h"

namespace crowdrt {
namespace {

const std::filesystem::path kCaseDir = std::filesystem::path(CROWDRT_TEST_DATA) / "ops";

// JSON integers are int attributes, floats float attributes, arrays int or float lists (floats if any is).
ir::Attributes attributes_from_json(const nlohmann::json& json) {
  ir::Attributes attrs;
  for (const auto& [name, value] : json.items()) {
    if (value.is_string()) {
      attrs.set(name, value.get<std::string>());
    } else if (value.is_number_float()) {
      attrs.set(name, value.get<float>());
    } else if (value.is_number_integer()) {
      attrs.set(name, value.get<int64_t>());
    } else if (value.is_array()) {
      const bool any_float = std::any_of(value.begin(), value.end(), [](const auto& v) { return v.is_number_float(); });
      if (any_float) attrs.set(name, value.get<std::vector<float>>());
      else attrs.set(name, value.get<std::vector<int64_t>>());
    } else {
      throw Error(cat("attribute ", name, " has an unsupported JSON type in ", (kCaseDir / "cases.json").string()));
    }
  }
  return attrs;
}

nlohmann::json load_cases() {
  const auto path = kCaseDir / "cases.json";
  std::ifstream in(path);
  if (!in)
    throw Error(cat(path.string(), " is missing: run `ctest -R op_cases` (or /usr/bin/python3 "
                    "tests/reference/make_op_cases.py ", kCaseDir.string(), ") first"));
  return nlohmann::json::parse(in)["cases"];
}

TEST(ReferenceOpCases, EveryKernelMatchesPyTorch) {
  const nlohmann::json cases = load_cases();
  std::set<std::string> ops_seen;
  for (const auto& c : cases) {
    const std::string name = c["name"];
    SCOPED_TRACE(name);
    ir::Op op;
    ASSERT_TRUE(ir::op_from_name(c["op"], &op)) << c["op"];
    ops_seen.insert(c["op"]);
    std::vector<std::optional<Tensor>> inputs;
    for (const auto& file : c["inputs"]) {
      if (file.is_null()) inputs.emplace_back(std::nullopt);
      else inputs.emplace_back(read_npy((kCaseDir / file.get<std::string>()).string()));
    }
    const Tensor expected = read_npy((kCaseDir / c["output"].get<std::string>()).string());
    Tensor actual;
    try {
      actual = test::run_op(op, attributes_from_json(c["attrs"]), inputs, expected.shape());
    } catch (const Error& e) {
      ADD_FAILURE() << e.what();
      continue;
    }
    const float tolerance = 1e-5f * std::max(1.f, test::max_abs(expected));
    EXPECT_LE(test::max_abs_difference(actual, expected), tolerance) << c["op"] << " " << c["attrs"].dump();
  }
  // The generator covers every compute op the reference backend has a kernel for (Identity aside).
  for (const char* op : {"Conv", "ConvTranspose", "BatchNormalization", "Relu", "LeakyRelu", "Clip", "Sigmoid",
                         "HardSigmoid", "HardSwish", "Add", "Sub", "Mul", "Div", "Concat", "MaxPool", "AveragePool",
                         "GlobalAveragePool", "ReduceMean", "Resize", "Pad"})
    EXPECT_TRUE(ops_seen.count(op)) << "no PyTorch case for " << op;
}

}  // namespace
}  // namespace crowdrt
