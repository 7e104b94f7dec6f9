// Field layout per onnx.proto (TensorProto): raw_data is little-endian, packed; typed fields hold
// float16/bfloat16/int8/uint8/bool widened into int32_data.
#include "onnx/tensor_proto.h"

#include <cstring>

#include "core/checked.h"

namespace crowdrt::onnx_import {

DType dtype_from_onnx(int data_type, const std::string& where) {
  switch (data_type) {
    case onnx::TensorProto::FLOAT: return DType::f32;
    case onnx::TensorProto::FLOAT16: return DType::f16;
    case onnx::TensorProto::BFLOAT16: return DType::bf16;
    case onnx::TensorProto::DOUBLE: return DType::f64;
    case onnx::TensorProto::INT8: return DType::i8;
    case onnx::TensorProto::UINT8: return DType::u8;
    case onnx::TensorProto::INT32: return DType::i32;
    case onnx::TensorProto::INT64: return DType::i64;
    case onnx::TensorProto::BOOL: return DType::boolean;
    default: break;
  }
  const std::string name = onnx::TensorProto::DataType_IsValid(data_type)
                               ? onnx::TensorProto::DataType_Name(static_cast<onnx::TensorProto::DataType>(data_type))
                               : cat("code ", data_type);
  throw Error(cat(where, ": element type ", name,
                  " is not supported; crowdrt reads float32, float16, bfloat16, float64, int64, int32, int8, "
                  "uint8 and bool tensors"));
}

namespace {
template <class Field, class Store>
void copy_typed(const Field& field, Tensor& t, const std::string& where, Store store) {
  if (static_cast<int64_t>(field.size()) != t.numel())
    throw Error(cat(where, ": tensor of shape ", shape_str(t.shape()), " holds ", field.size(),
                    " values; the model file is damaged"));
  for (int i = 0; i < field.size(); ++i) store(i, field.Get(i));
}
}  // namespace

Tensor tensor_from_proto(const onnx::TensorProto& proto, const std::string& where) {
  if (proto.data_location() == onnx::TensorProto::EXTERNAL)
    throw Error(cat(where, ": tensor data is stored in an external file, which crowdrt does not read; "
                    "save the model with all tensors inside (onnx.save(model, path, save_as_external_data=False))"));
  if (proto.has_segment())
    throw Error(cat(where, ": segmented tensors are not supported; re-save the model in one piece"));
  const DType dtype = dtype_from_onnx(proto.data_type(), where);
  Shape shape(proto.dims().begin(), proto.dims().end());
  for (int64_t d : shape)
    if (d < 0) throw Error(cat(where, ": tensor has a negative dimension ", d, "; the model file is damaged"));
  // The declared size is checked against what the file holds before anything is allocated, so that a small
  // file declaring a huge tensor costs nothing.
  const int64_t numel = checked_numel(shape, where);
  const int64_t bytes = checked_tensor_bytes(numel, static_cast<int64_t>(dtype_size(dtype)), where);
  if (proto.has_raw_data() && static_cast<int64_t>(proto.raw_data().size()) != bytes)
    throw Error(cat(where, ": tensor of shape ", shape_str(shape), " and type ", dtype_name(dtype), " needs ", bytes,
                    " bytes but holds ", proto.raw_data().size(), "; the model file is damaged"));
  if (!proto.has_raw_data()) {
    const int64_t stored = dtype == DType::f32   ? proto.float_data_size()
                           : dtype == DType::f64 ? proto.double_data_size()
                           : dtype == DType::i64 ? proto.int64_data_size()
                                                 : proto.int32_data_size();
    if (stored != numel)
      throw Error(cat(where, ": tensor of shape ", shape_str(shape), " holds ", stored,
                      " values; the model file is damaged"));
  }
  Tensor t(dtype, shape);
  if (proto.has_raw_data()) {
    const std::string& raw = proto.raw_data();
    if (!raw.empty()) std::memcpy(t.raw(), raw.data(), raw.size());
    return t;
  }
  std::byte* out = t.raw();
  switch (dtype) {
    case DType::f32:
      copy_typed(proto.float_data(), t, where, [&](int i, float v) { reinterpret_cast<float*>(out)[i] = v; });
      break;
    case DType::f64:
      copy_typed(proto.double_data(), t, where, [&](int i, double v) { reinterpret_cast<double*>(out)[i] = v; });
      break;
    case DType::i64:
      copy_typed(proto.int64_data(), t, where, [&](int i, int64_t v) { reinterpret_cast<int64_t*>(out)[i] = v; });
      break;
    case DType::i32:
      copy_typed(proto.int32_data(), t, where, [&](int i, int32_t v) { reinterpret_cast<int32_t*>(out)[i] = v; });
      break;
    case DType::f16:
    case DType::bf16:
      copy_typed(proto.int32_data(), t, where,
                 [&](int i, int32_t v) { reinterpret_cast<uint16_t*>(out)[i] = static_cast<uint16_t>(v); });
      break;
    case DType::i8:
      copy_typed(proto.int32_data(), t, where,
                 [&](int i, int32_t v) { reinterpret_cast<int8_t*>(out)[i] = static_cast<int8_t>(v); });
      break;
    case DType::u8:
    case DType::boolean:
      copy_typed(proto.int32_data(), t, where,
                 [&](int i, int32_t v) { reinterpret_cast<uint8_t*>(out)[i] = static_cast<uint8_t>(v); });
      break;
  }
  return t;
}

}  // namespace crowdrt::onnx_import
