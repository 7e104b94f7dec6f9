#include "backends/cuda/cuda_layout.h"

namespace crowdrt::cuda {
namespace {

// Dimensions left-padded to 4.
void dims4(const Shape& shape, int dims[4]) {
  const size_t pad = 4 - shape.size();
  for (size_t d = 0; d < 4; ++d) dims[d] = d < pad ? 1 : static_cast<int>(shape[d - pad]);
}

}  // namespace

View layout_view(const Shape& shape, StorageType type, int storage_channels) {
  View v;
  v.type = type;
  dims4(shape, v.dims);
  if (shape.size() == 4) {
    const int64_t c = storage_channels > 0 ? storage_channels : v.dims[1];
    v.strides[1] = 1;
    v.strides[3] = c;
    v.strides[2] = c * v.dims[3];
    v.strides[0] = v.strides[2] * v.dims[2];
  } else {
    v.strides[3] = 1;
    for (int d = 2; d >= 0; --d) v.strides[d] = v.strides[d + 1] * v.dims[d + 1];
  }
  return v;
}

View packed_f32_view(const Shape& shape, void* data) {
  View v;
  v.data = data;
  v.type = StorageType::f32;
  dims4(shape, v.dims);
  v.strides[3] = 1;
  for (int d = 2; d >= 0; --d) v.strides[d] = v.strides[d + 1] * v.dims[d + 1];
  return v;
}

View broadcast_to(View v, const int out_dims[4]) {
  for (int d = 0; d < 4; ++d)
    if (v.dims[d] == 1 && out_dims[d] != 1) {
      v.strides[d] = 0;
      v.dims[d] = out_dims[d];
    }
  return v;
}

size_t view_bytes(const View& v, int storage_channels) {
  int64_t elements =
      int64_t{v.dims[0]} * v.dims[2] * v.dims[3] * (storage_channels > 0 ? storage_channels : v.dims[1]);
  return static_cast<size_t>(elements) * storage_bytes(v.type);
}

ConvShape conv_shape_of(const ir::Attributes& a) {
  const ir::ConvParams p = ir::conv_params(a);
  ConvShape shape;
  for (int i = 0; i < 2; ++i) {
    shape.kernel[i] = static_cast<int>(p.kernel[i]);
    shape.strides[i] = static_cast<int>(p.strides[i]);
    shape.dilations[i] = static_cast<int>(p.dilations[i]);
    shape.pads[i] = static_cast<int>(p.pads_begin[i]);  // t, l, b, r
    shape.pads[2 + i] = static_cast<int>(p.pads_end[i]);
  }
  shape.group = static_cast<int>(p.group);
  return shape;
}

Activation to_cuda(const ir::Activation& a) {
  return {static_cast<ActivationKind>(static_cast<int>(a.kind)), a.alpha, a.beta};
}

}  // namespace crowdrt::cuda
