#include "backends/cpu/cpu_layout.h"

#include <algorithm>
#include <numeric>

namespace crowdrt::cpu {

using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;

Dims to_dims(const Shape& shape) { return Dims(shape.begin(), shape.end()); }

dnnl::memory::desc plain_desc(const Dims& dims) {
  Dims strides(dims.size(), 1);
  for (size_t d = dims.size(); d-- > 1;) strides[d - 1] = strides[d] * std::max<int64_t>(dims[d], 1);
  return dnnl::memory::desc(dims, dt::f32, strides);
}

dnnl::memory::desc any_desc(const Dims& dims) { return dnnl::memory::desc(dims, dt::f32, tag::any); }

dnnl::memory::desc channel_blocked_desc(const Dims& dims) {
  if (dims.size() != 4) return plain_desc(dims);
  return dnnl::memory::desc(dims, dt::f32, tag::nChw16c);
}

bool is_plain(const dnnl::memory::desc& md) { return md == plain_desc(md.dims()); }

std::string describe_layout(const dnnl::memory::desc& md) {
  const dnnl_memory_desc_t& c = md.data;
  if (c.format_kind != dnnl_blocked) return "any";
  const int rank = c.ndims;
  // Activations are rank 4 (nchw); rank 5 only occurs for grouped weights (goihw).
  auto letter = [&](int d) -> char {
    if (rank == 4) return "nchw"[d];
    if (rank == 5) return "goihw"[d];
    return static_cast<char>('a' + d);
  };
  const dnnl_blocking_desc_t& b = c.format_desc.blocking;
  std::vector<int> order(rank);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int l, int r) { return b.strides[l] > b.strides[r]; });
  std::string name;
  for (int d : order) {
    bool blocked = false;
    for (int k = 0; k < b.inner_nblks; ++k) blocked |= b.inner_idxs[k] == d;
    const char l = letter(d);
    name += blocked ? static_cast<char>(l - 'a' + 'A') : l;
  }
  for (int k = 0; k < b.inner_nblks; ++k) name += std::to_string(b.inner_blks[k]) + letter(b.inner_idxs[k]);
  return name;
}

std::optional<ChannelBlockedView> channel_blocked_view(const dnnl::memory::desc& md) {
  const dnnl_memory_desc_t& c = md.data;
  if (c.ndims != 4 || c.format_kind != dnnl_blocked || (c.data_type != dnnl_f32 && c.data_type != dnnl_bf16))
    return std::nullopt;
  const dnnl_blocking_desc_t& b = c.format_desc.blocking;
  ChannelBlockedView v;
  const bool channels_innermost = b.inner_nblks == 0 && b.strides[1] == 1;  // nhwc: all channels form one block
  if (b.inner_nblks == 1 && b.inner_idxs[0] == 1) {
    v.block = b.inner_blks[0];
  } else if (channels_innermost) {
    v.block = c.padded_dims[1];
  } else if (b.inner_nblks != 0) {
    return std::nullopt;
  }
  v.batch = c.dims[0];
  v.channels = c.dims[1];
  v.height = c.dims[2];
  v.width = c.dims[3];
  v.blocks = c.padded_dims[1] / v.block;
  v.stride_n = b.strides[0];
  v.stride_block = channels_innermost ? 0 : b.strides[1];  // dim 1's stride steps its outer index: one block
  v.stride_h = b.strides[2];
  v.stride_w = b.strides[3];
  v.offset = c.offset0;
  return v;
}

std::optional<dnnl::memory::desc> same_format(const dnnl::memory::desc& md, const Dims& dims) {
  if (md.dims().size() != 4 || dims.size() != 4) return std::nullopt;
  if (is_plain(md)) return plain_desc(dims);
  for (tag t : {tag::nhwc, tag::nChw16c, tag::nChw8c})
    if (md == dnnl::memory::desc(md.dims(), dt::f32, t)) return dnnl::memory::desc(dims, dt::f32, t);
  return std::nullopt;
}

}  // namespace crowdrt::cpu
