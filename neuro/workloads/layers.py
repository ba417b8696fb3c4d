"""One layer-shape extractor for any torch model, shared by every target.

The model runs once on the ``meta`` device (shapes only, no arithmetic), with forward
hooks on its leaf modules; each conv, linear, pooling and elementwise layer becomes a
:class:`LayerShape` with its shapes, parameters and MAC count. Layers are listed in
execution order.

Operations written as plain functions in ``forward`` (``x + y``, ``torch.cat``) are not
modules and are not seen; the models in :mod:`neuro.workloads.models` use the small
modules :class:`Add`, :class:`Concat` and :class:`Reorg` for them so that they are.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import torch
from torch import nn

__all__ = [
    "LayerShape",
    "extract_layers",
    "Add",
    "Concat",
    "Reorg",
    "MatMul",
    "PatchTokens",
    "PosEmbed",
    "TokenMean",
]


class Add(nn.Module):
    """Elementwise sum of two tensors (a residual connection), visible to the extractor."""

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return a + b


class Concat(nn.Module):
    """Concatenation along channels, visible to the extractor."""

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        return torch.cat(xs, dim=1)


class Reorg(nn.Module):
    """YOLOv2's passthrough ``reorg``: space-to-depth by ``stride`` (Redmon & Farhadi 2017)."""

    def __init__(self, stride: int = 2) -> None:
        super().__init__()
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.pixel_unshuffle(x, self.stride)


class MatMul(nn.Module):
    """``a @ b`` of two activations (attention scores and context), visible to the extractor.

    ``matmul = True`` tells :func:`npu.to_fp16` to run it on the array as a GEMM.
    """

    matmul = True

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return a @ b


class PatchTokens(nn.Module):
    """``(B, C, H, W)`` patch embeddings as ``(B, H·W, C)`` tokens (a reshape)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(2).transpose(1, 2)


class PosEmbed(nn.Module):
    """Adds a learned position embedding ``(tokens, dim)`` (Dosovitskiy et al., ICLR 2021)."""

    def __init__(self, tokens: int, dim: int) -> None:
        super().__init__()
        self.pos = nn.Parameter(torch.zeros(1, tokens, dim))
        nn.init.trunc_normal_(self.pos, std=0.02)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.pos


class TokenMean(nn.Module):
    """Mean over the tokens: ``(B, T, D)`` to ``(B, D)`` (global average pooling)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(1)


#: Vector-unit ops per output element of the normalisations (what a digital vector unit
#: does, counted by hand): softmax 5 (subtract the row max, exp, add to the row sum, divide,
#: and the max's compare); LayerNorm 7 (add to the mean, subtract it, square, add to the
#: variance, multiply by 1/σ, scale, shift).
SOFTMAX_OPS = 5
LAYERNORM_OPS = 7


@dataclasses.dataclass(frozen=True)
class LayerShape:
    """Shape and work of one layer, for one input (batch 1).

    Attributes
    ----------
    name : str
        Module path in the model (``"features.0"``).
    kind : str
        ``"linear"``, ``"conv2d"``, ``"matmul"`` (a product of two activations, e.g.
        attention: ``macs`` on the MAC array, no weights; ``in_features`` is its reduction
        length, ``out_features`` its output columns, ``groups`` its heads, and ``ops =
        2·macs`` for a target that computes it in digital logic beside its arrays),
        ``"pool"``, ``"elementwise"`` (activations, batch and layer norm, softmax, residual
        adds), or ``"data"`` (reshape, concat, reorg: no arithmetic).
    input_shape, output_shape : tuple of int
        Per sample, without the batch dimension.
    macs : int
        Multiply-accumulates for one input (conv and linear; 0 otherwise).
    ops : int
        Other arithmetic ops for one input (pooling compares/adds, elementwise ops).
    weight_shape : tuple of int or None
        ``(out, in)`` for linear, ``(out, in/groups, kh, kw)`` for conv.
    in_features, out_features : int or None
        Linear layers.
    in_channels, out_channels, groups : int or None
        Conv layers.
    kernel_size, stride, padding : tuple of int or None
        Conv and pooling layers, ``(h, w)``.
    bias : bool
        Whether the layer adds a bias.
    activation : str or None
        For elementwise layers, the function (``"relu"``).
    """

    name: str
    kind: str
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    macs: int = 0
    ops: int = 0
    weight_shape: tuple[int, ...] | None = None
    in_features: int | None = None
    out_features: int | None = None
    in_channels: int | None = None
    out_channels: int | None = None
    groups: int | None = None
    kernel_size: tuple[int, int] | None = None
    stride: tuple[int, int] | None = None
    padding: tuple[int, int] | None = None
    bias: bool = False
    activation: str | None = None

    @property
    def n_weights(self) -> int:
        """Number of weights (0 for layers without weights)."""
        n = 1
        for d in self.weight_shape or (0,):
            n *= d
        return n

    def gemm(self) -> tuple[int, int, int] | None:
        """The layer as a GEMM ``(M, K, N)``: M output positions, K reduction, N outputs.

        Linear: ``(1, in, out)``. Conv (im2col): ``(H_out·W_out, C_in/groups·kh·kw,
        C_out)`` per group. None for layers without weights.
        """
        if self.kind == "linear":
            return (1, int(self.in_features), int(self.out_features))  # type: ignore[arg-type]
        if self.kind == "conv2d":
            kh, kw = self.kernel_size  # type: ignore[misc]
            _, h, w = self.output_shape
            g = int(self.groups or 1)
            return (h * w, int(self.in_channels) // g * kh * kw, int(self.out_channels) // g)  # type: ignore[arg-type]
        return None

    def as_dict(self) -> dict[str, Any]:
        """Plain dict (tuples become lists) for tables and archives."""
        d = dataclasses.asdict(self)
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in d.items()}


def _pair(v: Any) -> tuple[int, int]:
    return (int(v), int(v)) if isinstance(v, int) else (int(v[0]), int(v[1]))


def _numel(shape: tuple[int, ...]) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


_ACTIVATIONS = {
    nn.ReLU: "relu",
    nn.ReLU6: "relu6",
    nn.LeakyReLU: "leaky_relu",
    nn.Sigmoid: "sigmoid",
    nn.Tanh: "tanh",
    nn.GELU: "gelu",
    nn.SiLU: "silu",
}


def _attention(name: str, m: nn.MultiheadAttention, inputs: tuple) -> list[LayerShape]:
    """``nn.MultiheadAttention`` as its five steps (its projections are not module calls)."""
    q = inputs[0]
    seq = 1 if m.batch_first else 0
    t = int(q.shape[seq])
    s = int(inputs[1].shape[seq]) if len(inputs) > 1 else t
    d, h = m.embed_dim, m.num_heads
    hd = d // h
    tok = (t, d) if m.batch_first else (t, 1, d)
    bias = m.in_proj_bias is not None
    return [
        LayerShape(f"{name}.in_proj", "linear", tok, (t, 3 * d), macs=3 * t * d * d,
                   weight_shape=(3 * d, d), in_features=d, out_features=3 * d, bias=bias),
        LayerShape(f"{name}.scores", "matmul", (h, t, hd), (h, t, s), macs=h * t * s * hd,
                   ops=2 * h * t * s * hd, in_features=hd, out_features=s, groups=h),
        LayerShape(f"{name}.softmax", "elementwise", (h, t, s), (h, t, s),
                   ops=SOFTMAX_OPS * h * t * s, activation="softmax"),
        LayerShape(f"{name}.context", "matmul", (h, t, s), (h, t, hd), macs=h * t * s * hd,
                   ops=2 * h * t * s * hd, in_features=s, out_features=hd, groups=h),
        LayerShape(f"{name}.out_proj", "linear", (t, d), tok, macs=t * d * d,
                   weight_shape=(d, d), in_features=d, out_features=d,
                   bias=m.out_proj.bias is not None),
    ]  # fmt: skip


def _describe(name: str, m: nn.Module, inputs: tuple, output: torch.Tensor) -> LayerShape | None:
    shapes = [tuple(t.shape[1:]) for t in inputs if isinstance(t, torch.Tensor)]
    in_shape = shapes[0] if shapes else ()
    out_shape = tuple(output.shape[1:])
    out_n = _numel(out_shape)
    if isinstance(m, nn.Linear):
        return LayerShape(
            name, "linear", in_shape, out_shape,
            macs=m.in_features * m.out_features * (out_n // m.out_features),
            weight_shape=tuple(m.weight.shape), in_features=m.in_features,
            out_features=m.out_features, bias=m.bias is not None,
        )  # fmt: skip
    if isinstance(m, nn.Conv2d):
        kh, kw = _pair(m.kernel_size)
        macs = out_n * (m.in_channels // m.groups) * kh * kw
        return LayerShape(
            name, "conv2d", in_shape, out_shape, macs=macs,
            weight_shape=tuple(m.weight.shape), in_channels=m.in_channels,
            out_channels=m.out_channels, groups=m.groups, kernel_size=(kh, kw),
            stride=_pair(m.stride), padding=_pair(m.padding), bias=m.bias is not None,
        )  # fmt: skip
    if isinstance(m, (nn.MaxPool2d, nn.AvgPool2d)):
        k = _pair(m.kernel_size)
        return LayerShape(
            name, "pool", in_shape, out_shape, ops=out_n * k[0] * k[1], kernel_size=k,
            stride=_pair(m.stride or m.kernel_size), padding=_pair(m.padding),
        )  # fmt: skip
    if isinstance(m, (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)):
        return LayerShape(name, "pool", in_shape, out_shape, ops=_numel(in_shape))
    for cls, act in _ACTIVATIONS.items():
        if isinstance(m, cls):
            return LayerShape(name, "elementwise", in_shape, out_shape, ops=out_n, activation=act)
    if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
        return LayerShape(
            name, "elementwise", in_shape, out_shape, ops=2 * out_n, activation="batchnorm"
        )
    if isinstance(m, (Add, PosEmbed)):
        return LayerShape(name, "elementwise", in_shape, out_shape, ops=out_n, activation="add")
    if isinstance(m, nn.LayerNorm):
        return LayerShape(
            name, "elementwise", in_shape, out_shape, ops=LAYERNORM_OPS * out_n,
            activation="layernorm",
        )  # fmt: skip
    if isinstance(m, nn.Softmax):
        return LayerShape(
            name, "elementwise", in_shape, out_shape, ops=SOFTMAX_OPS * out_n,
            activation="softmax",
        )  # fmt: skip
    if isinstance(m, MatMul):
        k = int(shapes[0][-1])
        n = int(out_shape[-1])
        heads = _numel(out_shape[:-2]) if len(out_shape) > 2 else 1
        macs = out_n * k
        return LayerShape(
            name, "matmul", in_shape, out_shape, macs=macs, ops=2 * macs, in_features=k,
            out_features=n, groups=heads,
        )  # fmt: skip
    if isinstance(m, TokenMean):
        return LayerShape(name, "pool", in_shape, out_shape, ops=_numel(in_shape))
    if isinstance(m, (nn.Flatten, nn.Identity, nn.Dropout, Concat, Reorg, nn.Unflatten,
                      PatchTokens)):  # fmt: skip
        return LayerShape(name, "data", in_shape, out_shape)
    return None


def extract_layers(model: nn.Module, input_shape: tuple[int, ...]) -> list[LayerShape]:
    """Layer shapes of ``model`` for one input of ``input_shape`` (without batch).

    Parameters
    ----------
    model : torch.nn.Module
        Any model; it is deep-copied to the ``meta`` device, the original is untouched.
    input_shape : tuple of int
        One input, e.g. ``(1, 28, 28)`` or ``(3, 224, 224)``.

    Returns
    -------
    list of LayerShape
        In execution order. Leaf modules of unknown kind are skipped.
    """
    meta_model = copy.deepcopy(model).to("meta").eval()  # batch 1: BatchNorm in eval mode
    names = {m: n for n, m in meta_model.named_modules()}
    found: list[LayerShape] = []

    def hook(module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        if isinstance(module, nn.MultiheadAttention):
            found.extend(_attention(names[module], module, inputs))
        elif isinstance(output, torch.Tensor):
            layer = _describe(names[module], module, inputs, output)
            if layer is not None:
                found.append(layer)

    inside_attention = {
        c for m in meta_model.modules() if isinstance(m, nn.MultiheadAttention)
        for c in m.modules() if c is not m
    }  # fmt: skip
    handles = [
        m.register_forward_hook(hook)
        for m in meta_model.modules()
        if m not in inside_attention
        and (not list(m.children()) or isinstance(m, (Add, Concat, Reorg, nn.MultiheadAttention)))
    ]
    try:
        with torch.no_grad():
            meta_model(torch.zeros((1, *input_shape), device="meta"))
    finally:
        for h in handles:
            h.remove()
    return found
