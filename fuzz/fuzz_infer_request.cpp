// libFuzzer target: an inference request body of the v2 protocol (JSON, optionally followed by binary tensors) must
// be parsed or refused with a ProtocolError, and what is accepted must encode back into an answer without a crash.
// The first byte chooses whether the body carries Inference-Header-Content-Length (the next two bytes, little-endian).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "serve/kserve/protocol.h"

using namespace crowdrt::serve::kserve;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  std::optional<size_t> header_length;
  if (data[0] & 1) header_length = static_cast<size_t>(data[1] | (data[2] << 8));
  const std::string_view body(reinterpret_cast<const char*>(data + 3), size - 3);
  try {
    const InferRequest request = parse_infer_request(body, header_length);
    InferResponse response;
    response.model_name = "fuzz";
    for (const WireTensor& t : request.inputs) {
      if (t.datatype == "FP32")
        response.outputs.push_back(float_tensor(t.name, t.shape, reinterpret_cast<const float*>(t.bytes.data())));
      response.outputs.push_back(string_tensor(t.name + "_name", {t.name, t.datatype}));
    }
    encode_infer_response(response, request);
  } catch (const ProtocolError&) {
  }
  return 0;
}
