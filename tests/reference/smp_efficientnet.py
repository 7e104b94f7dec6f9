"""smp's own EfficientNet encoders (efficientnet-b0..b3, built on lukemelas' EfficientNet-PyTorch) in smp's
module layout, so the state_dict keys are smp's: encoder._conv_stem, encoder._bn0, encoder._blocks.N._expand_conv /
_bn0 / _depthwise_conv / _bn1 / _se_reduce / _se_expand / _project_conv / _bn2, and the unused encoder._conv_head /
_bn1 that smp keeps. Written from the structure of EfficientNet-PyTorch efficientnet_pytorch/{model,utils}.py and
smp encoders/efficientnet.py; our own code. Also resnet101, and build_model() for every encoder crowdrt exports."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

from smp_layout import Encoder, MobileNetV2Encoder, UnetDecoder, UnetPlusPlusDecoder

BN_EPS = 1e-3  # EfficientNet-PyTorch batch_norm_epsilon
# (repeats, kernel, stride, expand, in, out) of 'r1_k3_s11_e1_i32_o16_se0.25' ... 'r1_k3_s11_e6_i192_o320_se0.25'
BASE_BLOCKS = [(1, 3, 1, 1, 32, 16), (2, 3, 2, 6, 16, 24), (2, 5, 2, 6, 24, 40), (3, 3, 2, 6, 40, 80),
               (3, 5, 1, 6, 80, 112), (4, 5, 2, 6, 112, 192), (1, 3, 1, 6, 192, 320)]
# width, depth, nominal image size (efficientnet_params) and smp's stage_idxs / out_channels
VARIANTS = {
    "efficientnet-b0": (1.0, 1.0, 224, (3, 5, 9, 16), (32, 24, 40, 112, 320)),
    "efficientnet-b1": (1.0, 1.1, 240, (5, 8, 16, 23), (32, 24, 40, 112, 320)),
    "efficientnet-b2": (1.1, 1.2, 260, (5, 8, 16, 23), (32, 24, 48, 120, 352)),
    "efficientnet-b3": (1.2, 1.4, 300, (5, 8, 18, 26), (40, 32, 48, 136, 384)),
}


def round_filters(filters, width, divisor=8):
    filters *= width
    new = max(divisor, int(filters + divisor / 2) // divisor * divisor)
    return int(new + divisor if new < 0.9 * filters else new)


def round_repeats(repeats, depth):
    return int(math.ceil(depth * repeats))


class StaticSameConv2d(nn.Conv2d):
    """Conv2dStaticSamePadding: TensorFlow SAME padding computed once from the nominal image size."""

    def __init__(self, cin, cout, kernel, stride=1, groups=1, bias=False, image_size=None):
        super().__init__(cin, cout, kernel, stride, groups=groups, bias=bias)
        oh = math.ceil(image_size / stride)
        pad = max((oh - 1) * stride + kernel - image_size, 0)
        self.static_padding = nn.ZeroPad2d((pad // 2, pad - pad // 2, pad // 2, pad - pad // 2)) if pad > 0 \
            else nn.Identity()

    def forward(self, x):
        return super().forward(self.static_padding(x))


def swish(x):
    return x * torch.sigmoid(x)


class MBConvBlock(nn.Module):
    def __init__(self, repeats, kernel, stride, expand, cin, cout, image_size):
        super().__init__()
        self.expand, self.stride, self.cin, self.cout = expand, stride, cin, cout
        hidden = cin * expand
        if expand != 1:
            self._expand_conv = StaticSameConv2d(cin, hidden, 1, image_size=image_size)
            self._bn0 = nn.BatchNorm2d(hidden, eps=BN_EPS)
        self._depthwise_conv = StaticSameConv2d(hidden, hidden, kernel, stride, groups=hidden, image_size=image_size)
        self._bn1 = nn.BatchNorm2d(hidden, eps=BN_EPS)
        squeezed = max(1, int(cin * 0.25))
        self._se_reduce = StaticSameConv2d(hidden, squeezed, 1, bias=True, image_size=1)
        self._se_expand = StaticSameConv2d(squeezed, hidden, 1, bias=True, image_size=1)
        self._project_conv = StaticSameConv2d(hidden, cout, 1, image_size=math.ceil(image_size / stride))
        self._bn2 = nn.BatchNorm2d(cout, eps=BN_EPS)

    def forward(self, inputs):
        x = inputs
        if self.expand != 1:
            x = swish(self._bn0(self._expand_conv(x)))
        x = swish(self._bn1(self._depthwise_conv(x)))
        s = F.adaptive_avg_pool2d(x, 1)
        s = self._se_expand(swish(self._se_reduce(s)))
        x = torch.sigmoid(s) * x
        x = self._bn2(self._project_conv(x))
        if self.stride == 1 and self.cin == self.cout:  # drop connect is the identity in eval mode
            x = x + inputs
        return x


class EfficientNetEncoder(nn.Module):
    def __init__(self, name, in_channels):
        super().__init__()
        width, depth, image, self._stage_idxs, out = VARIANTS[name]
        self.out_channels = (in_channels,) + out
        stem = round_filters(32, width)
        self._conv_stem = StaticSameConv2d(in_channels, stem, 3, 2, image_size=image)
        self._bn0 = nn.BatchNorm2d(stem, eps=BN_EPS)
        image = math.ceil(image / 2)
        blocks = []
        for r, k, s, e, i, o in BASE_BLOCKS:
            i, o, r = round_filters(i, width), round_filters(o, width), round_repeats(r, depth)
            blocks.append(MBConvBlock(r, k, s, e, i, o, image))
            image = math.ceil(image / s)
            for _ in range(r - 1):
                blocks.append(MBConvBlock(r, k, 1, e, o, o, image))
        self._blocks = nn.ModuleList(blocks)
        head = round_filters(1280, width)  # in smp's state_dict, never run by the encoder
        self._conv_head = StaticSameConv2d(o, head, 1, image_size=image)
        self._bn1 = nn.BatchNorm2d(head, eps=BN_EPS)

    def forward(self, x):
        f = [x]
        x = swish(self._bn0(self._conv_stem(x)))
        f.append(x)
        for n, block in enumerate(self._blocks):
            x = block(x)
            if n + 1 in self._stage_idxs:
                f.append(x)
        return f


class ResNet101Encoder(Encoder):
    def __init__(self, in_channels):
        torchvision.models.ResNet.__init__(self, torchvision.models.resnet.Bottleneck, [3, 4, 23, 3])
        del self.fc, self.avgpool
        self.out_channels = (in_channels, 64, 256, 512, 1024, 2048)
        if in_channels != 3:
            self.conv1 = nn.Conv2d(in_channels, 64, 7, 2, 3, bias=False)


class Model(nn.Module):
    """smp.Unet / smp.UnetPlusPlus(encoder, in_channels, classes=1) for every encoder crowdrt exports."""

    def __init__(self, arch, encoder, in_channels):
        super().__init__()
        if encoder in VARIANTS:
            self.encoder = EfficientNetEncoder(encoder, in_channels)
        elif encoder == "resnet101":
            self.encoder = ResNet101Encoder(in_channels)
        elif encoder == "mobilenet_v2":
            self.encoder = MobileNetV2Encoder(in_channels)
        else:
            self.encoder = Encoder(encoder, in_channels)
        dec = UnetDecoder if arch == "UNet" else UnetPlusPlusDecoder
        self.decoder = dec(self.encoder.out_channels)
        self.segmentation_head = nn.Sequential(nn.Conv2d(16, 1, 3, padding=1), nn.Identity(), nn.Identity())

    def forward(self, x):
        return self.segmentation_head(self.decoder(self.encoder(x)))
