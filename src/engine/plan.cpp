#include "engine/plan.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <map>

#include "core/checked.h"
#include "core/file.h"
#include "core/hash.h"
#include "ir/validate.h"

namespace crowdrt {
namespace {
constexpr char kMagic[8] = {'C', 'R', 'W', 'D', 'P', 'L', 'A', 'N'};
constexpr size_t kFixedHeader = 24;

size_t align64(size_t n) { return (n + 63) / 64 * 64; }

template <class T>
void put(std::vector<std::byte>& out, size_t at, T v) {
  for (size_t i = 0; i < sizeof(T); ++i)
    out[at + i] = static_cast<std::byte>((static_cast<uint64_t>(v) >> (8 * i)) & 0xff);
}
template <class T>
T get(std::span<const std::byte> in, size_t at) {
  uint64_t v = 0;
  for (size_t i = 0; i < sizeof(T); ++i) v |= static_cast<uint64_t>(in[at + i]) << (8 * i);
  return static_cast<T>(v);
}

nlohmann::json attr_to_json(const ir::Attr& a) {
  return std::visit(
      [](const auto& v) -> nlohmann::json {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, int64_t>) return {{"i", v}};
        else if constexpr (std::is_same_v<T, float>) return {{"f", v}};
        else if constexpr (std::is_same_v<T, std::string>) return {{"s", v}};
        else if constexpr (std::is_same_v<T, std::vector<int64_t>>) return {{"ints", v}};
        else return {{"floats", v}};
      },
      a);
}

// The plan's numbers read as the integers and floats they stand for: a number of another kind, or out of the type's
// range, is an Error, never a cast (a double cast to an integer or float it does not fit is undefined behaviour;
// fuzz_plan_graph found -9.2e18 where an attribute's integers were expected).
int64_t json_int64(const nlohmann::json& j) {
  if (j.is_number_unsigned() && j.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
    throw Error(cat("integer ", j.dump(), " is out of range"));
  if (!j.is_number_integer()) throw Error(cat("expected an integer, found ", j.dump().substr(0, 40)));
  return j.get<int64_t>();
}

size_t json_size(const nlohmann::json& j) {
  const int64_t v = json_int64(j);
  if (v < 0) throw Error(cat("expected a size, found ", v));
  return static_cast<size_t>(v);
}

float json_float(const nlohmann::json& j) {
  if (!j.is_number()) throw Error(cat("expected a number, found ", j.dump().substr(0, 40)));
  const double d = j.get<double>();
  if (std::fabs(d) > std::numeric_limits<float>::max())
    throw Error(cat("number ", j.dump(), " is out of float's range"));
  return static_cast<float>(d);
}

template <typename T, typename Read>
std::vector<T> json_list(const nlohmann::json& j, Read read) {
  if (!j.is_array()) throw Error(cat("expected a list, found ", j.dump().substr(0, 40)));
  std::vector<T> out;
  out.reserve(j.size());
  for (const nlohmann::json& e : j) out.push_back(read(e));
  return out;
}

ir::Attr attr_from_json(const nlohmann::json& j) {
  if (j.contains("i")) return json_int64(j.at("i"));
  if (j.contains("f")) {
    // JSON has no infinity: null stands for ±inf (sign kept in "neg").
    if (j.at("f").is_null()) return j.value("neg", false) ? -INFINITY : INFINITY;
    return json_float(j.at("f"));
  }
  if (j.contains("s")) return j.at("s").get<std::string>();
  if (j.contains("ints")) return json_list<int64_t>(j.at("ints"), json_int64);
  if (j.contains("floats")) return json_list<float>(j.at("floats"), json_float);
  throw Error("attribute without a known type");
}

// The calibrated ranges a plan carries reach the int8 kernels as scales: each finite, positive and normal.
void check_activation_amax(const nlohmann::json& header) {
  if (!header.contains("calibration")) return;
  const nlohmann::json& amax = header.at("calibration").value("activation_amax", nlohmann::json::object());
  if (!amax.is_object()) throw Error("calibration.activation_amax is not an object of tensor names");
  for (const auto& [name, value] : amax.items()) {
    const double d = value.is_number() ? value.get<double>() : NAN;
    const float a = std::fabs(d) <= std::numeric_limits<float>::max() ? static_cast<float>(d) : NAN;
    if (!std::isnormal(a) || a <= 0)
      throw Error(cat("the calibrated range of tensor '", name, "' is ", value.dump(),
                      ", not a finite positive normal number"));
  }
}
}  // namespace

nlohmann::json layers_to_json(const std::vector<LayerInfo>& layers) {
  nlohmann::json out = nlohmann::json::array();
  for (const LayerInfo& l : layers)
    out.push_back({{"node", l.node}, {"op", l.op}, {"kernel", l.kernel},
                   {"precision", precision_name(l.precision)}, {"layout", l.layout}, {"note", l.note},
                   {"tactic",
                    {{"algorithm", l.tactic.algorithm},
                     {"precision", l.tactic.precision},
                     {"int8_io", l.tactic.int8_io},
                     {"fused", l.tactic.fused},
                     {"reads_staging", l.tactic.reads_staging}}}});
  return out;
}

int PrecisionMix::at(Precision p) const {
  const auto it = count.find(p);
  return it == count.end() ? 0 : it->second;
}

std::string PrecisionMix::text() const {
  std::string out;
  for (Precision p : {Precision::int8, Precision::fp16, Precision::bf16, Precision::fp32})
    if (at(p) > 0) out += cat(out.empty() ? "" : ", ", at(p), " ", precision_name(p));
  return out.empty() ? "no layers" : out;
}

PrecisionMix precision_mix(const Plan& plan) {
  // A node's own kernel carries its name; a node run in stages names them "<node>:<i>" (the first stage counts).
  std::map<std::string, Precision> own, staged;
  for (const nlohmann::json& l : plan.header.value("layers", nlohmann::json::array())) {
    const std::string name = l.value("node", "");
    const Precision p = precision_from_name(l.value("precision", "fp32"));
    own.emplace(name, p);
    if (const size_t colon = name.rfind(':'); colon != std::string::npos) staged.emplace(name.substr(0, colon), p);
  }
  PrecisionMix mix;
  for (const ir::Node& node : plan.graph.nodes()) {
    const auto it = own.find(node.name);
    const auto stage = staged.find(node.name);
    ++mix.count[it != own.end() ? it->second : stage != staged.end() ? stage->second : Precision::fp32];
    ++mix.layers;
  }
  return mix;
}

std::vector<std::byte> serialize_plan(const Plan& plan) {
  const ir::Graph& g = plan.graph;
  // Only values the graph touches are written, renumbered densely in first-use order.
  std::map<ir::ValueId, int> index;
  std::vector<ir::ValueId> order;
  auto touch = [&](ir::ValueId v) {
    if (v != ir::kNoValue && !index.count(v)) {
      index[v] = static_cast<int>(order.size());
      order.push_back(v);
    }
  };
  for (ir::ValueId v : g.inputs()) touch(v);
  for (const ir::Node& n : g.nodes()) {
    for (ir::ValueId v : n.inputs) touch(v);
    for (ir::ValueId v : n.outputs) touch(v);
  }
  for (ir::ValueId v : g.outputs()) touch(v);
  auto id = [&](ir::ValueId v) { return v == ir::kNoValue ? -1 : index.at(v); };

  nlohmann::json values = nlohmann::json::array();
  size_t weights_bytes = 0;
  std::vector<std::pair<size_t, const Tensor*>> weights;
  for (ir::ValueId v : order) {
    const ir::Value& val = g.value(v);
    nlohmann::json jv = {{"name", val.name}, {"dtype", dtype_name(val.dtype)}, {"shape", val.shape}};
    if (val.is_constant()) {
      jv["offset"] = weights_bytes;
      jv["bytes"] = val.data->bytes();
      jv["dtype"] = dtype_name(val.data->dtype());
      jv["shape"] = val.data->shape();
      weights.emplace_back(weights_bytes, val.data.get());
      weights_bytes = align64(weights_bytes + val.data->bytes());
    }
    values.push_back(std::move(jv));
  }
  nlohmann::json nodes = nlohmann::json::array();
  for (const ir::Node& n : g.nodes()) {
    nlohmann::json attrs = nlohmann::json::object();
    for (const auto& [name, a] : n.attrs.all()) {
      nlohmann::json ja = attr_to_json(a);
      if (const float* f = std::get_if<float>(&a); f && std::isinf(*f)) ja = {{"f", nullptr}, {"neg", *f < 0}};
      attrs[name] = std::move(ja);
    }
    nlohmann::json ins = nlohmann::json::array(), outs = nlohmann::json::array();
    for (ir::ValueId v : n.inputs) ins.push_back(id(v));
    for (ir::ValueId v : n.outputs) outs.push_back(id(v));
    nodes.push_back(
        {{"name", n.name}, {"op", ir::op_name(n.op)}, {"inputs", ins}, {"outputs", outs}, {"attrs", attrs}});
  }
  nlohmann::json graph_inputs = nlohmann::json::array(), graph_outputs = nlohmann::json::array();
  for (ir::ValueId v : g.inputs()) graph_inputs.push_back(id(v));
  for (ir::ValueId v : g.outputs()) graph_outputs.push_back(id(v));

  nlohmann::json header = plan.header;
  header["format_version"] = kPlanFormatVersion;
  header["graph"] = {{"values", values}, {"nodes", nodes}, {"inputs", graph_inputs}, {"outputs", graph_outputs}};
  header["weights_bytes"] = weights_bytes;
  const std::string text = header.dump();

  const size_t weights_at = align64(kFixedHeader + text.size());
  std::vector<std::byte> out(weights_at + weights_bytes + 8, std::byte{0});
  std::memcpy(out.data(), kMagic, 8);
  put<uint32_t>(out, 8, kPlanFormatVersion);
  put<uint64_t>(out, 16, text.size());
  std::memcpy(out.data() + kFixedHeader, text.data(), text.size());
  for (const auto& [offset, tensor] : weights)
    if (tensor->bytes()) std::memcpy(out.data() + weights_at + offset, tensor->raw(), tensor->bytes());
  const uint64_t sum = hash_bytes(std::span<const std::byte>(out.data(), out.size() - 8));
  put<uint64_t>(out, out.size() - 8, sum);
  return out;
}

Plan parse_plan(std::span<const std::byte> bytes, const std::string& what) {
  if (bytes.size() < kFixedHeader + 8 || std::memcmp(bytes.data(), kMagic, 8) != 0)
    throw Error(cat(what, ": not a crowdrt plan file (build one with `crowdrt build`)"));
  const uint32_t version = get<uint32_t>(bytes, 8);
  if (version != kPlanFormatVersion)
    throw Error(cat(what, ": plan format version ", version, ", this crowdrt reads version ", kPlanFormatVersion,
                    "; rebuild the plan with this crowdrt (`crowdrt build`)"));
  const uint64_t stored = get<uint64_t>(bytes, bytes.size() - 8);
  if (hash_bytes(bytes.first(bytes.size() - 8)) != stored)
    throw Error(cat(what, ": checksum mismatch, the plan file is corrupted or truncated; rebuild it"));
  const uint64_t header_len = get<uint64_t>(bytes, 16);
  if (header_len > bytes.size() - kFixedHeader - 8) throw Error(cat(what, ": header length out of range"));
  Plan plan;
  try {
    plan.header = nlohmann::json::parse(std::string(reinterpret_cast<const char*>(bytes.data()) + kFixedHeader,
                                                     header_len));
    const size_t weights_at = align64(kFixedHeader + header_len);
    const size_t weights_bytes = json_size(plan.header.at("weights_bytes"));
    if (weights_at > bytes.size() - 8 || weights_bytes > bytes.size() - 8 - weights_at)
      throw Error("weights out of range");
    const nlohmann::json& jg = plan.header.at("graph");
    std::vector<ir::ValueId> ids;
    for (const nlohmann::json& jv : jg.at("values")) {
      const std::string name = jv.at("name").get<std::string>();
      const DType dtype = dtype_from_name(jv.at("dtype").get<std::string>());
      const Shape shape = json_list<int64_t>(jv.at("shape"), json_int64);
      if (jv.contains("offset")) {
        const size_t offset = json_size(jv.at("offset")), n = json_size(jv.at("bytes"));
        // Checked arithmetic: a shape of 2^62+4 f32 elements must not wrap around to the 16 bytes stored.
        const std::string label = cat("constant '", name, "'");
        const int64_t declared =
            checked_tensor_bytes(checked_numel(shape, label), static_cast<int64_t>(dtype_size(dtype)), label);
        if (n != static_cast<size_t>(declared))
          throw Error(cat(label, " is declared ", dtype_name(dtype), " ", shape_str(shape), " (", declared,
                          " bytes) but stores ", n, " bytes"));
        if (offset > weights_bytes || n > weights_bytes - offset)
          throw Error(
              cat(label, " lies outside the weights (offset ", offset, ", ", n, " bytes of ", weights_bytes, ")"));
        Tensor t(dtype, shape);
        if (n) std::memcpy(t.raw(), bytes.data() + weights_at + offset, n);
        ids.push_back(plan.graph.add_constant(name, std::move(t)));
      } else {
        ids.push_back(plan.graph.add_value(name, dtype, shape, true));
      }
    }
    auto id = [&](const nlohmann::json& j) {
      const int64_t i = json_int64(j);
      if (i == -1) return ir::kNoValue;
      if (i < 0 || static_cast<uint64_t>(i) >= ids.size()) throw Error(cat("value index ", i, " out of range"));
      return ids[i];
    };
    for (const nlohmann::json& jn : jg.at("nodes")) {
      ir::Op op;
      const std::string op_text = jn.at("op").get<std::string>();
      if (!ir::op_from_name(op_text, &op)) throw Error(cat("unknown op '", op_text, "'"));
      std::vector<ir::ValueId> ins, outs;
      for (const auto& j : jn.at("inputs")) ins.push_back(id(j));
      for (const auto& j : jn.at("outputs")) outs.push_back(id(j));
      ir::Attributes attrs;
      for (const auto& [name, ja] : jn.at("attrs").items()) attrs.set(name, attr_from_json(ja));
      plan.graph.add_node(op, jn.at("name").get<std::string>(), ins, outs, std::move(attrs));
    }
    for (const auto& j : jg.at("inputs")) plan.graph.inputs().push_back(id(j));
    for (const auto& j : jg.at("outputs")) plan.graph.outputs().push_back(id(j));
    check_activation_amax(plan.header);
  } catch (const nlohmann::json::exception& e) {
    throw Error(cat(what, ": malformed plan header (", e.what(), "); rebuild the plan"));
  } catch (const Error& e) {
    throw Error(cat(what, ": malformed plan (", e.what(), "); rebuild the plan"));
  }
  ir::validate_graph(plan.graph, ir::GraphForm::optimised, what);
  plan.header.erase("graph");
  return plan;
}

void write_plan(const std::string& path, const Plan& plan) { write_file_atomic(path, serialize_plan(plan)); }

Plan read_plan(const std::string& path) { return parse_plan(read_file(path), path); }

}  // namespace crowdrt
