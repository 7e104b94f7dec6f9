// The stem kernel (cuda_conv_stem.h) against our direct kernel on the same device buffers, through ConvStep with
// the tactic named, in every configuration, and launched as one block (which then walks every tile, the weights
// staying in shared memory): ResNet's 7x7/2 stem over 5 of 8 channels at an odd size with two images, 3x3/1 over
// 16 channels, 5x5/2 and 1x7 with asymmetric pads and unequal strides, 48 and 80 output channels (a partial group
// of 64), fp16 and int8 outputs, outputs into channel slices of wider tensors (aligned for 16-byte stores and not).
// Skips where no CUDA device is present.
//
// Bound, per output element, from a host sum in double: the stem kernel rounds the weights to fp16 (relative error
// <= 2^-11 each) where the direct kernel keeps them float, so their sums differ by at most 2^-11 · S, S = Σ|x·w|;
// both sum in fp32 (at most K·2^-24 · S for the direct kernel, K the taps times channels, and K·2^-23 · S for the
// tensor cores, whose additions may truncate). An fp16 output adds each side's rounding, 2^-11 of the value
// (2^-25 absolute below fp16's normal range). An int8 output rounds v / scale: sums that close may still fall on
// either side of a rounding boundary, so the steps may differ by one more than the sums' bound. Measured on the
// H100, the same in every configuration: fp16 max|d| 4.9e-4 to 9.8e-4 (one fp16 step at these magnitudes), 0.30
// to 0.45 of the bound; int8 one step at most, in 131 of 55936 (7x7 stem) and 68 of 16640 (5x5) elements.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "cuda_test_util.h"
#include "backends/cuda/cuda_conv.h"
#include "backends/cuda/cuda_resources.h"
#include "core/error.h"

namespace crowdrt::cuda {
namespace {

struct StemCase {
  const char* name;
  int n, in_c, storage_c, h, w, out_c;  // storage_c: channels per input pixel in memory (beyond in_c zero)
  int kh, kw, stride_h, stride_w;
  int pads[4];                          // top, left, bottom, right
  bool bias;
  ActivationKind act;
  StorageType y_type;                   // f16 or i8
  int out_storage_c, out_offset;        // y: channels [offset, offset + out_c) of wider pixels
  int dilation = 1;
  int out_h() const { return (h + pads[0] + pads[2] - dilation * (kh - 1) - 1) / stride_h + 1; }
  int out_w() const { return (w + pads[1] + pads[3] - dilation * (kw - 1) - 1) / stride_w + 1; }
};

ConvShape shape_of(const StemCase& c) {
  ConvShape s;
  s.kernel[0] = c.kh, s.kernel[1] = c.kw;
  s.strides[0] = c.stride_h, s.strides[1] = c.stride_w;
  s.dilations[0] = s.dilations[1] = c.dilation;
  std::copy(c.pads, c.pads + 4, s.pads);
  return s;
}


// The case's operands on the host (x already rounded to fp16, as the device holds it), and per output element
// (NHWC over the wider output) the exact sum and S = Σ|x·w| + |bias|; elements outside the slice stay 0.
struct Operands {
  std::vector<float> x;  // n x h x w x storage_c
  Tensor weight, bias;
  std::vector<double> sum, magnitude;
};

Operands make_operands(const StemCase& c) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> unit(-1.f, 1.f);
  Operands o{std::vector<float>(size_t(c.n) * c.h * c.w * c.storage_c, 0.f),
             Tensor(DType::f32, {c.out_c, c.in_c, c.kh, c.kw}), Tensor(DType::f32, {c.out_c}), {}, {}};
  for (size_t i = 0; i < o.x.size(); ++i)
    if (static_cast<int>(i % c.storage_c) < c.in_c) o.x[i] = half_to_float(float_to_half(unit(rng)));
  const float w_scale = 1.f / std::sqrt(float(c.in_c * c.kh * c.kw));
  for (int64_t i = 0; i < o.weight.numel(); ++i) o.weight.data<float>()[i] = w_scale * unit(rng);
  for (int i = 0; i < c.out_c; ++i) o.bias.data<float>()[i] = c.bias ? 0.5f * unit(rng) : 0.f;
  const int oh = c.out_h(), ow = c.out_w();
  o.sum.assign(size_t(c.n) * oh * ow * c.out_storage_c, 0.0);
  o.magnitude = o.sum;
  const float* w = o.weight.data<float>();
  for (int n = 0; n < c.n; ++n)
    for (int y = 0; y < oh; ++y)
      for (int x = 0; x < ow; ++x)
        for (int k = 0; k < c.out_c; ++k) {
          double sum = o.bias.data<float>()[k], magnitude = std::abs(sum);
          for (int r = 0; r < c.kh; ++r)
            for (int s = 0; s < c.kw; ++s) {
              const int iy = y * c.stride_h - c.pads[0] + r * c.dilation;
              const int ix = x * c.stride_w - c.pads[1] + s * c.dilation;
              if (iy < 0 || iy >= c.h || ix < 0 || ix >= c.w) continue;
              for (int i = 0; i < c.in_c; ++i) {
                const double p = double(o.x[((size_t(n) * c.h + iy) * c.w + ix) * c.storage_c + i]) *
                                 w[((size_t(k) * c.in_c + i) * c.kh + r) * c.kw + s];
                sum += p;
                magnitude += std::abs(p);
              }
            }
          const size_t at = ((size_t(n) * oh + y) * ow + x) * c.out_storage_c + c.out_offset + k;
          o.sum[at] = sum;
          o.magnitude[at] = magnitude;
        }
  return o;
}

// The real value of one int8 step of the case's output: saturates the largest sums, as calibrated scales do.
float int8_scale(const Operands& o) {
  double largest = 0.0;
  for (double v : o.sum) largest = std::max(largest, std::abs(v));
  return static_cast<float>(0.8 * largest / 127.0);
}

// Runs the case with each tactic on a fresh (zeroed) output; the whole wider output per tactic, fp16 values or
// int8 steps as floats. "stem:CONFIG one block": the kernel launched directly on a grid of one block.
std::vector<std::vector<float>> run_tactics(const StemCase& c, const Operands& o, StorageType x_type,
                                            bool residual, const std::vector<std::string>& tactics) {
  const int oh = c.out_h(), ow = c.out_w();
  const size_t x_element = storage_bytes(x_type), y_element = storage_bytes(c.y_type);
  const size_t y_count = size_t(c.n) * oh * ow * c.out_storage_c;
  const Stream stream = make_stream();
  const CudnnHandle cudnn = make_cudnn(stream.get());
  DeviceMemory dx = device_alloc(o.x.size() * x_element, "x");
  DeviceMemory dy = device_alloc(y_count * y_element, "y");
  DeviceMemory dr = device_alloc(size_t(c.n) * oh * ow * c.out_c * y_element, "residual");
  if (x_type == StorageType::f32) {
    check(cudaMemcpy(dx.get(), o.x.data(), o.x.size() * sizeof(float), cudaMemcpyHostToDevice), "x");
  } else {
    std::vector<uint16_t> bits(o.x.size());
    std::transform(o.x.begin(), o.x.end(), bits.begin(), float_to_half);
    check(cudaMemcpy(dx.get(), bits.data(), bits.size() * sizeof(uint16_t), cudaMemcpyHostToDevice), "x");
  }
  check(cudaMemset(dr.get(), 0, size_t(c.n) * oh * ow * c.out_c * y_element), "residual");

  ConvProblem p;
  p.x = nhwc(dx.get(), x_type, c.n, c.in_c, c.h, c.w, c.storage_c);
  p.x_storage_channels = c.storage_c;
  p.y = nhwc(static_cast<char*>(dy.get()) + c.out_offset * y_element, c.y_type, c.n, c.out_c, oh, ow,
                    c.out_storage_c);
  if (c.y_type == StorageType::i8) p.y.scale = int8_scale(o);
  p.has_residual = residual;
  if (residual) p.residual = nhwc(dr.get(), c.y_type, c.n, c.out_c, oh, ow, c.out_c);
  p.weight = &o.weight;
  p.bias = c.bias ? &o.bias : nullptr;
  p.shape = shape_of(c);
  p.act.kind = c.act;

  std::vector<std::vector<float>> outputs;
  for (const std::string& tactic : tactics) {
    check(cudaMemset(dy.get(), 0, y_count * y_element), "y");
    const size_t one_block = tactic.find(" one block");
    if (one_block != std::string::npos) {
      StemConfig config;
      if (!parse_stem_config(tactic.substr(5, one_block - 5), &config) ||
          !stem_conv_possible(p.x, c.storage_c, p.y, false, p.shape, p.act, config))
        throw Error(cat(c.name, ": ", tactic, " cannot run"));
      const std::vector<float> packed =
          stem_conv_weights(o.weight.data<float>(), c.out_c, c.in_c, c.kh, c.kw, c.storage_c);
      std::vector<uint16_t> bits(packed.size());
      std::transform(packed.begin(), packed.end(), bits.begin(), float_to_half);
      DeviceMemory weights = device_alloc(bits.size() * sizeof(uint16_t), "stem weights");
      DeviceMemory bias = device_alloc(c.out_c * sizeof(float), "bias");
      check(cudaMemcpy(weights.get(), bits.data(), bits.size() * sizeof(uint16_t), cudaMemcpyHostToDevice), "w");
      check(cudaMemcpy(bias.get(), o.bias.data<float>(), c.out_c * sizeof(float), cudaMemcpyHostToDevice), "b");
      prepare_stem_conv(p.x, c.storage_c, p.y, p.shape, &config);
      config.blocks = 1;
      launch_stem_conv(p.x, c.storage_c, weights.get(), c.bias ? static_cast<const float*>(bias.get()) : nullptr,
                       p.y, p.shape, p.act, config, stream.get());
      check(cudaStreamSynchronize(stream.get()), c.name);
      check(cudaGetLastError(), c.name);
    } else {
      run_conv_tactic(p, cudnn.get(), stream.get(), tactic, c.name);
    }
    std::vector<float> out(y_count);
    if (c.y_type == StorageType::i8) {
      std::vector<int8_t> steps(y_count);
      check(cudaMemcpy(steps.data(), dy.get(), y_count, cudaMemcpyDeviceToHost), "y");
      std::copy(steps.begin(), steps.end(), out.begin());
    } else {
      std::vector<uint16_t> bits(y_count);
      check(cudaMemcpy(bits.data(), dy.get(), y_count * sizeof(uint16_t), cudaMemcpyDeviceToHost), "y");
      std::transform(bits.begin(), bits.end(), out.begin(), half_to_float);
    }
    outputs.push_back(std::move(out));
  }
  return outputs;
}

std::vector<std::string> stem_tactics() {
  std::vector<std::string> names;
  for (const StemConfig& c : stem_configs()) names.push_back("stem:" + c.name());
  return names;
}

TEST(CudaStemConv, MatchesTheDirectKernelWithinFp16Rounding) {
  std::string why;
  if (!device_available(&why)) GTEST_SKIP() << why << ": CUDA tests skipped";
  using A = ActivationKind;
  constexpr StorageType f16 = StorageType::f16, i8 = StorageType::i8;
  const std::vector<StemCase> cases = {
      {"7x7/2 stem 5 of 8 -> 64, 2 x 37x45", 2, 5, 8, 37, 45, 64, 7, 7, 2, 2, {3, 3, 3, 3}, true, A::relu, f16, 64, 0},
      {"7x7/2 stem, int8 y", 2, 5, 8, 37, 45, 64, 7, 7, 2, 2, {3, 3, 3, 3}, true, A::relu, i8, 64, 0},
      {"3x3/1 16 -> 32 into a slice", 1, 16, 16, 29, 35, 32, 3, 3, 1, 1, {1, 1, 1, 1}, true, A::none, f16, 96, 32},
      {"5x5/2 pads 1,2,3,0 8 -> 48, unaligned slice", 1, 8, 8, 30, 41, 48, 5, 5, 2, 2, {1, 2, 3, 0}, false, A::relu,
       f16, 52, 2},
      {"5x5/2 pads 2,0,1,2 12 of 16 -> 80, int8", 1, 12, 16, 27, 33, 80, 5, 5, 2, 2, {2, 0, 1, 2}, true, A::none, i8,
       80, 0},
      {"1x7 stride 2,1 pads 0,3,1,2 8 -> 16", 2, 8, 8, 20, 18, 16, 1, 7, 2, 1, {0, 3, 1, 2}, true, A::relu, f16, 16,
       0},
  };
  for (const StemCase& c : cases) {
    const Operands o = make_operands(c);
    std::vector<std::string> tactics = {"direct"};
    for (const std::string& stem : stem_tactics()) tactics.insert(tactics.end(), {stem, stem + " one block"});
    const auto outputs = run_tactics(c, o, StorageType::f16, false, tactics);
    const std::vector<float>& direct = outputs[0];
    const double k = double(c.kh) * c.kw * c.storage_c;
    // Times S: the weights' fp16 rounding, the direct kernel's fp32 sums (K·2^-24) and the tensor cores' (whose
    // fp32 additions may truncate: K·2^-23), one more for the bias.
    const double sum_bound = std::ldexp(1.0, -11) + 3.0 * (k + 1) * std::ldexp(1.0, -24);
    const float scale = c.y_type == StorageType::i8 ? int8_scale(o) : 1.f;
    float direct_max = 0.f;
    for (float v : direct) direct_max = std::max(direct_max, std::abs(v));
    ASSERT_GT(direct_max, c.y_type == StorageType::i8 ? 100.f : 0.5f) << c.name;
    for (size_t t = 1; t < tactics.size(); ++t) {
      double worst = 0.0, worst_of_bound = 0.0;
      size_t differing = 0;
      for (size_t i = 0; i < direct.size(); ++i) {
        const double d = std::isfinite(outputs[t][i]) ? std::abs(double(outputs[t][i]) - direct[i]) : INFINITY;
        const double sums = sum_bound * o.magnitude[i];
        const double bound = c.y_type == StorageType::i8
                                 ? std::floor(sums / scale) + 1.0
                                 : sums + std::ldexp(1.0, -10) * (std::abs(direct[i]) + sums) + std::ldexp(1.0, -24);
        const size_t channel = i % c.out_storage_c;
        const bool outside = channel < size_t(c.out_offset) || channel >= size_t(c.out_offset + c.out_c);
        if (outside) {
          EXPECT_EQ(outputs[t][i], 0.f) << c.name << ", " << tactics[t] << ": wrote element " << i
                                        << " outside its slice";
          continue;
        }
        differing += d > 0.0;
        worst = std::max(worst, d);
        worst_of_bound = std::max(worst_of_bound, d / bound);
        if (!(d <= bound))
          ADD_FAILURE() << c.name << ", " << tactics[t] << ": element " << i << " is " << outputs[t][i]
                        << ", direct " << direct[i] << " (bound " << bound << ")";
      }
      std::printf("stem %-44s %-22s max|d| %.3g%s (%.2f of its bound), %zu of %zu differ, max|direct| %.3g\n",
                  c.name, tactics[t].c_str(), worst, c.y_type == StorageType::i8 ? " steps" : "", worst_of_bound,
                  differing, direct.size(), direct_max);
    }
  }
}

TEST(CudaStemConv, TacticsItCannotRunAreRefusedWithAMessage) {
  std::string why;
  if (!device_available(&why)) GTEST_SKIP() << why << ": CUDA tests skipped";
  using A = ActivationKind;
  const StemCase stem{"7x7/2", 1, 5, 8, 21, 21, 64, 7, 7, 2, 2, {3, 3, 3, 3}, true, A::relu, StorageType::f16, 64, 0};
  StemCase dilated = stem;
  dilated.dilation = 2;
  const StemCase wide_input{"3x3 over 24 channels", 1, 24, 24, 9, 9, 16, 3, 3, 1, 1, {1, 1, 1, 1},
                            true,          A::relu, StorageType::f16, 16, 0};
  const StemCase odd_outputs{"3x3 to 24 channels", 1, 8, 8, 9, 9, 24, 3, 3, 1, 1, {1, 1, 1, 1},
                             true,          A::relu, StorageType::f16, 24, 0};
  const StemCase stride3{"3x3/3", 1, 8, 8, 9, 9, 16, 3, 3, 3, 3, {1, 1, 1, 1}, true, A::relu, StorageType::f16, 16, 0};
  struct Refusal {
    const StemCase& c;
    StorageType x_type;
    bool residual;
    std::string tactic;
  };
  const std::vector<Refusal> refusals = {
      {stem, StorageType::f32, false, "stem:8x16"},  // fp32 input
      {stem, StorageType::f16, true, "stem:8x16p"},  // a residual to add
      {dilated, StorageType::f16, false, "stem:16x16"},
      {wide_input, StorageType::f16, false, "stem:8x16"},
      {odd_outputs, StorageType::f16, false, "stem:16x16p"},
      {stride3, StorageType::f16, false, "stem:8x16"},
      {stem, StorageType::f16, false, "stem"},       // no configuration named
      {stem, StorageType::f16, false, "stem:8x8"},
  };
  for (const Refusal& r : refusals) {
    const Operands o = make_operands(r.c);
    try {
      run_tactics(r.c, o, r.x_type, r.residual, {r.tactic});
      ADD_FAILURE() << r.c.name << ": " << r.tactic << " was accepted";
    } catch (const Error& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find("rebuild the plan"), std::string::npos) << message;
      EXPECT_NE(message.find(r.tactic), std::string::npos) << message;
    }
  }
}

TEST(CudaStemConv, ConfigNamesRoundTrip) {
  EXPECT_EQ(stem_tactics(), (std::vector<std::string>{"stem:8x16", "stem:8x16p", "stem:16x16", "stem:16x16p"}));
  for (const StemConfig& c : stem_configs()) {
    StemConfig back;
    ASSERT_TRUE(parse_stem_config(c.name(), &back)) << c.name();
    EXPECT_EQ(back.tile_rows, c.tile_rows);
    EXPECT_EQ(back.progressive, c.progressive);
  }
  StemConfig unused;
  EXPECT_FALSE(parse_stem_config("8x8", &unused));
  EXPECT_FALSE(parse_stem_config("16x16w", &unused));
  EXPECT_FALSE(parse_stem_config("", &unused));
}

}  // namespace
}  // namespace crowdrt::cuda
