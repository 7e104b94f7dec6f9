// Memory descriptors of the CPU backend: plain and channel-blocked layouts, their names, and the addressing
// that our own kernels (Resize, Pad) use to walk them.
#pragma once
#include <oneapi/dnnl/dnnl.hpp>
#include <optional>
#include <string>

#include "core/tensor.h"

namespace crowdrt::cpu {

using Dims = dnnl::memory::dims;

// The channel block of the layout activations keep between layers ("nChw16c" on AVX-512).
constexpr int64_t kChannelBlock = 16;

Dims to_dims(const Shape& shape);
// Row-major float32 descriptor ("nchw" for rank 4).
dnnl::memory::desc plain_desc(const Dims& dims);
// Float32 descriptor whose layout the primitive chooses (format_tag::any).
dnnl::memory::desc any_desc(const Dims& dims);
// nChw16c for rank 4 (channels padded to a multiple of 16).
dnnl::memory::desc channel_blocked_desc(const Dims& dims);
bool is_plain(const dnnl::memory::desc& md);
// "nchw", "nChw16c", "nhwc", "Ohwi16o", ...: dims ordered by stride, capitals for blocked dims.
std::string describe_layout(const dnnl::memory::desc& md);

// The layout `md` has (nchw, nhwc, nChw16c or nChw8c, dense) for other dims; nullopt for any other layout.
std::optional<dnnl::memory::desc> same_format(const dnnl::memory::desc& md, const Dims& dims);

// A rank-4 layout where element (n, c, h, w) lives at
//   offset + n*stride_n + (c / block)*stride_block + h*stride_h + w*stride_w + c % block,
// which covers nchw (block 1), nChw8c / nChw16c, and nhwc (one block of all channels, stride_block 0); the
// last block's padded channels exist in memory. Float32 or bf16; strides and offset count elements.
struct ChannelBlockedView {
  int64_t block = 1;
  int64_t blocks = 0;  // padded channels / block
  int64_t channels = 0, height = 0, width = 0, batch = 0;
  int64_t stride_n = 0, stride_block = 0, stride_h = 0, stride_w = 0, offset = 0;
};
// The view, or nullopt when the layout is not of that family (blocked over another dim, two-level blocks).
std::optional<ChannelBlockedView> channel_blocked_view(const dnnl::memory::desc& md);

}  // namespace crowdrt::cpu
