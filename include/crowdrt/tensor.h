// Float32 tensors at the API's edge: an owning Tensor, views of caller memory, and a tensor's name and shape.
// Layout is dense row-major: NCHW for network inputs and outputs (batch 1 for crowd models).
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "crowdrt/export.h"

namespace crowdrt {
// The public API is versioned with the library's SONAME major; code names it crowdrt::Engine etc.
inline namespace v0 {

using Dims = std::vector<std::int64_t>;

// Number of elements of a shape (1 for a scalar shape {}).
inline std::int64_t dims_numel(const Dims& dims) {
  std::int64_t n = 1;
  for (std::int64_t d : dims) n *= d;
  return n;
}
// "1x5x608x608".
CROWDRT_API std::string dims_str(const Dims& dims);

// Values owned by the tensor.
struct Tensor {
  Dims shape;
  std::vector<float> data;

  Tensor() = default;
  explicit Tensor(Dims dims) : shape(std::move(dims)), data(static_cast<size_t>(dims_numel(shape)), 0.0f) {}
  std::int64_t numel() const { return dims_numel(shape); }
  // Sum of all values in double precision: a density map's sum / 100 is its count.
  double sum() const {
    double s = 0;
    for (float v : data) s += v;
    return s;
  }
};

// Caller memory, read but not copied; it must hold dims_numel(shape) floats.
struct TensorView {
  const float* data = nullptr;
  Dims shape;

  TensorView() = default;
  TensorView(const float* values, Dims dims) : data(values), shape(std::move(dims)) {}
  TensorView(const Tensor& tensor) : data(tensor.data.data()), shape(tensor.shape) {}  // NOLINT: implicit on purpose
};

// Caller memory that crowdrt writes into; it must hold dims_numel(shape) floats.
struct MutableTensorView {
  float* data = nullptr;
  Dims shape;

  MutableTensorView() = default;
  MutableTensorView(float* values, Dims dims) : data(values), shape(std::move(dims)) {}
  MutableTensorView(Tensor& tensor) : data(tensor.data.data()), shape(tensor.shape) {}  // NOLINT: implicit on purpose
};

// A network input or output: its name in the model and its shape.
struct TensorSpec {
  std::string name;
  Dims shape;
};

}  // namespace v0
}  // namespace crowdrt
