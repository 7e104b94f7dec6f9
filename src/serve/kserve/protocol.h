// The Open Inference (KServe v2) protocol's inference request and response over HTTP/REST: JSON tensors (flat or
// nested "data") and the binary tensor extension (the JSON header, then each binary tensor's bytes, the header's
// length in Inference-Header-Content-Length). Source: the KServe "Open Inference Protocol" REST specification and
// its "Binary Tensor Data Extension".
#pragma once
#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/tensor.h"

namespace crowdrt::serve::kserve {

// An error the server answers with this HTTP status and the protocol's {"error": message} body.
class ProtocolError : public Error {
 public:
  ProtocolError(int status, const std::string& message) : Error(message), status_(status) {}
  int status() const { return status_; }

 private:
  int status_;
};

// The protocol's tensor datatypes with a fixed element size ("FP32", "UINT8", ...); BYTES is answered apart.
// Bytes per element, or 0 for a name that is not one of them.
size_t datatype_size(std::string_view datatype);

// A tensor as the wire carries it: little-endian, row-major bytes. BYTES tensors hold their elements in `strings`.
struct WireTensor {
  std::string name;
  std::string datatype;
  Shape shape;
  std::vector<std::byte> bytes;
  std::vector<std::string> strings;
  nlohmann::json parameters = nlohmann::json::object();
};

struct RequestedOutput {
  std::string name;
  bool binary = false;
};

struct InferRequest {
  std::string id;
  nlohmann::json parameters = nlohmann::json::object();
  std::vector<WireTensor> inputs;
  bool outputs_given = false;  // false: every output of the model, in JSON unless binary_data_output
  std::vector<RequestedOutput> outputs;
  bool binary_output = false;  // the request's binary_data_output parameter
};

// The bytes a request's input tensor must hold; ProtocolError 400 naming `where` for an unknown datatype or a shape
// with a negative, too large or overflowing dimension.
uint64_t tensor_byte_size(const WireTensor& tensor, const std::string& where);
// Fills tensor.bytes from JSON values (flat or nested, row-major) of its datatype: 400 naming `where` and the element
// for a count that does not fill the shape or a value out of the datatype's range. The gRPC front gives its typed
// contents this way too, so that both protocols take the same values.
void fill_from_json(WireTensor& tensor, const nlohmann::json& data, const std::string& where);

// body: the whole HTTP body; header_length: the Inference-Header-Content-Length header's value when present.
// ProtocolError 400 naming the field on malformed JSON, unknown datatypes, data that does not fill the shape,
// values out of the datatype's range, or binary sizes that do not add up to the body.
InferRequest parse_infer_request(std::string_view body, std::optional<size_t> header_length);

// A tensor from typed values (the response's outputs).
WireTensor float_tensor(const std::string& name, const Shape& shape, const float* values);
WireTensor double_tensor(const std::string& name, const std::vector<double>& values);
WireTensor string_tensor(const std::string& name, const std::vector<std::string>& values);

struct InferResponse {
  std::string model_name, model_version, id;
  nlohmann::json parameters = nlohmann::json::object();
  std::vector<WireTensor> outputs;
};

struct EncodedResponse {
  std::string body;
  std::optional<size_t> header_length;  // set when binary tensors follow the JSON
  std::string content_type;
};

// The outputs the request asked for (all when it named none), each with whether it goes as binary data;
// ProtocolError 400 for an output name the model does not have.
struct ChosenOutput {
  const WireTensor* tensor;
  bool binary;
};
std::vector<ChosenOutput> select_outputs(const InferResponse& response, const InferRequest& request);

// A tensor's bytes as the binary extension and gRPC's raw contents carry them: the elements as they are, BYTES
// elements each as a 4-byte little-endian length, then its bytes.
std::string raw_tensor_bytes(const WireTensor& tensor);

// Picks and encodes the outputs the request asked for (all when it named none), each as binary data when asked;
// ProtocolError 400 for an output name the model does not have.
EncodedResponse encode_infer_response(InferResponse response, const InferRequest& request);

// The request's parameter `name` when it is a bool (or absent: fallback); ProtocolError 400 otherwise.
bool bool_parameter(const nlohmann::json& parameters, const std::string& name, bool fallback);

}  // namespace crowdrt::serve::kserve
