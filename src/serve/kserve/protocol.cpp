#include "serve/kserve/protocol.h"

#include <algorithm>
#include <cstring>
#include <limits>

namespace crowdrt::serve::kserve {
namespace {

constexpr int kBadRequest = 400;
constexpr int64_t kMaxDimension = int64_t{1} << 31;

struct DatatypeInfo {
  const char* name;
  size_t size;
};
constexpr DatatypeInfo kDatatypes[] = {{"BOOL", 1},  {"UINT8", 1}, {"UINT16", 2}, {"UINT32", 4}, {"UINT64", 8},
                                       {"INT8", 1},  {"INT16", 2}, {"INT32", 4},  {"INT64", 8},  {"FP16", 2},
                                       {"FP32", 4},  {"FP64", 8}};

[[noreturn]] void bad(const std::string& message) { throw ProtocolError(kBadRequest, message); }

template <class T>
void put(std::byte* at, T value) {
  std::memcpy(at, &value, sizeof(T));  // x86 and arm64 are little-endian, as the wire is
}

template <class T>
void put_integer(std::byte* at, const nlohmann::json& v, const std::string& where) {
  if (v.is_boolean()) return put<T>(at, static_cast<T>(v.get<bool>()));
  if (!v.is_number_integer()) bad(cat(where, ": ", v.dump(), " is not an integer"));
  if (v.is_number_unsigned()) {
    const uint64_t u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<T>::max())) bad(cat(where, ": ", u, " is out of range"));
    return put<T>(at, static_cast<T>(u));
  }
  const int64_t i = v.get<int64_t>();
  if (i < static_cast<int64_t>(std::numeric_limits<T>::min()) ||
      (i > 0 && static_cast<uint64_t>(i) > static_cast<uint64_t>(std::numeric_limits<T>::max())))
    bad(cat(where, ": ", i, " is out of range"));
  put<T>(at, static_cast<T>(i));
}

// One JSON element into its datatype's bytes.
void put_element(const std::string& datatype, const nlohmann::json& v, std::byte* at, const std::string& where) {
  if (datatype == "BOOL") {
    if (!v.is_boolean() && !(v.is_number_integer() && (v.get<int64_t>() == 0 || v.get<int64_t>() == 1)))
      bad(cat(where, ": ", v.dump(), " is not a boolean"));
    return put<uint8_t>(at, v.is_boolean() ? v.get<bool>() : static_cast<uint8_t>(v.get<int64_t>()));
  }
  if (datatype == "FP32" || datatype == "FP64" || datatype == "FP16") {
    if (!v.is_number()) bad(cat(where, ": ", v.dump(), " is not a number"));
    const double d = v.get<double>();
    if (datatype == "FP64") return put<double>(at, d);
    if (datatype == "FP32") return put<float>(at, static_cast<float>(d));
    return put<uint16_t>(at, float_to_half(static_cast<float>(d)));
  }
  if (datatype == "UINT8") return put_integer<uint8_t>(at, v, where);
  if (datatype == "UINT16") return put_integer<uint16_t>(at, v, where);
  if (datatype == "UINT32") return put_integer<uint32_t>(at, v, where);
  if (datatype == "UINT64") return put_integer<uint64_t>(at, v, where);
  if (datatype == "INT8") return put_integer<int8_t>(at, v, where);
  if (datatype == "INT16") return put_integer<int16_t>(at, v, where);
  if (datatype == "INT32") return put_integer<int32_t>(at, v, where);
  put_integer<int64_t>(at, v, where);
}

// "data" may be flat or nested as the shape (row-major either way).
void flatten(const nlohmann::json& data, std::vector<const nlohmann::json*>& out) {
  if (data.is_array())
    for (const nlohmann::json& e : data) flatten(e, out);
  else
    out.push_back(&data);
}

Shape parse_shape(const nlohmann::json& j, const std::string& where) {
  if (!j.is_array()) bad(cat(where, ": \"shape\" must be an array of non-negative integers"));
  Shape shape;
  for (const nlohmann::json& d : j) {
    if (!d.is_number_integer())
      bad(cat(where, ": \"shape\" ", j.dump(), " must hold non-negative integers below 2^31"));
    shape.push_back(d.get<int64_t>());
  }
  return shape;
}

// Elements of the shape, or a 400 when they would not fit any request.
uint64_t checked_numel(const Shape& shape, size_t element_size, const std::string& where) {
  uint64_t n = 1;
  for (int64_t d : shape) {
    if (d != 0 && n > (uint64_t{1} << 40) / static_cast<uint64_t>(d))
      bad(cat(where, ": shape ", shape_str(shape), " is too large"));
    n *= static_cast<uint64_t>(d);
  }
  if (n * element_size > (uint64_t{1} << 40)) bad(cat(where, ": shape ", shape_str(shape), " is too large"));
  return n;
}

std::string string_field(const nlohmann::json& j, const char* key, const std::string& where, bool required) {
  if (!j.contains(key)) {
    if (required) bad(cat(where, ": \"", key, "\" is missing"));
    return "";
  }
  if (!j[key].is_string()) bad(cat(where, ": \"", key, "\" must be a string"));
  return j[key].get<std::string>();
}

nlohmann::json parameters_of(const nlohmann::json& j, const std::string& where) {
  if (!j.contains("parameters")) return nlohmann::json::object();
  if (!j["parameters"].is_object()) bad(cat(where, ": \"parameters\" must be an object"));
  return j["parameters"];
}

}  // namespace

uint64_t tensor_byte_size(const WireTensor& t, const std::string& where) {
  for (int64_t d : t.shape)
    if (d < 0 || d >= kMaxDimension)
      bad(cat(where, ": shape ", nlohmann::json(t.shape).dump(), " must hold non-negative integers below 2^31"));
  const size_t size = datatype_size(t.datatype);
  if (size == 0)
    bad(cat(where, ": datatype '", t.datatype,
            "' is not one crowdrt takes; use FP32 (network inputs) or UINT8 (frames)"));
  return checked_numel(t.shape, size, where) * size;
}

void fill_from_json(WireTensor& t, const nlohmann::json& data, const std::string& where) {
  const size_t size = datatype_size(t.datatype);
  const uint64_t numel = tensor_byte_size(t, where) / size;
  std::vector<const nlohmann::json*> elements;
  flatten(data, elements);
  if (elements.size() != numel)
    bad(cat(where, ": \"data\" has ", elements.size(), " elements but shape ", shape_str(t.shape), " needs ", numel));
  t.bytes.resize(numel * size);
  for (size_t e = 0; e < elements.size(); ++e)
    put_element(t.datatype, *elements[e], t.bytes.data() + e * size, cat(where, " element ", e));
}

size_t datatype_size(std::string_view datatype) {
  for (const DatatypeInfo& d : kDatatypes)
    if (datatype == d.name) return d.size;
  return 0;
}

bool bool_parameter(const nlohmann::json& parameters, const std::string& name, bool fallback) {
  if (!parameters.contains(name)) return fallback;
  if (!parameters[name].is_boolean()) bad(cat("parameter \"", name, "\" must be true or false"));
  return parameters[name].get<bool>();
}

InferRequest parse_infer_request(std::string_view body, std::optional<size_t> header_length) {
  if (header_length && *header_length > body.size())
    bad(cat("Inference-Header-Content-Length is ", *header_length, " but the body has only ", body.size(), " bytes"));
  const std::string_view header = header_length ? body.substr(0, *header_length) : body;
  std::string_view binary = header_length ? body.substr(*header_length) : std::string_view();
  const nlohmann::json j = nlohmann::json::parse(header.begin(), header.end(), nullptr, false);
  if (j.is_discarded())
    bad("the request body is not valid JSON (binary tensors need the Inference-Header-Content-Length header)");
  if (!j.is_object()) bad("the inference request must be a JSON object with \"inputs\"");
  InferRequest request;
  if (j.contains("id")) {
    if (!j["id"].is_string()) bad("\"id\" must be a string");
    request.id = j["id"].get<std::string>();
  }
  request.parameters = parameters_of(j, "the request");
  request.binary_output = bool_parameter(request.parameters, "binary_data_output", false);
  if (!j.contains("inputs") || !j["inputs"].is_array() || j["inputs"].empty())
    bad("the inference request needs \"inputs\": a non-empty array of tensors");
  for (size_t i = 0; i < j["inputs"].size(); ++i) {
    const nlohmann::json& in = j["inputs"][i];
    std::string where = cat("inputs[", i, "]");
    if (!in.is_object()) bad(cat(where, " must be an object with name, shape, datatype and data"));
    WireTensor t;
    t.name = string_field(in, "name", where, true);
    where = cat("input '", t.name, "'");
    t.datatype = string_field(in, "datatype", where, true);
    if (!in.contains("shape")) bad(cat(where, ": \"shape\" is missing"));
    t.shape = parse_shape(in["shape"], where);
    t.parameters = parameters_of(in, where);
    const uint64_t byte_size = tensor_byte_size(t, where);
    if (t.parameters.contains("binary_data_size")) {
      const nlohmann::json& s = t.parameters["binary_data_size"];
      if (!s.is_number_integer() || s.get<int64_t>() < 0)
        bad(cat(where, ": binary_data_size must be a non-negative integer"));
      const uint64_t n = s.get<uint64_t>();
      if (!header_length)
        bad(cat(where, ": binary_data_size given without the Inference-Header-Content-Length header"));
      if (n > binary.size())
        bad(cat(where, ": binary_data_size ", n, " is more than the ", binary.size(), " bytes left in the body"));
      if (n != byte_size)
        bad(cat(where, ": binary_data_size ", n, " does not match shape ", shape_str(t.shape), " of ", t.datatype, " (",
                byte_size, " bytes)"));
      if (in.contains("data")) bad(cat(where, ": give either \"data\" or binary_data_size, not both"));
      const auto* first = reinterpret_cast<const std::byte*>(binary.data());
      t.bytes.assign(first, first + n);
      binary.remove_prefix(n);
    } else {
      if (!in.contains("data"))
        bad(cat(where, ": \"data\" is missing (or give binary_data_size with the binary extension)"));
      fill_from_json(t, in["data"], where);
    }
    request.inputs.push_back(std::move(t));
  }
  if (!binary.empty())
    bad(cat(binary.size(), " bytes follow the JSON header that no input's binary_data_size accounts for"));
  if (j.contains("outputs")) {
    if (!j["outputs"].is_array()) bad("\"outputs\" must be an array of {\"name\": ...}");
    request.outputs_given = true;
    for (size_t i = 0; i < j["outputs"].size(); ++i) {
      const nlohmann::json& out = j["outputs"][i];
      const std::string where = cat("outputs[", i, "]");
      if (!out.is_object()) bad(cat(where, " must be an object with a name"));
      RequestedOutput r;
      r.name = string_field(out, "name", where, true);
      r.binary = bool_parameter(parameters_of(out, where), "binary_data", request.binary_output);
      request.outputs.push_back(r);
    }
  }
  return request;
}

WireTensor float_tensor(const std::string& name, const Shape& shape, const float* values) {
  WireTensor t;
  t.name = name;
  t.datatype = "FP32";
  t.shape = shape;
  const auto* first = reinterpret_cast<const std::byte*>(values);
  t.bytes.assign(first, first + shape_numel(shape) * sizeof(float));
  return t;
}

WireTensor double_tensor(const std::string& name, const std::vector<double>& values) {
  WireTensor t;
  t.name = name;
  t.datatype = "FP64";
  t.shape = {static_cast<int64_t>(values.size())};
  const auto* first = reinterpret_cast<const std::byte*>(values.data());
  t.bytes.assign(first, first + values.size() * sizeof(double));
  return t;
}

WireTensor string_tensor(const std::string& name, const std::vector<std::string>& values) {
  WireTensor t;
  t.name = name;
  t.datatype = "BYTES";
  t.shape = {static_cast<int64_t>(values.size())};
  t.strings = values;
  return t;
}

namespace {

nlohmann::json json_data(const WireTensor& t) {
  nlohmann::json data = nlohmann::json::array();
  if (t.datatype == "BYTES") {
    for (const std::string& s : t.strings) data.push_back(s);
  } else if (t.datatype == "FP32") {
    const size_t n = t.bytes.size() / sizeof(float);
    for (size_t i = 0; i < n; ++i) {
      float v;
      std::memcpy(&v, t.bytes.data() + i * sizeof(float), sizeof(float));
      data.push_back(v);
    }
  } else if (t.datatype == "FP64") {
    const size_t n = t.bytes.size() / sizeof(double);
    for (size_t i = 0; i < n; ++i) {
      double v;
      std::memcpy(&v, t.bytes.data() + i * sizeof(double), sizeof(double));
      data.push_back(v);
    }
  } else {
    throw Error(cat("output '", t.name, "': no JSON encoding for ", t.datatype));
  }
  return data;
}

}  // namespace

std::string raw_tensor_bytes(const WireTensor& t) {
  if (t.datatype != "BYTES") return std::string(reinterpret_cast<const char*>(t.bytes.data()), t.bytes.size());
  std::string out;
  for (const std::string& s : t.strings) {
    const uint32_t n = static_cast<uint32_t>(s.size());
    out.append(reinterpret_cast<const char*>(&n), sizeof(n));
    out += s;
  }
  return out;
}

std::vector<ChosenOutput> select_outputs(const InferResponse& response, const InferRequest& request) {
  std::vector<ChosenOutput> chosen;
  if (request.outputs_given) {
    for (const RequestedOutput& r : request.outputs) {
      const WireTensor* found = nullptr;
      for (const WireTensor& t : response.outputs)
        if (t.name == r.name) found = &t;
      if (!found) {
        std::string names;
        for (const WireTensor& t : response.outputs) names += cat(names.empty() ? "" : ", ", t.name);
        bad(cat("requested output '", r.name, "' is not an output of model '", response.model_name, "' (it has ", names,
                ")"));
      }
      chosen.push_back({found, r.binary});
    }
  } else {
    for (const WireTensor& t : response.outputs) chosen.push_back({&t, request.binary_output});
  }
  return chosen;
}

EncodedResponse encode_infer_response(InferResponse response, const InferRequest& request) {
  const std::vector<ChosenOutput> chosen = select_outputs(response, request);
  nlohmann::json j = {{"model_name", response.model_name}, {"outputs", nlohmann::json::array()}};
  if (!response.model_version.empty()) j["model_version"] = response.model_version;
  if (!response.id.empty()) j["id"] = response.id;
  if (!response.parameters.empty()) j["parameters"] = response.parameters;
  std::string binary;
  for (const auto& [t, as_binary] : chosen) {
    nlohmann::json out = {{"name", t->name}, {"datatype", t->datatype}, {"shape", t->shape}};
    if (as_binary) {
      const std::string data = raw_tensor_bytes(*t);
      out["parameters"] = {{"binary_data_size", data.size()}};
      binary += data;
    } else {
      out["data"] = json_data(*t);
    }
    j["outputs"].push_back(std::move(out));
  }
  EncodedResponse encoded;
  encoded.body = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  const bool any_binary = std::any_of(chosen.begin(), chosen.end(), [](const ChosenOutput& c) { return c.binary; });
  if (any_binary) {
    encoded.header_length = encoded.body.size();
    encoded.body += binary;
    encoded.content_type = "application/octet-stream";
  } else {
    encoded.content_type = "application/json";
  }
  return encoded;
}

}  // namespace crowdrt::serve::kserve
