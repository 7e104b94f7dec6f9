// libFuzzer target: plan loading past the checksum, structure-aware. The input is a plan without its last 8 bytes;
// the target appends the checksum, so every input reaches the header. Our mutator parses the plan's JSON header and
// changes its graph the way an edited plan differs from a built one (shapes, dtypes, weight offsets and sizes, which
// values a node reads and writes, attributes, op names, nodes dropped or repeated, calibrated ranges), then writes
// the plan again. parse_plan must refuse what the validator refuses; what it accepts must pass what `inspect` reads
// (MACs, parameters, precision mix) and load and run on the reference backend.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <random>
#include <vector>

#include "core/hash.h"
#include "engine/builder.h"
#include "engine/runtime.h"
#include "fuzz_seed_files.h"
#include "ir/graph_stats.h"
#include "mutant.h"
#include "onnx_seeds.h"


namespace {
constexpr size_t kFixedHeader = 24;  // magic, version, reserved, header length (engine/plan.h)
constexpr int64_t kMaxRunMacs = 2'000'000;

// The seed ONNX models built on the reference backend, each a plan without its checksum.
const std::vector<std::string>& seed_plans() {
  static const std::vector<std::string> plans = [] {
    std::vector<std::string> out;
    const std::string path = "/tmp/crowdrt-fuzz-plan-seed-" + std::to_string(getpid()) + ".onnx";
    for (const auto& [name, model] : crowdrt::fuzz::onnx_seeds()) {
      std::ofstream(path, std::ios::binary) << model.SerializeAsString();
      crowdrt::BuildOptions options;
      options.device = "ref";
      options.threads = 1;
      options.time_tactics = false;
      const std::vector<std::byte> bytes = crowdrt::serialize_plan(crowdrt::build_plan(path, options));
      out.emplace_back(reinterpret_cast<const char*>(bytes.data()), bytes.size() - 8);
    }
    unlink(path.c_str());
    return out;
  }();
  return plans;
}

crowdrt::fuzz::SeedList seeds() {
  crowdrt::fuzz::SeedList out;
  for (size_t i = 0; i < seed_plans().size(); ++i)
    out.emplace_back("seed" + std::to_string(i) + ".plan", seed_plans()[i]);
  return out;
}

uint64_t get_u64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(p[i]) << (8 * i);
  return v;
}

class PlanMutator {
 public:
  explicit PlanMutator(unsigned seed) : rng_(seed) {}

  size_t mutate(uint8_t* data, size_t size, size_t max_size) {
    if (pick(5) == 0) return LLVMFuzzerMutate(data, size, max_size);
    std::string plan(reinterpret_cast<const char*>(data), size);
    nlohmann::json header;
    std::string weights;
    if (!split(plan, &header, &weights)) {
      plan = seed_plans()[pick(seed_plans().size())];
      if (!split(plan, &header, &weights)) return LLVMFuzzerMutate(data, size, max_size);
    }
    try {  // a header that byte mutation left valid JSON of another layout (a node that is a number, ...)
      for (size_t n = 1 + pick(3); n > 0; --n) mutate_once(header);
    } catch (const nlohmann::json::exception&) {
      return LLVMFuzzerMutate(data, size, max_size);
    }
    return crowdrt::fuzz::write_mutant(join(header, weights), data, size, max_size);
  }

 private:
  size_t pick(size_t n) { return n == 0 ? 0 : std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }
  int64_t interesting_int() {
    static const int64_t values[] = {0, 1, 2, 3, 4, 8, 16, -1, -2, int64_t{1} << 31, int64_t{1} << 40,
                                     (int64_t{1} << 62) + 4, std::numeric_limits<int64_t>::max(),
                                     std::numeric_limits<int64_t>::min()};
    return pick(3) == 0 ? static_cast<int64_t>(pick(40)) - 8 : values[pick(std::size(values))];
  }
  double interesting_float() {
    static const double values[] = {0.0, -1.0, 1.0, 1e-45, 1e-40, 3.4028234663852886e38, 1e39, 0.5, 127.0};
    return values[pick(std::size(values))];
  }

  static bool split(const std::string& plan, nlohmann::json* header, std::string* weights) {
    if (plan.size() < kFixedHeader || plan.compare(0, 8, "CRWDPLAN") != 0) return false;
    const uint64_t length = get_u64(reinterpret_cast<const uint8_t*>(plan.data()) + 16);
    if (length > plan.size() - kFixedHeader) return false;
    *header = nlohmann::json::parse(plan.substr(kFixedHeader, length), nullptr, false);
    if (header->is_discarded() || !header->is_object() || !header->contains("graph")) return false;
    const size_t weights_at = (kFixedHeader + length + 63) / 64 * 64;
    *weights = weights_at <= plan.size() ? plan.substr(weights_at) : std::string();
    return true;
  }
  static std::string join(const nlohmann::json& header, const std::string& weights) {
    const std::string text = header.dump();
    std::string out(kFixedHeader, '\0');
    std::memcpy(out.data(), "CRWDPLAN", 8);
    out[8] = 1;  // kPlanFormatVersion
    for (int i = 0; i < 8; ++i) out[16 + i] = static_cast<char>((text.size() >> (8 * i)) & 0xff);
    out += text;
    out.resize((out.size() + 63) / 64 * 64, '\0');
    return out + weights;
  }

  nlohmann::json* some(nlohmann::json& array) {
    return array.is_array() && !array.empty() ? &array[pick(array.size())] : nullptr;
  }

  void mutate_once(nlohmann::json& header) {
    nlohmann::json& graph = header["graph"];
    nlohmann::json& values = graph["values"];
    nlohmann::json& nodes = graph["nodes"];
    const int64_t value_count = values.is_array() ? static_cast<int64_t>(values.size()) : 0;
    auto value_index = [&] { return static_cast<int64_t>(pick(static_cast<size_t>(value_count) + 3)) - 2; };
    switch (pick(9)) {
      case 0:  // a value's shape
        if (nlohmann::json* v = some(values); v && (*v)["shape"].is_array()) {
          nlohmann::json& shape = (*v)["shape"];
          if (shape.empty() || pick(5) == 0) shape.push_back(interesting_int());
          else if (pick(5) == 0) shape.erase(shape.size() - 1);
          else shape[pick(shape.size())] = interesting_int();
        }
        break;
      case 1:  // a value's type, or a constant's place in the weights
        if (nlohmann::json* v = some(values)) {
          static const char* types[] = {"f32", "f16", "i64", "u8", "bool", "f64", "x"};
          if (pick(2) == 0) (*v)["dtype"] = types[pick(std::size(types))];
          else
            (*v)[pick(2) == 0 ? "offset" : "bytes"] =
                pick(2) == 0 ? interesting_int() : static_cast<int64_t>(pick(4096));
        }
        break;
      case 2:  // which value a node reads
        if (nlohmann::json* n = some(nodes); n && (*n)["inputs"].is_array()) {
          nlohmann::json& in = (*n)["inputs"];
          if (in.empty() || pick(4) == 0) in.push_back(value_index());
          else if (pick(3) == 0) in = nlohmann::json::array();  // e.g. a Conv without inputs
          else if (pick(2) == 0) in.erase(in.size() - 1);
          else in[pick(in.size())] = value_index();
        }
        break;
      case 3:  // which value a node writes
        if (nlohmann::json* n = some(nodes); n && (*n)["outputs"].is_array()) {
          nlohmann::json& out = (*n)["outputs"];
          if (out.empty() || pick(4) == 0) out.push_back(value_index());
          else out[pick(out.size())] = value_index();
        }
        break;
      case 4:  // an attribute
        if (nlohmann::json* n = some(nodes); n && (*n)["attrs"].is_object()) {
          nlohmann::json& attrs = (*n)["attrs"];
          static const char* names[] = {"strides", "dilations", "pads", "kernel_shape", "group", "axis", "scales",
                                        "alpha", "min", "max", "fused_add", "activation", "in_place", "mode"};
          const std::string name = attrs.empty() || pick(3) == 0 ? names[pick(std::size(names))]
                                                                 : std::next(attrs.begin(), pick(attrs.size())).key();
          switch (pick(5)) {
            case 0: attrs[name] = {{"i", interesting_int()}}; break;
            case 1: attrs[name] = {{"f", interesting_float()}}; break;
            case 2: {
              nlohmann::json ints = nlohmann::json::array();
              for (size_t k = pick(5); k > 0; --k) ints.push_back(interesting_int());
              attrs[name] = {{"ints", ints}};
              break;
            }
            case 3:
              attrs[name] = {
                  {"floats", {interesting_float(), interesting_float(), interesting_float(), interesting_float()}}};
              break;
            case 4: attrs[name] = {{"s", pick(2) == 0 ? "relu" : "nearest"}}; break;
          }
        }
        break;
      case 5:  // an op name
        if (nlohmann::json* n = some(nodes)) {
          static const char* ops[] = {"Conv", "ConvTranspose", "Relu", "Add", "Concat", "MaxPool", "AveragePool",
                                      "Resize", "Pad", "BatchNormalization", "Shape", "Identity", "Sigmoid", "Mul",
                                      "ReduceMean", "GlobalAveragePool", "Reshape"};
          (*n)["op"] = ops[pick(std::size(ops))];
        }
        break;
      case 6:  // drop, repeat or move a node
        if (nodes.is_array() && !nodes.empty()) {
          const size_t i = pick(nodes.size());
          if (pick(3) == 0) nodes.push_back(nodes[i]);
          else if (pick(2) == 0) nodes.erase(i);
          else std::swap(nodes[i], nodes[pick(nodes.size())]);
        }
        break;
      case 7:  // the graph's inputs and outputs
        if (nlohmann::json& io = graph[pick(2) == 0 ? "inputs" : "outputs"]; io.is_array()) {
          if (io.empty() || pick(3) == 0) io.push_back(value_index());
          else io[pick(io.size())] = value_index();
        }
        break;
      case 8:  // calibrated ranges, the weights' size
        if (pick(2) == 0) header["calibration"]["activation_amax"][pick(2) == 0 ? "c1" : "input"] = interesting_float();
        else header["weights_bytes"] = pick(2) == 0 ? interesting_int() : static_cast<int64_t>(pick(100000));
        break;
    }
  }

  std::minstd_rand rng_;
};
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) { return crowdrt::fuzz::initialise(seeds); }

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size, unsigned int seed) {
  return PlanMutator(seed).mutate(data, size, max_size);
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::byte> bytes(reinterpret_cast<const std::byte*>(data),
                               reinterpret_cast<const std::byte*>(data) + size);
  const uint64_t sum = crowdrt::hash_bytes(bytes);
  for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<std::byte>((sum >> (8 * i)) & 0xff));
  try {
    crowdrt::Plan plan = crowdrt::parse_plan(bytes, "fuzz.plan");
    // What `crowdrt inspect` reads from a plan.
    crowdrt::ir::graph_macs(plan.graph);
    crowdrt::ir::graph_parameters(plan.graph);
    for (const crowdrt::ir::Node& node : plan.graph.nodes()) crowdrt::ir::node_macs(plan.graph, node);
    crowdrt::precision_mix(plan).text();
    crowdrt::Engine engine(std::move(plan), crowdrt::RuntimeOptions{1}, "fuzz.plan");
    if (crowdrt::ir::graph_macs(engine.plan().graph) <= kMaxRunMacs && engine.inputs().size() == 1 &&
        engine.outputs().size() == 1)
      engine.infer(crowdrt::Tensor(crowdrt::DType::f32, engine.inputs()[0].shape));
  } catch (const crowdrt::Error&) {
  }
  return 0;
}
