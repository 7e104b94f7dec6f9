// The geometry our own NHWC convolution kernels (cuda_conv_tf32x3.cu, cuda_conv_narrow.cu) read from their
// parameter struct: input strides and size, the window, the output size and M, the output pixel count.
#pragma once
#include <cstdint>

#include "backends/cuda/cuda_kernels.h"

namespace crowdrt::cuda {

struct ConvGeometry {
  int64_t xs_n, xs_h, xs_w;  // element strides of x (channel stride 1)
  int in_h, in_w, channels;  // channels: the ones per pixel that enter the sum
  int kh, kw, stride_h, stride_w, dil_h, dil_w, pad_t, pad_l;
  int out_h, out_w, out_c;
  int64_t m;                 // output pixels (N · out_h · out_w)
};

inline ConvGeometry conv_geometry(const View& x, int channels, const View& y, const ConvShape& shape) {
  ConvGeometry g{};
  g.xs_n = x.strides[0];
  g.xs_h = x.strides[2];
  g.xs_w = x.strides[3];
  g.in_h = x.dims[2];
  g.in_w = x.dims[3];
  g.channels = channels;
  g.kh = shape.kernel[0];
  g.kw = shape.kernel[1];
  g.stride_h = shape.strides[0];
  g.stride_w = shape.strides[1];
  g.dil_h = shape.dilations[0];
  g.dil_w = shape.dilations[1];
  g.pad_t = shape.pads[0];
  g.pad_l = shape.pads[1];
  g.out_h = y.dims[2];
  g.out_w = y.dims[3];
  g.out_c = y.dims[1];
  g.m = int64_t{y.dims[0]} * y.dims[2] * y.dims[3];
  return g;
}

}  // namespace crowdrt::cuda
