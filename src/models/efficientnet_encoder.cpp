// smp's own EfficientNet encoder ("efficientnet-b0".."b3"), built on lukemelas' EfficientNet-PyTorch.
// Sources: EfficientNet-PyTorch efficientnet_pytorch/utils.py (block strings, width/depth coefficients,
// round_filters, round_repeats, Conv2dStaticSamePadding) and model.py (MBConvBlock, stem), smp
// encoders/efficientnet.py (stage_idxs, _fc deleted; _conv_head/_bn1 stay in the state_dict but are unused).
//
// Conv2dStaticSamePadding computes TensorFlow-"SAME" padding once, from the network's nominal image size
// (224/240/260/300), not from the actual input; where that size is odd the padding is symmetric even though
// the real feature map is even. We follow the module, not the input, so results match PyTorch exactly.
#include <array>
#include <cmath>
#include <map>

#include "models/encoders.h"

namespace crowdrt::models {
namespace {

constexpr float kEfficientNetBatchNormEpsilon = 1e-3f;  // EfficientNet-PyTorch batch_norm_epsilon
constexpr float kSqueezeRatio = 0.25f;

struct BlockArgs {
  int64_t repeats, kernel, stride, expand_ratio, input_filters, output_filters;
};
// 'r1_k3_s11_e1_i32_o16_se0.25', 'r2_k3_s22_e6_i16_o24_se0.25', ... (utils.py efficientnet())
constexpr std::array<BlockArgs, 7> kBaseBlocks{{{1, 3, 1, 1, 32, 16},
                                                {2, 3, 2, 6, 16, 24},
                                                {2, 5, 2, 6, 24, 40},
                                                {3, 3, 2, 6, 40, 80},
                                                {3, 5, 1, 6, 80, 112},
                                                {4, 5, 2, 6, 112, 192},
                                                {1, 3, 1, 6, 192, 320}}};

struct Variant {
  double width, depth;
  int64_t image_size;
  std::array<int, 3> stage_ends;  // smp stage_idxs without the last (the last stage runs to the end)
};
const std::map<std::string, Variant>& variants() {
  static const std::map<std::string, Variant> v{{"efficientnet-b0", {1.0, 1.0, 224, {3, 5, 9}}},
                                                {"efficientnet-b1", {1.0, 1.1, 240, {5, 8, 16}}},
                                                {"efficientnet-b2", {1.1, 1.2, 260, {5, 8, 16}}},
                                                {"efficientnet-b3", {1.2, 1.4, 300, {5, 8, 18}}}};
  return v;
}

int64_t round_filters(int64_t filters, double width) {
  constexpr int64_t divisor = 8;
  const double scaled = static_cast<double>(filters) * width;
  int64_t rounded = std::max<int64_t>(divisor, static_cast<int64_t>(scaled + divisor / 2.0) / divisor * divisor);
  if (static_cast<double>(rounded) < 0.9 * scaled) rounded += divisor;
  return rounded;
}

int64_t round_repeats(int64_t repeats, double depth) {
  return static_cast<int64_t>(std::ceil(depth * static_cast<double>(repeats)));
}

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Conv2dStaticSamePadding: ZeroPad2d((left, right, top, bottom)) from the nominal size, then an unpadded conv.
ir::ValueId static_same_conv(WeightedGraphBuilder& b, ir::ValueId x, const std::string& m, int64_t out, int64_t kernel,
                             int64_t stride, int64_t group, bool bias, int64_t nominal_size) {
  const int64_t out_size = ceil_div(nominal_size, stride);
  const int64_t pad = std::max<int64_t>((out_size - 1) * stride + kernel - nominal_size, 0);
  if (pad > 0) x = b.zero_pad(x, m + ".static_padding", {pad / 2, pad / 2, pad - pad / 2, pad - pad / 2});
  return b.conv(x, m, {out, kernel, stride, {0, 0, 0, 0}, group, bias});
}

ir::ValueId swish(WeightedGraphBuilder& b, ir::ValueId x, const std::string& m) {
  return b.mul(x, b.sigmoid(x, m + "._swish"), m + "._swish");
}

ir::ValueId mbconv_block(WeightedGraphBuilder& b, ir::ValueId input, const std::string& m, const BlockArgs& args,
                         int64_t nominal_size) {
  const int64_t in = args.input_filters;
  const int64_t hidden = in * args.expand_ratio;
  ir::ValueId x = input;
  if (args.expand_ratio != 1) {
    x = static_same_conv(b, x, m + "._expand_conv", hidden, 1, 1, 1, false, nominal_size);
    x = swish(b, b.batchnorm(x, m + "._bn0", kEfficientNetBatchNormEpsilon), m);
  }
  x = static_same_conv(b, x, m + "._depthwise_conv", hidden, args.kernel, args.stride, hidden, false, nominal_size);
  x = swish(b, b.batchnorm(x, m + "._bn1", kEfficientNetBatchNormEpsilon), m);

  // Squeeze and excitation: F.adaptive_avg_pool2d(x, 1), reduce, swish, expand, sigmoid gate.
  const int64_t squeezed = std::max<int64_t>(1, static_cast<int64_t>(static_cast<double>(in) * kSqueezeRatio));
  ir::ValueId s = b.mean_over_height_width(x, m + ".adaptive_avg_pool2d");
  s = swish(b, b.conv(s, m + "._se_reduce", {squeezed, 1, 1, {0, 0, 0, 0}, 1, true}), m + "._se");
  s = b.conv(s, m + "._se_expand", {hidden, 1, 1, {0, 0, 0, 0}, 1, true});
  x = b.mul(b.sigmoid(s, m + ".sigmoid"), x, m + ".se_gate");

  x = static_same_conv(b, x, m + "._project_conv", args.output_filters, 1, 1, 1, false, nominal_size);
  x = b.batchnorm(x, m + "._bn2", kEfficientNetBatchNormEpsilon);
  // id_skip is set for every block of b0..b7; drop connect is the identity in eval mode.
  if (args.stride == 1 && in == args.output_filters) x = b.add(x, input, m);
  return x;
}

}  // namespace

bool is_efficientnet_encoder(const std::string& name) { return variants().count(name) != 0; }

FeatureMaps build_efficientnet_encoder(WeightedGraphBuilder& b, ir::ValueId input, const std::string& name) {
  const Variant& v = variants().at(name);
  int64_t nominal = v.image_size;
  FeatureMaps maps{input};
  const int64_t stem = round_filters(32, v.width);
  ir::ValueId x = static_same_conv(b, input, "encoder._conv_stem", stem, 3, 2, 1, false, nominal);
  x = swish(b, b.batchnorm(x, "encoder._bn0", kEfficientNetBatchNormEpsilon), "encoder");
  maps.push_back(x);
  nominal = ceil_div(nominal, 2);

  int block = 0;
  size_t stage = 0;
  for (BlockArgs args : kBaseBlocks) {
    args.input_filters = round_filters(args.input_filters, v.width);
    args.output_filters = round_filters(args.output_filters, v.width);
    args.repeats = round_repeats(args.repeats, v.depth);
    for (int64_t r = 0; r < args.repeats; ++r, ++block) {
      const int64_t block_nominal = nominal;
      if (r == 0) {
        nominal = ceil_div(nominal, args.stride);
      } else {
        args.input_filters = args.output_filters;
        args.stride = 1;
      }
      x = mbconv_block(b, x, cat("encoder._blocks.", block), args, block_nominal);
      if (stage < v.stage_ends.size() && block + 1 == v.stage_ends[stage]) {
        maps.push_back(x);
        ++stage;
      }
    }
  }
  maps.push_back(x);
  // EfficientNet's head conv stays in smp's state_dict though the encoder never runs it.
  b.tolerate("encoder._conv_head.weight");
  for (const char* p : {"weight", "bias", "running_mean", "running_var", "num_batches_tracked"})
    b.tolerate(cat("encoder._bn1.", p));
  return maps;
}

}  // namespace crowdrt::models
