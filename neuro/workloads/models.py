"""Torch definitions of the shared workloads' networks.

Each builder returns a fresh, untrained ``nn.Module``; initialisation is seeded by the
caller through ``torch.Generator``-free default init under a fixed global seed inside
:func:`neuro.workloads.training.train` (torch's ``nn.init`` has no generator argument).
"""

from __future__ import annotations

import torch
from torch import nn

from neuro.workloads.layers import Add, Concat, MatMul, PatchTokens, PosEmbed, Reorg, TokenMean

__all__ = [
    "mlp",
    "lenet5",
    "resnet18",
    "ResNet18",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "yolov2",
    "resnet_fmnist",
    "resnet20",
    "vit",
]


def mlp(sizes: tuple[int, ...]) -> nn.Sequential:
    """Fully connected ReLU network on flattened input: ``sizes[0] → … → sizes[-1]``."""
    layers: list[nn.Module] = [nn.Flatten()]
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def lenet5(n_classes: int = 10) -> nn.Sequential:
    """LeNet-5-like CNN for 1×28×28 input (LeCun et al. 1998, with ReLU and average pooling).

    conv 5×5 6 (pad 2) → avgpool 2 → conv 5×5 16 → avgpool 2 → fc 120 → fc 84 → fc 10.
    """
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2),
        nn.ReLU(),
        nn.AvgPool2d(2),
        nn.Conv2d(6, 16, 5),
        nn.ReLU(),
        nn.AvgPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120),
        nn.ReLU(),
        nn.Linear(120, 84),
        nn.ReLU(),
        nn.Linear(84, n_classes),
    )


class BasicBlock(nn.Module):
    """ResNet basic block: two 3×3 convs with batch norm and a residual add."""

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(
                nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out)
            )
        self.add = Add()
        self.relu2 = nn.ReLU()

    def forward(self, x):
        y = self.bn2(self.conv2(self.relu1(self.bn1(self.conv1(x)))))
        return self.relu2(self.add(y, self.shortcut(x)))


#: ImageNet's per-channel mean and std of RGB in [0, 1], the normalisation torchvision's
#: pretrained ImageNet models expect (torchvision ``ResNet18_Weights.IMAGENET1K_V1``
#: transforms).
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


_TORCHVISION_STEM = {"conv1": 0, "bn1": 1, "fc": 14}


class ResNet18(nn.Sequential):
    """ResNet-18 as a ``Sequential`` (see :func:`resnet18`), with an optional input normalisation.

    ``normalize = (mean, std)`` per input channel makes the forward compute on
    ``(x - mean) / std`` (as the transforms of torchvision's pretrained models): two
    non-persistent buffers, so the state dict holds the network's keys only.
    """

    def __init__(self, *layers: nn.Module, normalize=None) -> None:
        super().__init__(*layers)
        self.normalized = normalize is not None
        if normalize is not None:
            mean, std = (torch.tensor(v, dtype=torch.float32).view(1, -1, 1, 1) for v in normalize)
            self.register_buffer("input_mean", mean, persistent=False)
            self.register_buffer("input_std", std, persistent=False)

    def forward(self, x):
        if self.normalized:
            x = (x - self.input_mean) / self.input_std
        return super().forward(x)

    @staticmethod
    def adapt_state_dict(state: dict) -> dict:
        """torchvision's key names (``conv1``, ``layer2.1.bn1``, ``fc``…) as this model's.

        A state dict of torchvision's ``resnet18`` (the key ``layer1.0.conv1.weight`` is
        there) is renamed: ``conv1``/``bn1`` → ``0``/``1``, block ``layer<i>.<j>`` →
        ``<4 + 2(i-1) + j>``, ``downsample`` → ``shortcut``, ``fc`` → ``14``; any other
        state dict is returned as it is.
        """
        if "layer1.0.conv1.weight" not in state:
            return state
        out = {}
        for key, value in state.items():
            head, _, rest = key.partition(".")
            if head in ("conv1", "bn1", "fc"):
                new = f"{_TORCHVISION_STEM[head]}.{rest}"
            elif head.startswith("layer") and head[5:].isdigit():
                block, _, inner = rest.partition(".")
                inner = inner.replace("downsample.", "shortcut.", 1)
                new = f"{4 + 2 * (int(head[5:]) - 1) + int(block)}.{inner}"
            else:
                new = key
            out[new] = value
        return out


def resnet18(n_classes: int = 1000, normalize=None) -> ResNet18:
    """ResNet-18 for 3×224×224 input (He et al., CVPR 2016, Table 1): 1.82 GMACs.

    Global average pooling makes it run at any input of 32×32 or more. ``normalize``:
    see :class:`ResNet18` (e.g. ``(IMAGENET_MEAN, IMAGENET_STD)``).
    """
    layers: list[nn.Module] = [
        nn.Conv2d(3, 64, 7, 2, 3, bias=False),
        nn.BatchNorm2d(64),
        nn.ReLU(),
        nn.MaxPool2d(3, 2, 1),
    ]
    c = 64
    for c_out, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
        layers += [BasicBlock(c, c_out, stride), BasicBlock(c_out, c_out, 1)]
        c = c_out
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, n_classes)]
    return ResNet18(*layers, normalize=normalize)


def resnet_fmnist(n_classes: int = 10, width: int = 8) -> nn.Sequential:
    """A small ResNet for 1×28×28 input: 10 conv layers, BatchNorm, identity and projection skips.

    conv 3×3 ``width`` + BN + ReLU (28×28) → max-pool 2 (14×14) → two basic blocks of
    ``width`` channels with identity skips (14×14) → a basic block of ``2·width``
    channels, stride 2, with a 1×1 conv + BN projection skip, and one more with an identity
    skip (7×7) → global average pool → fc ``n_classes``. The blocks are He et al.'s (CVPR
    2016, Fig. 2: two 3×3 convs, BN after each, the skip added before the second ReLU; the
    projection is their option B). With ``width = 8``: 909,600 MACs, 10,728 conv and fc weights.
    """
    w = width
    return nn.Sequential(
        nn.Conv2d(1, w, 3, 1, 1, bias=False),
        nn.BatchNorm2d(w),
        nn.ReLU(),
        nn.MaxPool2d(2),
        BasicBlock(w, w, 1),
        BasicBlock(w, w, 1),
        BasicBlock(w, 2 * w, 2),
        BasicBlock(2 * w, 2 * w, 1),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(2 * w, n_classes),
    )


def resnet20(n_classes: int = 10) -> nn.Sequential:
    """ResNet-20 for 3×32×32 CIFAR input (He et al., CVPR 2016, sec. 4.2): 40.8 M MACs, 0.27 M weights.

    conv 3×3 16 + BN + ReLU → three stages of three basic blocks (16, 32, 64 channels at
    32×32, 16×16, 8×8) → global average pool → fc. 19 3×3 convs and the fc: the "20"
    layers. The two stride-2 blocks use a 1×1 conv + BN projection skip (option B of
    He et al.) instead of the paper's zero-padding option A, which adds 2,560 weights and
    keeps every skip a layer that crossbars and spiking conversion can map.
    """
    layers: list[nn.Module] = [nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU()]
    c = 16
    for c_out, stride in ((16, 1), (32, 2), (64, 2)):
        layers += [BasicBlock(c, c_out, stride), BasicBlock(c_out, c_out, 1),
                   BasicBlock(c_out, c_out, 1)]  # fmt: skip
        c = c_out
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, n_classes)]
    return nn.Sequential(*layers)


def _conv_bn_leaky(c_in: int, c_out: int, k: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, k, 1, k // 2, bias=False),
        nn.BatchNorm2d(c_out),
        nn.LeakyReLU(0.1),
    )


class YOLOv2(nn.Module):
    """YOLOv2 (Redmon & Farhadi, CVPR 2017) on Darknet-19, 416×416 input, COCO head.

    Darknet-19 up to the 26×26×512 passthrough, the 13×13×1024 trunk, two 3×3×1024 head
    convs, the passthrough (1×1×64 conv then reorg to 13×13×256), concatenation, a
    3×3×1024 conv and the 1×1 detector with 5 anchors × (80 classes + 5) = 425 outputs.
    Darknet reports 29.47 billion FLOPs (2 × MACs) at 416×416 for this network.
    """

    def __init__(self, n_classes: int = 80, n_anchors: int = 5) -> None:
        super().__init__()
        pool = nn.MaxPool2d(2, 2)
        self.stage1 = nn.Sequential(
            _conv_bn_leaky(3, 32, 3), pool,
            _conv_bn_leaky(32, 64, 3), nn.MaxPool2d(2, 2),
            _conv_bn_leaky(64, 128, 3), _conv_bn_leaky(128, 64, 1), _conv_bn_leaky(64, 128, 3),
            nn.MaxPool2d(2, 2),
            _conv_bn_leaky(128, 256, 3), _conv_bn_leaky(256, 128, 1), _conv_bn_leaky(128, 256, 3),
            nn.MaxPool2d(2, 2),
            _conv_bn_leaky(256, 512, 3), _conv_bn_leaky(512, 256, 1), _conv_bn_leaky(256, 512, 3),
            _conv_bn_leaky(512, 256, 1), _conv_bn_leaky(256, 512, 3),
        )  # fmt: skip
        self.stage2 = nn.Sequential(
            nn.MaxPool2d(2, 2),
            _conv_bn_leaky(512, 1024, 3), _conv_bn_leaky(1024, 512, 1),
            _conv_bn_leaky(512, 1024, 3), _conv_bn_leaky(1024, 512, 1),
            _conv_bn_leaky(512, 1024, 3),
            _conv_bn_leaky(1024, 1024, 3), _conv_bn_leaky(1024, 1024, 3),
        )  # fmt: skip
        self.passthrough = nn.Sequential(_conv_bn_leaky(512, 64, 1), Reorg(2))
        self.concat = Concat()
        self.head = nn.Sequential(
            _conv_bn_leaky(1024 + 256, 1024, 3),
            nn.Conv2d(1024, n_anchors * (n_classes + 5), 1),
        )

    def forward(self, x):
        fine = self.stage1(x)
        coarse = self.stage2(fine)
        return self.head(self.concat(self.passthrough(fine), coarse))


def yolov2(n_classes: int = 80) -> YOLOv2:
    """YOLOv2-416 with the COCO head (see :class:`YOLOv2`)."""
    return YOLOv2(n_classes)


class Attention(nn.Module):
    """Multi-head self-attention (Vaswani et al. 2017) from visible parts.

    ``qkv`` and ``proj`` are ``nn.Linear`` (on crossbars in an analog run); the two
    activation products are :class:`MatMul` modules and the softmax an ``nn.Softmax``, so
    that the extractor, the NPU's FP16 path and the analog cost model see each of them.
    """

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.heads, self.head_dim = heads, dim // heads
        self.scale = self.head_dim**-0.5
        self.qkv = nn.Linear(dim, 3 * dim)
        self.scores = MatMul()
        self.softmax = nn.Softmax(dim=-1)
        self.context = MatMul()
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        b, t, d = x.shape
        qkv = self.qkv(x).reshape(b, t, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0] * self.scale, qkv[1], qkv[2]
        a = self.softmax(self.scores(q, k.transpose(-2, -1)))
        return self.proj(self.context(a, v).transpose(1, 2).reshape(b, t, d))


class EncoderBlock(nn.Module):
    """Pre-norm transformer encoder block (Dosovitskiy et al., ICLR 2021, eq. 2-3):
    ``x + MSA(LN(x))`` then ``x + MLP(LN(x))`` with a GELU MLP."""

    def __init__(self, dim: int, heads: int, mlp_dim: int) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, heads)
        self.add1 = Add()
        self.norm2 = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, mlp_dim)
        self.gelu = nn.GELU()
        self.fc2 = nn.Linear(mlp_dim, dim)
        self.add2 = Add()

    def forward(self, x):
        x = self.add1(x, self.attn(self.norm1(x)))
        return self.add2(x, self.fc2(self.gelu(self.fc1(self.norm2(x)))))


def vit(
    n_classes: int = 10,
    image: int = 28,
    channels: int = 1,
    patch: int = 7,
    dim: int = 64,
    depth: int = 2,
    heads: int = 4,
    mlp_dim: int = 128,
) -> nn.Sequential:
    """A small vision transformer (Dosovitskiy et al., ICLR 2021) for ``image``² inputs.

    Patch embedding (a ``patch``×``patch`` conv with stride ``patch``: (28/7)² = 16
    tokens of ``dim``), learned position embedding, ``depth`` pre-norm encoder blocks
    (``heads``-head self-attention, GELU MLP of ``mlp_dim``), final LayerNorm, mean over
    the tokens (instead of a class token) and a linear head. Defaults: 1.16 M MACs.
    """
    tokens = (image // patch) ** 2
    return nn.Sequential(
        nn.Conv2d(channels, dim, patch, patch),
        PatchTokens(),
        PosEmbed(tokens, dim),
        *[EncoderBlock(dim, heads, mlp_dim) for _ in range(depth)],
        nn.LayerNorm(dim),
        TokenMean(),
        nn.Linear(dim, n_classes),
    )
