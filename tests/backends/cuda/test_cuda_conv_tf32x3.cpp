// The 3xTF32 convolution (cuda_conv_tf32x3.h) against our direct fp32 kernel on the same device buffers, through
// ConvStep with the tactic named: every tile configuration, split K, odd sizes (partial tiles), strides, dilation,
// an input with zero-padded storage channels, an output written into a slice of a wider tensor, bias, residual and
// ReLU. The bound, 1e-5 of max|direct|, is what fp32 accuracy means here: plain TF32 (one product) misses it by
// about two orders of magnitude. Skips where no CUDA device is present.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "backends/cuda/cuda_conv.h"
#include "backends/cuda/cuda_resources.h"
#include "core/error.h"

namespace crowdrt::cuda {
namespace {

struct Case {
  const char* name;
  int n, in_c, storage_c, h, w, out_c;  // storage_c >= in_c: channels per input pixel in memory (extra ones zero)
  ConvShape shape;
  bool bias, residual;
  ActivationKind act;
  int out_storage_c, out_offset;        // output written into channels [offset, offset + out_c) of wider pixels
};

ConvShape conv_shape(int k, int stride, int pad, int dilation = 1) {
  ConvShape s;
  s.kernel[0] = s.kernel[1] = k;
  s.strides[0] = s.strides[1] = stride;
  s.dilations[0] = s.dilations[1] = dilation;
  s.pads[0] = s.pads[1] = s.pads[2] = s.pads[3] = pad;
  return s;
}

std::vector<float> uniform(size_t n, uint32_t seed, float scale) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-scale, scale);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

View nhwc(void* data, int n, int c, int h, int w, int storage_c) {
  View v;
  v.data = data;
  v.type = StorageType::f32;
  v.dims[0] = n, v.dims[1] = c, v.dims[2] = h, v.dims[3] = w;
  v.strides[0] = int64_t{h} * w * storage_c, v.strides[1] = 1, v.strides[2] = int64_t{w} * storage_c,
  v.strides[3] = storage_c;
  return v;
}

// Runs the case with each tactic on fresh output buffers; the outputs (whole wider tensor) in tactic order.
std::vector<std::vector<float>> run_tactics(const Case& c, const std::vector<std::string>& tactics) {
  const int oh = (c.h + c.shape.pads[0] + c.shape.pads[2] - c.shape.dilations[0] * (c.shape.kernel[0] - 1) - 1) /
                     c.shape.strides[0] + 1;
  const int ow = (c.w + c.shape.pads[1] + c.shape.pads[3] - c.shape.dilations[1] * (c.shape.kernel[1] - 1) - 1) /
                     c.shape.strides[1] + 1;
  std::vector<float> x = uniform(size_t(c.n) * c.h * c.w * c.storage_c, 1, 1.f);
  for (size_t i = 0; i < x.size(); ++i)
    if (static_cast<int>(i % c.storage_c) >= c.in_c) x[i] = 0.f;  // the padding channels are zero, as in the engine
  const float w_scale = 1.f / std::sqrt(float(c.in_c * c.shape.kernel[0] * c.shape.kernel[1]));
  Tensor weight(DType::f32, {c.out_c, c.in_c, c.shape.kernel[0], c.shape.kernel[1]});
  const std::vector<float> wv = uniform(weight.numel(), 2, w_scale);
  std::copy(wv.begin(), wv.end(), weight.data<float>());
  Tensor bias(DType::f32, {c.out_c});
  const std::vector<float> bv = uniform(c.out_c, 3, 0.5f);
  std::copy(bv.begin(), bv.end(), bias.data<float>());
  const std::vector<float> r = uniform(size_t(c.n) * oh * ow * c.out_c, 4, 1.f);
  const size_t y_count = size_t(c.n) * oh * ow * c.out_storage_c;

  const Stream stream = make_stream();
  const CudnnHandle cudnn = make_cudnn(stream.get());
  DeviceMemory dx = device_alloc(x.size() * sizeof(float), "x");
  DeviceMemory dr = device_alloc(r.size() * sizeof(float), "residual");
  DeviceMemory dy = device_alloc(y_count * sizeof(float), "y");
  check(cudaMemcpy(dx.get(), x.data(), x.size() * sizeof(float), cudaMemcpyHostToDevice), "x");
  check(cudaMemcpy(dr.get(), r.data(), r.size() * sizeof(float), cudaMemcpyHostToDevice), "residual");

  ConvProblem p;
  p.x = nhwc(dx.get(), c.n, c.in_c, c.h, c.w, c.storage_c);
  p.x_storage_channels = c.storage_c;
  p.y = nhwc(static_cast<float*>(dy.get()) + c.out_offset, c.n, c.out_c, oh, ow, c.out_storage_c);
  p.has_residual = c.residual;
  if (c.residual) p.residual = nhwc(dr.get(), c.n, c.out_c, oh, ow, c.out_c);
  p.weight = &weight;
  p.bias = c.bias ? &bias : nullptr;
  p.shape = c.shape;
  p.act.kind = c.act;

  std::vector<std::vector<float>> outputs;
  for (const std::string& tactic : tactics) {
    check(cudaMemset(dy.get(), 0, y_count * sizeof(float)), "y");
    ConvStep step(p, cudnn.get(), stream.get(), tactic);
    EXPECT_EQ(step.tactic(), tactic);
    DeviceMemory workspace = device_alloc(std::max<size_t>(step.workspace_bytes(), 16), "workspace");
    step.run(stream.get(), workspace.get());
    check(cudaStreamSynchronize(stream.get()), c.name);
    check(cudaGetLastError(), c.name);
    std::vector<float> y(y_count);
    check(cudaMemcpy(y.data(), dy.get(), y_count * sizeof(float), cudaMemcpyDeviceToHost), "y");
    outputs.push_back(std::move(y));
  }
  return outputs;
}

TEST(CudaTf32x3Conv, MatchesTheDirectFp32KernelToFp32Accuracy) {
  std::string why;
  if (!device_available(&why)) GTEST_SKIP() << why << ": CUDA tests skipped";
  const std::vector<Case> cases = {
      {"3x3 64->64 38x38 bias+residual+relu", 1, 64, 64, 38, 38, 64, conv_shape(3, 1, 1), true, true,
       ActivationKind::relu, 64, 0},
      {"7x7/2 stem, 5 of 8 channels", 1, 5, 8, 61, 67, 64, conv_shape(7, 2, 3), true, false, ActivationKind::relu, 64,
       0},
      {"1x1/2 128->256 into a slice", 1, 128, 128, 19, 19, 256, conv_shape(1, 2, 0), true, false,
       ActivationKind::none, 384, 64},
      {"3x3 dilation 2 32->48, no bias", 2, 32, 32, 23, 17, 48, conv_shape(3, 1, 2, 2), false, false,
       ActivationKind::none, 48, 0},
      {"3x3 512->512 10x10 (split K)", 1, 512, 512, 10, 10, 512, conv_shape(3, 1, 1), true, true,
       ActivationKind::relu, 512, 0},
  };
  const std::vector<std::string> tactics = {"direct",         "tf32x3:128x64",  "tf32x3:64x64",
                                            "tf32x3:128x64s2", "tf32x3:64x64s4", "tf32x3:64x64s16"};
  for (const Case& c : cases) {
    const auto outputs = run_tactics(c, tactics);
    const std::vector<float>& ref = outputs[0];
    float ref_max = 0.f;
    for (float v : ref) ref_max = std::max(ref_max, std::abs(v));
    ASSERT_GT(ref_max, 0.1f) << c.name;
    for (size_t t = 1; t < tactics.size(); ++t) {
      float worst = 0.f;
      size_t at = 0;
      for (size_t i = 0; i < ref.size(); ++i) {
        const float d = std::isfinite(outputs[t][i]) ? std::abs(outputs[t][i] - ref[i]) : INFINITY;
        if (d > worst) worst = d, at = i;
      }
      std::printf("%-40s %-16s max|d| %.3g of max|direct| %.3g\n", c.name, tactics[t].c_str(), worst / ref_max,
                  ref_max);
      EXPECT_LE(worst, 1e-5f * ref_max) << c.name << ", " << tactics[t] << ": element " << at << " is "
                                        << outputs[t][at] << ", direct " << ref[at];
    }
  }
}

TEST(CudaTf32x3Conv, TacticsItCannotRunAreRefusedWithAMessage) {
  std::string why;
  if (!device_available(&why)) GTEST_SKIP() << why << ": CUDA tests skipped";
  const Case c{"3x3", 1, 16, 16, 8, 8, 16, conv_shape(3, 1, 1), true, false, ActivationKind::relu, 16, 0};
  for (const char* bad : {"tf32x3:bogus", "tf32x3:32x64", "tf32x3"}) {
    try {
      run_tactics(c, {bad});
      ADD_FAILURE() << bad << " was accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("rebuild the plan"), std::string::npos) << e.what();
    }
  }
}

TEST(CudaTf32x3Conv, ConfigNamesRoundTrip) {
  for (int tile_m : {64, 128})
    for (int splits : {1, 2, 4, 8, 16}) {
      const Tf32x3Config c{tile_m, splits};
      Tf32x3Config back;
      ASSERT_TRUE(parse_tf32x3_config(c.name(), &back)) << c.name();
      EXPECT_EQ(back.tile_m, tile_m);
      EXPECT_EQ(back.splits, splits);
    }
  Tf32x3Config unused;
  EXPECT_FALSE(parse_tf32x3_config("128x64s3", &unused));
  EXPECT_FALSE(parse_tf32x3_config("", &unused));
}

}  // namespace
}  // namespace crowdrt::cuda
