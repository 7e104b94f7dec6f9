// Our own convolution kernels against our direct kernel on the same device buffers, through ConvStep with the
// tactic named. The 3xTF32 kernel (cuda_conv_tf32x3.h): every tile configuration, split K, odd sizes (partial
// tiles), strides, dilation, an input with zero-padded storage channels, an output written into a slice of a wider
// tensor, bias, residual and ReLU; the bound, 5e-5 of max|direct|, is fp32 accuracy for these sums (measured on the
// H100: 4e-7 to 3e-6 for K up to 392, 2.0e-5 for one unsplit chain over K = 4608, where the tensor cores' fp32
// accumulation rounds differently from the direct kernel's FMAs; split K 2e-6 to 8e-6); plain TF32 rounds each operand
// to a 10-bit mantissa (up to 2^-11, about 5e-4, per operand). The narrow kernel (cuda_conv_narrow.h): 1, 3 and 8
// output channels in fp32 and fp16. Skips where no CUDA device is present.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "cuda_test_util.h"
#include "backends/cuda/cuda_conv.h"
#include "backends/cuda/cuda_resources.h"
#include "core/error.h"

namespace crowdrt::cuda {
namespace {

struct Case {
  const char* name;
  StorageType type;
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


void upload(void* device, const std::vector<float>& values, StorageType type) {
  if (type == StorageType::f32) {
    check(cudaMemcpy(device, values.data(), values.size() * sizeof(float), cudaMemcpyHostToDevice), "upload");
    return;
  }
  std::vector<uint16_t> bits(values.size());
  for (size_t i = 0; i < values.size(); ++i) bits[i] = float_to_half(values[i]);
  check(cudaMemcpy(device, bits.data(), bits.size() * sizeof(uint16_t), cudaMemcpyHostToDevice), "upload");
}

std::vector<float> download(const void* device, size_t count, StorageType type) {
  std::vector<float> out(count);
  if (type == StorageType::f32) {
    check(cudaMemcpy(out.data(), device, count * sizeof(float), cudaMemcpyDeviceToHost), "download");
    return out;
  }
  std::vector<uint16_t> bits(count);
  check(cudaMemcpy(bits.data(), device, count * sizeof(uint16_t), cudaMemcpyDeviceToHost), "download");
  for (size_t i = 0; i < count; ++i) out[i] = half_to_float(bits[i]);
  return out;
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
  const size_t element = storage_bytes(c.type);

  const Stream stream = make_stream();
  const CudnnHandle cudnn = make_cudnn(stream.get());
  DeviceMemory dx = device_alloc(x.size() * element, "x");
  DeviceMemory dr = device_alloc(r.size() * element, "residual");
  DeviceMemory dy = device_alloc(y_count * element, "y");
  upload(dx.get(), x, c.type);
  upload(dr.get(), r, c.type);

  ConvProblem p;
  p.x = nhwc(dx.get(), c.type, c.n, c.in_c, c.h, c.w, c.storage_c);
  p.x_storage_channels = c.storage_c;
  p.y = nhwc(static_cast<char*>(dy.get()) + c.out_offset * element, c.type, c.n, c.out_c, oh, ow, c.out_storage_c);
  p.has_residual = c.residual;
  if (c.residual) p.residual = nhwc(dr.get(), c.type, c.n, c.out_c, oh, ow, c.out_c);
  p.weight = &weight;
  p.bias = c.bias ? &bias : nullptr;
  p.shape = c.shape;
  p.act.kind = c.act;

  std::vector<std::vector<float>> outputs;
  for (const std::string& tactic : tactics) {
    check(cudaMemset(dy.get(), 0, y_count * element), "y");
    run_conv_tactic(p, cudnn.get(), stream.get(), tactic, c.name);
    outputs.push_back(download(dy.get(), y_count, c.type));
  }
  return outputs;
}

TEST(CudaTf32x3Conv, MatchesTheDirectFp32KernelToFp32Accuracy) {
  std::string why;
  if (!device_available(&why)) GTEST_SKIP() << why << ": CUDA tests skipped";
  const std::vector<Case> cases = {
      {"3x3 64->64 38x38 bias+residual+relu", StorageType::f32, 1, 64, 64, 38, 38, 64, conv_shape(3, 1, 1), true, true,
       ActivationKind::relu, 64, 0},
      {"7x7/2 stem, 5 of 8 channels", StorageType::f32, 1, 5, 8, 61, 67, 64, conv_shape(7, 2, 3), true, false,
       ActivationKind::relu, 64, 0},
      {"1x1/2 128->256 into a slice", StorageType::f32, 1, 128, 128, 19, 19, 256, conv_shape(1, 2, 0), true, false,
       ActivationKind::none, 384, 64},
      {"3x3 dilation 2 32->48, no bias", StorageType::f32, 2, 32, 32, 23, 17, 48, conv_shape(3, 1, 2, 2), false, false,
       ActivationKind::none, 48, 0},
      {"3x3 512->512 10x10 (split K)", StorageType::f32, 1, 512, 512, 10, 10, 512, conv_shape(3, 1, 1), true, true,
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
      EXPECT_LE(worst, 5e-5f * ref_max) << c.name << ", " << tactics[t] << ": element " << at << " is "
                                        << outputs[t][at] << ", direct " << ref[at];
    }
  }
}

TEST(CudaTf32x3Conv, TacticsItCannotRunAreRefusedWithAMessage) {
  std::string why;
  if (!device_available(&why)) GTEST_SKIP() << why << ": CUDA tests skipped";
  const Case c{"3x3", StorageType::f32,     1,  16, 16, 8, 8, 16, conv_shape(3, 1, 1), true,
               false, ActivationKind::relu, 16, 0};
  for (const char* bad : {"tf32x3:bogus", "tf32x3:32x64", "tf32x3", "graph:x", "graph", "split:-1", "fused:7z"}) {
    try {
      run_tactics(c, {bad});
      ADD_FAILURE() << bad << " was accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("rebuild the plan"), std::string::npos) << e.what();
    }
  }
}

// The density head's shape and its neighbours: 16 -> 1 (3x3, the head), 32 -> 3 with stride 2 and ReLU, 8 -> 8
// (1x1) into a slice; fp32 within 1e-5 of the direct kernel (both sum in fp32), fp16 within 2e-3 (the direct
// kernel rounds its fp16 output the same way; the difference is summation order in fp32 before that rounding).
TEST(CudaNarrowConv, MatchesTheDirectKernel) {
  std::string why;
  if (!device_available(&why)) GTEST_SKIP() << why << ": CUDA tests skipped";
  for (StorageType type : {StorageType::f32, StorageType::f16}) {
    const std::vector<Case> cases = {
        {"head 3x3 16->1", type, 1, 16, 16, 45, 61, 1, conv_shape(3, 1, 1), true, false, ActivationKind::none, 1, 0},
        {"3x3/2 32->3 relu", type, 2, 32, 32, 33, 20, 3, conv_shape(3, 2, 1), true, false, ActivationKind::relu, 3,
         0},
        {"1x1 8->8 into a slice, no bias", type, 1, 8, 8, 17, 19, 8, conv_shape(1, 1, 0), false, false,
         ActivationKind::none, 24, 8},
    };
    for (const Case& c : cases) {
      const auto outputs = run_tactics(c, {"direct", "narrow"});
      float ref_max = 0.f, worst = 0.f;
      for (size_t i = 0; i < outputs[0].size(); ++i) {
        ref_max = std::max(ref_max, std::abs(outputs[0][i]));
        worst = std::max(worst, std::isfinite(outputs[1][i]) ? std::abs(outputs[1][i] - outputs[0][i]) : INFINITY);
      }
      const float bound = type == StorageType::f32 ? 1e-5f : 2e-3f;
      std::printf("narrow %-34s %s max|d| %.3g of max|direct| %.3g\n", c.name,
                  type == StorageType::f32 ? "f32" : "f16", worst / ref_max, ref_max);
      EXPECT_GT(ref_max, 0.1f) << c.name;
      EXPECT_LE(worst, bound * ref_max) << c.name;
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
