// How values are laid out on the device, and node attributes decoded for our kernels: the helpers every part of
// the CUDA compile (orchestration, int8 selection, fusions, op builds) shares. Conv geometry is decoded here only.
#pragma once
#include <cstddef>
#include <cstdint>

#include "ir/op_params.h"
#include "backends/cuda/cuda_conv.h"
#include "backends/cuda/cuda_kernels.h"
#include "ir/graph.h"

namespace crowdrt::cuda {

constexpr int kTensorCoreChannels = 8;
constexpr int kInt8Channels = 16;  // int8 tensors: channels fill 16-byte vectors

inline int64_t round_up(int64_t x, int64_t multiple) { return (x + multiple - 1) / multiple * multiple; }

// The arena layout of a value: NHWC (channels fastest, `storage_channels` stored) for rank 4, row-major otherwise.
View layout_view(const Shape& shape, StorageType type, int storage_channels = 0);
// Row-major NCHW float32 (staging buffers and uploaded constants).
View packed_f32_view(const Shape& shape, void* data);
// `v` seen with the dimensions of `out` (rank 4 after padding): stride 0 where v has extent 1.
View broadcast_to(View v, const int out_dims[4]);
size_t view_bytes(const View& v, int storage_channels);

// Kernel, strides, dilations, pads (t, l, b, r) and group of a Conv / ConvTranspose node (canonical attributes).
ConvShape conv_shape_of(const ir::Attributes& a);
Activation to_cuda(const ir::Activation& a);

}  // namespace crowdrt::cuda
