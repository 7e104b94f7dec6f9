// The small shared pieces of the public API: shapes as text, the version, internal tensors made public.
#include "api/internal.h"

namespace crowdrt::internal {

v0::Dims to_dims(const ::crowdrt::Shape& shape) { return v0::Dims(shape.begin(), shape.end()); }

v0::Tensor to_public(InternalTensor tensor) {
  if (tensor.dtype() != DType::f32) tensor = tensor.cast(DType::f32);
  v0::Tensor out;
  out.shape = to_dims(tensor.shape());
  const std::span<const float> values = tensor.span<float>();
  out.data.assign(values.begin(), values.end());
  return out;
}

}  // namespace crowdrt::internal

namespace crowdrt::v0 {

std::string dims_str(const Dims& dims) { return shape_str(::crowdrt::Shape(dims.begin(), dims.end())); }

const char* version() { return CROWDRT_VERSION; }

}  // namespace crowdrt::v0
