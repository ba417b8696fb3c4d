"""Analog layers for torch models, and ``convert`` for whole models.

>>> import devices
>>> from crossbar import CrossbarConfig
>>> from crossbar.nn import convert, calibrate, set_time
>>> analog = convert(model, CrossbarConfig(), device_model=devices.get("pcm"))  # doctest: +SKIP
>>> print(analog.conversion_report)                                             # doctest: +SKIP
>>> calibrate(analog, x_train[:256]); set_time(analog, 86400.0)                 # doctest: +SKIP
>>> logits = analog(x_test)                                                       # doctest: +SKIP

What goes on crossbars (the matrices of matrix-vector products with stored weights), as
analog chips map them:

==========================  ==============================================================
``nn.Linear``               the weight matrix
``nn.Conv1d``/``Conv2d``    im2col (``unfold``) onto one crossbar per group, any
                            ``groups`` (depthwise: one small crossbar per channel, each
                            with its own drift compensation), any padding mode
``nn.ConvTranspose2d``      one MVM per input pixel (``W`` as ``(C_out·k·k, C_in)``), the
                            overlapping patches added digitally (``fold``)
``nn.LSTM``/``nn.GRU``      the input and hidden gate matrices of every layer and direction
                            (two crossbars each); gate nonlinearities and the state update
                            digital
``nn.MultiheadAttention``   the q, k, v and output projections; the attention products
                            ``QKᵀ``, softmax and ``·V`` digital (their operands change with
                            every input, nothing to store)
==========================  ==============================================================

Biases, normalisations, activations and pooling stay digital. Every conversion attaches a
:class:`ConversionReport` (``model.conversion_report``): which layers went analog, which
stayed digital and why; a weight layer left digital for a reason other than the user's
``exclude`` list also raises a ``UserWarning``. Each analog layer has
``effective_weights(t)`` (the weights its cells stand for at ``t``, aihwkit's
``get_weights``) and ``reprogram(generator)``; :func:`reprogram` writes a whole model again
without converting it again. A converted model saves and loads with ``state_dict``
(programmed cells and targets included) into a model converted from the same architecture.
"""

from __future__ import annotations

import copy
import dataclasses
import fnmatch
import math
import warnings
from collections.abc import Iterable, Mapping

import torch
import torch.nn.functional as F
from torch import nn

from crossbar.config import CrossbarConfig
from crossbar.core import Crossbar
from devices.base import DeviceModel

__all__ = [
    "AnalogLinear",
    "AnalogConv1d",
    "AnalogConv2d",
    "AnalogConvTranspose2d",
    "AnalogLSTM",
    "AnalogGRU",
    "AnalogMultiheadAttention",
    "ConversionReport",
    "LayerReport",
    "convert",
    "calibrate",
    "set_time",
    "reprogram",
    "analog_layers",
]


class _AnalogBase(nn.Module):
    """Shared state: the read time ``t_s`` and the calibration switch."""

    t_s: float
    calibrating: bool

    def _init_analog(self) -> None:
        self.t_s = 0.0
        self.calibrating = False

    def _crossbars(self) -> list[Crossbar]:
        return [m for m in self.modules() if isinstance(m, Crossbar)]

    def _apply_xbar(self, xbar: Crossbar, x: torch.Tensor) -> torch.Tensor:
        if self.calibrating:
            xbar.calibrate(x)
        return xbar.matvec(x, t=self.t_s)

    def _apply_xbar_rows(self, xbar: Crossbar, rows, n: int, unit: int) -> torch.Tensor:
        """:meth:`_apply_xbar` on inputs made chunk by chunk (:meth:`Crossbar.matvec_rows`)."""
        if self.calibrating:
            return self._apply_xbar(xbar, rows(0, n))
        return xbar.matvec_rows(rows, n, self.t_s, unit=unit)

    def _t(self, t: float | None) -> float:
        return self.t_s if t is None else float(t)

    def reprogram(self, generator: torch.Generator | None = None) -> _AnalogBase:
        """Write every crossbar of the layer again from its stored targets (recalibrate after)."""
        for xbar in self._crossbars():
            xbar.reprogram(generator)
        return self

    def effective_weights(self, t: float | None = None):
        """The weights the cells stand for at ``t`` (default: the layer's read time).

        Every analog layer class defines it (a tensor, or a dict of tensors for layers with
        several matrices); the base class only names the contract.
        """
        raise NotImplementedError(f"{type(self).__name__} defines no effective_weights")


def _program(xbar: Crossbar, w: torch.Tensor, generator: torch.Generator | None) -> None:
    xbar.program(w.detach(), generator)


class AnalogLinear(_AnalogBase):
    """``nn.Linear`` with its weight on a crossbar.

    Parameters
    ----------
    in_features, out_features : int
        As ``nn.Linear``.
    bias : bool
        Digital bias.
    device_model : DeviceModel
        The cell.
    config : CrossbarConfig, optional
        Crossbar configuration.
    seed : int
        Seed of the crossbar's internal generators.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        *,
        device_model: DeviceModel,
        config: CrossbarConfig | None = None,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.crossbar = Crossbar(device_model, config, seed=seed)
        self.bias = nn.Parameter(torch.zeros(out_features)) if bias else None
        self._init_analog()

    @classmethod
    def from_linear(
        cls,
        linear: nn.Linear,
        device_model: DeviceModel,
        config: CrossbarConfig | None = None,
        generator: torch.Generator | None = None,
        seed: int = 0,
    ) -> AnalogLinear:
        """An analog copy of ``linear``, programmed with ``generator``."""
        layer = cls(
            linear.in_features, linear.out_features, linear.bias is not None,
            device_model=device_model, config=config, seed=seed,
        )  # fmt: skip
        w = linear.weight.detach()
        _program(layer.crossbar, w, generator)
        if linear.bias is not None:
            layer.bias = nn.Parameter(linear.bias.detach().clone())
        return layer.to(w.device)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(..., in_features)`` → ``(..., out_features)``."""
        y = self._apply_xbar(self.crossbar, x)
        return y if self.bias is None else y + self.bias

    def effective_weights(self, t: float | None = None) -> torch.Tensor:
        """``(out_features, in_features)`` at ``t``."""
        return self.crossbar.effective_weights(self._t(t))

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}"


class _AnalogConvNd(_AnalogBase):
    """``nn.Conv1d``/``nn.Conv2d`` lowered by im2col onto one crossbar per group."""

    ndim = 2

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        *,
        device_model: DeviceModel,
        config: CrossbarConfig | None = None,
        seed: int = 0,
    ) -> None:
        super().__init__()
        n = self.ndim

        def tup(v):
            return tuple(v) if isinstance(v, (tuple, list)) else (v,) * n

        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size, self.stride = tup(kernel_size), tup(stride)
        self.dilation = tup(dilation)
        self.padding = padding if isinstance(padding, str) else tup(padding)
        self.padding_mode = padding_mode
        self._pad = _conv_pad(self.padding, self.kernel_size, self.dilation)
        self.crossbars = nn.ModuleList(
            Crossbar(device_model, config, seed=seed + g) for g in range(groups)
        )
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        self._init_analog()

    @classmethod
    def from_conv(
        cls,
        conv: nn.Conv1d | nn.Conv2d,
        device_model: DeviceModel,
        config: CrossbarConfig | None = None,
        generator: torch.Generator | None = None,
        seed: int = 0,
    ):
        """An analog copy of ``conv``, programmed with ``generator``."""
        layer = cls(
            conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding,
            conv.dilation, conv.groups, conv.bias is not None, conv.padding_mode,
            device_model=device_model, config=config, seed=seed,
        )  # fmt: skip
        w = conv.weight.detach()
        per_group = conv.out_channels // conv.groups
        for g, xbar in enumerate(layer.crossbars):
            _program(xbar, w[g * per_group : (g + 1) * per_group].flatten(1), generator)
        if conv.bias is not None:
            layer.bias = nn.Parameter(conv.bias.detach().clone())
        return layer.to(w.device)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, C_in, *spatial)`` → ``(B, C_out, *spatial_out)`` (unbatched input too)."""
        unbatched = x.dim() == self.ndim + 1
        if unbatched:
            x = x.unsqueeze(0)
        mode = "constant" if self.padding_mode == "zeros" else self.padding_mode
        if any(self._pad):
            x = F.pad(x, self._pad, mode=mode)
        if self.ndim == 1:
            x = x.unsqueeze(-2)
            k, s, d = (1, *self.kernel_size), (1, *self.stride), (1, *self.dilation)
        else:
            k, s, d = self.kernel_size, self.stride, self.dilation
        out_hw = [(x.shape[-2 + i] - d[i] * (k[i] - 1) - 1) // s[i] + 1 for i in range(2)]
        n_img, n_pix = x.shape[0], out_hw[0] * out_hw[1]
        cg = x.shape[1] // self.groups
        xh = x.permute(0, 2, 3, 1)  # (B, H, W, C_in) view

        def patches(g: int):
            def rows(i: int, j: int) -> torch.Tensor:
                return _im2col(xh[i // n_pix : j // n_pix, ..., g * cg : (g + 1) * cg], k, s, d,
                               out_hw)  # fmt: skip

            return rows

        outs = [
            self._apply_xbar_rows(xbar, patches(g), n_img * n_pix, n_pix)
            for g, xbar in enumerate(self.crossbars)
        ]
        y = outs[0] if len(outs) == 1 else torch.cat(outs, dim=-1)
        y = y.reshape(n_img, n_pix, -1).transpose(1, 2).reshape(n_img, self.out_channels, *out_hw)
        if self.ndim == 1:
            y = y.squeeze(-2)
        if self.bias is not None:
            y = y + self.bias.view(1, -1, *([1] * self.ndim))
        return y.squeeze(0) if unbatched else y

    def effective_weights(self, t: float | None = None) -> torch.Tensor:
        """``(C_out, C_in / groups, *kernel_size)`` at ``t``."""
        t = self._t(t)
        w = torch.cat([xbar.effective_weights(t) for xbar in self.crossbars], dim=0)
        return w.reshape(self.out_channels, self.in_channels // self.groups, *self.kernel_size)

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}, padding={self.padding}, groups={self.groups}"
        )


#: Below this many patch elements :func:`_im2col` uses ``F.unfold`` (one call) instead of
#: ``kh·kw`` strided copies. Measured (1 thread, 3x3 kernels): 7 k elements 18 µs against
#: 57 µs, 28 k 49 against 71 µs, 56 k equal, 113 k 168 against 131 µs, 0.9 M 5.1 against
#: 0.65 ms.
_UNFOLD_MAX_ELEMENTS = 60_000


def _im2col(xh: torch.Tensor, k, s, d, out_hw) -> torch.Tensor:
    """Patches of ``xh (b, H, W, C)`` (padded input, channels last; any strides) as rows
    ``(b·H_out·W_out, C·kh·kw)``, channel-major like ``F.unfold``'s columns.

    One strided copy per kernel offset (kh·kw of them) into the rows' layout: equal to
    ``F.unfold(x).transpose(1, 2)`` and ~3x faster than it and the transpose (the im2col
    kernel copies rows of a few pixels, the transpose is a strided copy), on inputs either
    channels-last (what the analog conv itself returns) or not. Small inputs (batch 1)
    take ``F.unfold``, whose one call costs less than the ``kh·kw`` copies' overhead.
    """
    b, c = xh.shape[0], xh.shape[3]
    (kh, kw), (sh, sw), (dh, dw), (ho, wo) = k, s, d, out_hw
    if b * ho * wo * c * kh * kw < _UNFOLD_MAX_ELEMENTS:  # small: one call beats kh·kw copies
        cols = F.unfold(xh.permute(0, 3, 1, 2), (kh, kw), dilation=(dh, dw), stride=(sh, sw))
        return cols.transpose(1, 2).reshape(b * ho * wo, c * kh * kw)
    out = xh.new_empty((b, ho, wo, c, kh, kw))
    for i in range(kh):
        for j in range(kw):
            hs, ws = i * dh, j * dw
            out[..., i, j] = xh[
                :, hs : hs + (ho - 1) * sh + 1 : sh, ws : ws + (wo - 1) * sw + 1 : sw
            ]
    return out.view(b * ho * wo, c * kh * kw)


def _conv_pad(padding, kernel_size, dilation) -> tuple[int, ...]:
    """``F.pad`` amounts (last dim first) for integer or 'same'/'valid' conv padding."""
    n = len(kernel_size)
    if padding == "valid":
        return (0,) * (2 * n)
    if padding == "same":
        out = []
        for k, d in zip(reversed(kernel_size), reversed(dilation), strict=True):
            total = d * (k - 1)
            out += [total // 2, total - total // 2]
        return tuple(out)
    return tuple(p for v in reversed(padding) for p in (v, v))


class AnalogConv1d(_AnalogConvNd):
    """``nn.Conv1d`` (any padding mode, any ``groups``) on one crossbar per group."""

    ndim = 1


class AnalogConv2d(_AnalogConvNd):
    """``nn.Conv2d`` (any padding mode, any ``groups``) on one crossbar per group.

    Parameters are those of ``nn.Conv2d`` (integer or pair sizes), plus ``device_model``,
    ``config`` and ``seed`` as in :class:`AnalogLinear`.
    """

    ndim = 2


class AnalogConvTranspose2d(_AnalogBase):
    """``nn.ConvTranspose2d``: one MVM per input pixel, overlapping patches added digitally.

    Each group's weight ``(C_in/g, C_out/g, kh, kw)`` is the crossbar matrix
    ``(C_out/g·kh·kw, C_in/g)``: an input pixel's channels produce its output patch, and
    ``fold`` adds the patches at their strided positions (the col2im of the transposed conv).
    """

    def __init__(self, conv: nn.ConvTranspose2d, device_model, config, seed: int) -> None:
        super().__init__()
        self.in_channels, self.out_channels = conv.in_channels, conv.out_channels
        self.groups = conv.groups
        self.kernel_size, self.stride = tuple(conv.kernel_size), tuple(conv.stride)
        self.padding, self.dilation = tuple(conv.padding), tuple(conv.dilation)
        self.output_padding = tuple(conv.output_padding)
        self.crossbars = nn.ModuleList(
            Crossbar(device_model, config, seed=seed + g) for g in range(conv.groups)
        )
        self.bias = None
        if conv.bias is not None:
            self.bias = nn.Parameter(conv.bias.detach().clone())
        self._init_analog()

    @classmethod
    def from_conv(cls, conv, device_model, config=None, generator=None, seed: int = 0):
        """An analog copy of ``conv``, programmed with ``generator``."""
        layer = cls(conv, device_model, config, seed)
        w = conv.weight.detach()  # (C_in, C_out/g, kh, kw)
        cin_g = conv.in_channels // conv.groups
        for g, xbar in enumerate(layer.crossbars):
            _program(xbar, w[g * cin_g : (g + 1) * cin_g].flatten(1).t(), generator)
        return layer.to(w.device)

    def forward(self, x: torch.Tensor, output_size: list[int] | None = None) -> torch.Tensor:
        """``(B, C_in, H, W)`` → ``(B, C_out, H_out, W_out)`` as ``nn.ConvTranspose2d``."""
        unbatched = x.dim() == 3
        if unbatched:
            x = x.unsqueeze(0)
        b, _, h, w = x.shape
        (kh, kw), (sh, sw), (ph, pw), (dh, dw) = (
            self.kernel_size, self.stride, self.padding, self.dilation
        )  # fmt: skip
        base = (
            (h - 1) * sh - 2 * ph + dh * (kh - 1) + 1,
            (w - 1) * sw - 2 * pw + dw * (kw - 1) + 1,
        )
        if output_size is not None:
            size = tuple(output_size)[-2:]
        else:
            size = (base[0] + self.output_padding[0], base[1] + self.output_padding[1])
        cin_g = self.in_channels // self.groups
        pix = x.flatten(2).transpose(1, 2)  # (B, H·W, C_in)
        cols = torch.cat(
            [
                self._apply_xbar(xbar, pix[..., g * cin_g : (g + 1) * cin_g])
                for g, xbar in enumerate(self.crossbars)
            ],
            dim=-1,
        ).transpose(1, 2)  # (B, C_out·kh·kw, H·W)
        y = F.fold(cols, size, self.kernel_size, self.dilation, self.padding, self.stride)
        if self.bias is not None:
            y = y + self.bias.view(1, -1, 1, 1)
        return y.squeeze(0) if unbatched else y

    def effective_weights(self, t: float | None = None) -> torch.Tensor:
        """``(C_in, C_out / groups, kh, kw)`` at ``t``."""
        t = self._t(t)
        cout_g = self.out_channels // self.groups
        parts = [
            xbar.effective_weights(t).t().reshape(-1, cout_g, *self.kernel_size)
            for xbar in self.crossbars
        ]
        return torch.cat(parts, dim=0)


class _AnalogRNN(_AnalogBase):
    """LSTM/GRU with the gate matrices on crossbars: ``W_ih`` and ``W_hh`` per layer and direction."""

    mode = "LSTM"
    gates = 4

    def __init__(self, rnn: nn.LSTM | nn.GRU, device_model, config, seed: int) -> None:
        super().__init__()
        self.input_size, self.hidden_size = rnn.input_size, rnn.hidden_size
        self.num_layers, self.bidirectional = rnn.num_layers, rnn.bidirectional
        self.batch_first, self.has_bias = rnn.batch_first, rnn.bias
        self.dirs = 2 if rnn.bidirectional else 1
        self.ih = nn.ModuleList()
        self.hh = nn.ModuleList()
        k = 0
        for layer in range(self.num_layers):
            for d in range(self.dirs):
                self.ih.append(Crossbar(device_model, config, seed=seed + k))
                self.hh.append(Crossbar(device_model, config, seed=seed + k + 1))
                k += 2
                sfx = f"_l{layer}" + ("_reverse" if d else "")
                for kind in ("ih", "hh"):
                    b = getattr(rnn, f"bias_{kind}{sfx}", None)
                    value = b.detach().clone() if b is not None else None
                    self.register_parameter(
                        f"bias_{kind}{sfx}", nn.Parameter(value) if value is not None else None
                    )
        self._init_analog()

    @classmethod
    def from_rnn(cls, rnn, device_model, config=None, generator=None, seed: int = 0):
        """An analog copy of ``rnn``, programmed with ``generator``."""
        layer = cls(rnn, device_model, config, seed)
        for sfx, ih, hh in layer._cells():
            _program(ih, getattr(rnn, f"weight_ih{sfx}"), generator)
            _program(hh, getattr(rnn, f"weight_hh{sfx}"), generator)
        return layer.to(rnn.weight_ih_l0.device)

    def _cells(self):
        k = 0
        for layer in range(self.num_layers):
            for d in range(self.dirs):
                yield f"_l{layer}" + ("_reverse" if d else ""), self.ih[k], self.hh[k]
                k += 1

    def _bias(self, kind: str, sfx: str) -> torch.Tensor | None:
        return getattr(self, f"bias_{kind}{sfx}")

    def _step(self, gi: torch.Tensor, gh: torch.Tensor, h, c):
        """One cell update from the input and hidden gate pre-activations."""
        if self.mode == "LSTM":
            i, f, g, o = (gi + gh).chunk(4, dim=-1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            return torch.sigmoid(o) * torch.tanh(c), c
        ri, zi, ni = gi.chunk(3, dim=-1)
        rh, zh, nh = gh.chunk(3, dim=-1)
        r, z = torch.sigmoid(ri + rh), torch.sigmoid(zi + zh)
        n = torch.tanh(ni + r * nh)
        return (1 - z) * n + z * h, c

    def _run(self, ih, hh, sfx, x, h, c, reverse: bool, weights_digital: bool):
        """One direction of one layer over ``x (L, B, I)``: outputs ``(L, B, H)``, h, c."""
        b_ih, b_hh = self._bias("ih", sfx), self._bias("hh", sfx)
        if weights_digital:  # calibration: the trajectory the exact weights give
            gi = x @ ih.target.t()
        else:
            gi = ih.matvec(x, t=self.t_s)
        if b_ih is not None:
            gi = gi + b_ih
        steps = range(x.shape[0] - 1, -1, -1) if reverse else range(x.shape[0])
        out = [None] * x.shape[0]
        for s in steps:
            gh = h @ hh.target.t() if weights_digital else hh.matvec(h, t=self.t_s)
            if b_hh is not None:
                gh = gh + b_hh
            h, c = self._step(gi[s], gh, h, c)
            out[s] = h
        return torch.stack(out), h, c

    def forward(self, x: torch.Tensor, hx=None):
        """As ``nn.LSTM``/``nn.GRU`` (no packed sequences): ``output, h_n`` (``(h_n, c_n)``)."""
        if isinstance(x, nn.utils.rnn.PackedSequence):
            raise ValueError(f"Analog{self.mode} does not take packed sequences; pad them")
        unbatched = x.dim() == 2
        if unbatched:
            x = x.unsqueeze(1)
        elif self.batch_first:
            x = x.transpose(0, 1)
        n_b = x.shape[1]
        shape = (self.num_layers * self.dirs, n_b, self.hidden_size)
        if self.mode == "LSTM":
            h0, c0 = hx if hx is not None else (x.new_zeros(shape), x.new_zeros(shape))
        else:
            h0, c0 = (hx if hx is not None else x.new_zeros(shape)), None
        if unbatched and hx is not None:
            h0 = h0.unsqueeze(1)
            c0 = c0.unsqueeze(1) if c0 is not None else None
        h_n, c_n = [], []
        layer_in = x
        cells = list(self._cells())
        for layer in range(self.num_layers):
            outs = []
            for d in range(self.dirs):
                k = layer * self.dirs + d
                sfx, ih, hh = cells[k]
                c_init = c0[k] if c0 is not None else None
                if self.calibrating:
                    self._calibrate(ih, hh, sfx, layer_in, h0[k], c_init, bool(d))
                y, h, c = self._run(ih, hh, sfx, layer_in, h0[k], c_init, bool(d), False)
                outs.append(y)
                h_n.append(h)
                c_n.append(c)
            layer_in = torch.cat(outs, dim=-1)
        out = layer_in
        if unbatched:
            out = out.squeeze(1)
        elif self.batch_first:
            out = out.transpose(0, 1)
        hs = torch.stack(h_n)
        if unbatched:
            hs = hs.squeeze(1)
        if self.mode == "LSTM":
            cs = torch.stack(c_n)
            return out, (hs, cs.squeeze(1) if unbatched else cs)
        return out, hs

    def _calibrate(self, ih, hh, sfx, x, h0, c0, reverse):
        """Calibrate ``ih`` on the layer input and ``hh`` on the hidden states it meets."""
        y, h, c = self._run(ih, hh, sfx, x, h0, c0, reverse, True)
        # The hidden states each step reads: h0, then the outputs (in the step order).
        hs = torch.cat([h0.unsqueeze(0), y[:-1]] if not reverse else [y[1:], h0.unsqueeze(0)])
        ih.calibrate(x.reshape(-1, x.shape[-1]))
        hh.calibrate(hs.reshape(-1, hs.shape[-1]))
        return y, h, c

    def effective_weights(self, t: float | None = None) -> dict[str, torch.Tensor]:
        """``{"weight_ih_l0": ..., "weight_hh_l0": ..., ...}`` at ``t`` (torch's names)."""
        t = self._t(t)
        out = {}
        for sfx, ih, hh in self._cells():
            out[f"weight_ih{sfx}"] = ih.effective_weights(t)
            out[f"weight_hh{sfx}"] = hh.effective_weights(t)
        return out

    def extra_repr(self) -> str:
        return (
            f"{self.input_size}, {self.hidden_size}, num_layers={self.num_layers}, "
            f"bidirectional={self.bidirectional}, batch_first={self.batch_first}"
        )


class AnalogLSTM(_AnalogRNN):
    """``nn.LSTM`` (no ``proj_size``) with ``W_ih`` and ``W_hh`` of every layer on crossbars."""

    mode, gates = "LSTM", 4


class AnalogGRU(_AnalogRNN):
    """``nn.GRU`` with ``W_ih`` and ``W_hh`` of every layer on crossbars."""

    mode, gates = "GRU", 3


class AnalogMultiheadAttention(_AnalogBase):
    """``nn.MultiheadAttention`` with the q, k, v and output projections on crossbars.

    The attention products ``softmax(QKᵀ/√d + mask)·V`` are digital: their operands are
    activations, new for every input (analog chips keep them in digital units). Same call
    signature and outputs as ``nn.MultiheadAttention`` (without ``add_bias_kv`` and
    ``add_zero_attn``, which stay digital).
    """

    def __init__(self, mha: nn.MultiheadAttention, device_model, config, seed: int) -> None:
        super().__init__()
        self.embed_dim, self.num_heads = mha.embed_dim, mha.num_heads
        self.kdim, self.vdim = mha.kdim, mha.vdim
        self.batch_first, self.dropout = mha.batch_first, mha.dropout
        self._qkv_same_embed_dim = mha._qkv_same_embed_dim
        self.head_dim = mha.head_dim
        self.q_proj = Crossbar(device_model, config, seed=seed)
        self.k_proj = Crossbar(device_model, config, seed=seed + 1)
        self.v_proj = Crossbar(device_model, config, seed=seed + 2)
        self.out_proj = AnalogLinear(
            self.embed_dim, self.embed_dim, mha.out_proj.bias is not None,
            device_model=device_model, config=config, seed=seed + 3,
        )  # fmt: skip
        bias = mha.in_proj_bias
        self.in_proj_bias = nn.Parameter(bias.detach().clone()) if bias is not None else None
        self._init_analog()
        # torch's fused transformer fast path reads the projection weights directly and
        # would run this layer digitally; an attached (no-op) hook is torch's documented
        # condition that disables it ("forward pre-/hooks are attached to the module").
        self.register_forward_pre_hook(_no_fast_path)

    @classmethod
    def from_mha(cls, mha, device_model, config=None, generator=None, seed: int = 0):
        """An analog copy of ``mha``, programmed with ``generator``."""
        layer = cls(mha, device_model, config, seed)
        e = mha.embed_dim
        if mha._qkv_same_embed_dim:
            wq, wk, wv = (
                mha.in_proj_weight[:e],
                mha.in_proj_weight[e : 2 * e],
                mha.in_proj_weight[2 * e :],
            )
        else:
            wq, wk, wv = mha.q_proj_weight, mha.k_proj_weight, mha.v_proj_weight
        for xbar, w in ((layer.q_proj, wq), (layer.k_proj, wk), (layer.v_proj, wv)):
            _program(xbar, w, generator)
        _program(layer.out_proj.crossbar, mha.out_proj.weight, generator)
        if mha.out_proj.bias is not None:
            layer.out_proj.bias = nn.Parameter(mha.out_proj.bias.detach().clone())
        return layer.to(wq.device)

    @property
    def t_s(self) -> float:  # type: ignore[override]
        return self._t_s

    @t_s.setter
    def t_s(self, value: float) -> None:
        self._t_s = float(value)
        if "out_proj" in self._modules:
            self.out_proj.t_s = self._t_s

    @property
    def calibrating(self) -> bool:  # type: ignore[override]
        return self._calibrating

    @calibrating.setter
    def calibrating(self, value: bool) -> None:
        self._calibrating = bool(value)
        if "out_proj" in self._modules:
            self.out_proj.calibrating = self._calibrating

    def forward(
        self,
        query: torch.Tensor,
        key: torch.Tensor,
        value: torch.Tensor,
        key_padding_mask: torch.Tensor | None = None,
        need_weights: bool = True,
        attn_mask: torch.Tensor | None = None,
        average_attn_weights: bool = True,
        is_causal: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """As ``nn.MultiheadAttention.forward``: ``(attn_output, attn_weights or None)``."""
        unbatched = query.dim() == 2
        if unbatched:
            query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.unsqueeze(0)
        elif self.batch_first:
            query, key, value = (a.transpose(0, 1) for a in (query, key, value))
        tgt, n_b, e = query.shape
        src = key.shape[0]
        h, d = self.num_heads, self.head_dim
        bq = bk = bv = None
        if self.in_proj_bias is not None:
            bq, bk, bv = self.in_proj_bias.chunk(3)
        q = self._apply_xbar(self.q_proj, query)
        k = self._apply_xbar(self.k_proj, key)
        v = self._apply_xbar(self.v_proj, value)
        if bq is not None:
            q, k, v = q + bq, k + bk, v + bv
        q = q.reshape(tgt, n_b * h, d).transpose(0, 1)  # (B·h, L, d)
        k = k.reshape(src, n_b * h, d).transpose(0, 1)
        v = v.reshape(src, n_b * h, d).transpose(0, 1)
        scores = (q / math.sqrt(d)) @ k.transpose(1, 2)  # digital: (B·h, L, S)
        mask = _float_mask(attn_mask, scores.dtype)
        if mask is None and is_causal:
            causal = torch.ones(tgt, src, dtype=torch.bool, device=q.device).triu(1)
            mask = _float_mask(causal, scores.dtype)
        if mask is not None:
            scores = scores + (mask if mask.dim() == 2 else mask.view(n_b * h, tgt, src))
        if key_padding_mask is not None:
            kpm = _float_mask(key_padding_mask, scores.dtype)
            scores = (scores.view(n_b, h, tgt, src) + kpm.view(n_b, 1, 1, src)).view(
                n_b * h, tgt, src
            )
        attn = torch.softmax(scores, dim=-1)
        if self.training and self.dropout > 0:
            attn = F.dropout(attn, p=self.dropout)
        out = (attn @ v).transpose(0, 1).reshape(tgt, n_b, e)  # digital
        out = self.out_proj(out)
        if unbatched:
            out = out.squeeze(1)
        elif self.batch_first:
            out = out.transpose(0, 1)
        weights = None
        if need_weights:
            weights = attn.view(n_b, h, tgt, src)
            weights = weights.mean(1) if average_attn_weights else weights
            if unbatched:
                weights = weights.squeeze(0)
        return out, weights

    def effective_weights(self, t: float | None = None) -> dict[str, torch.Tensor]:
        """Projection matrices at ``t``: ``q/k/v_proj_weight``, ``in_proj_weight`` (when
        q, k, v share the embedding size) and ``out_proj.weight``."""
        t = self._t(t)
        out = {
            "q_proj_weight": self.q_proj.effective_weights(t),
            "k_proj_weight": self.k_proj.effective_weights(t),
            "v_proj_weight": self.v_proj.effective_weights(t),
            "out_proj.weight": self.out_proj.effective_weights(t),
        }
        if self._qkv_same_embed_dim:
            out["in_proj_weight"] = torch.cat([out[f"{c}_proj_weight"] for c in "qkv"])
        return out

    def extra_repr(self) -> str:
        return f"embed_dim={self.embed_dim}, num_heads={self.num_heads}"


def _no_fast_path(module, args):
    return None


def _float_mask(mask: torch.Tensor | None, dtype: torch.dtype) -> torch.Tensor | None:
    """Boolean masks (True = do not attend) as ``-inf``; float masks are added as they are."""
    if mask is None:
        return None
    if mask.dtype == torch.bool:
        return torch.zeros(mask.shape, dtype=dtype, device=mask.device).masked_fill(
            mask, float("-inf")
        )
    return mask.to(dtype)


# -- the conversion report ---------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class LayerReport:
    """Where one module of a converted model runs.

    Attributes
    ----------
    name : str
        Qualified module name (``""`` for the root).
    kind : str
        The original module's class name.
    placement : {"analog", "digital"}
        On crossbars or in digital logic.
    reason : str
        Why (what is on the crossbars, or why it stays digital).
    weights : int
        Stored weights (elements of its weight matrices).
    crossbars : int
        Crossbars (matrices) the layer uses; 0 if digital.
    """

    name: str
    kind: str
    placement: str
    reason: str
    weights: int = 0
    crossbars: int = 0


class ConversionReport(list):
    """The :class:`LayerReport` rows of one conversion, in module order; prints as a table."""

    def analog(self) -> list[LayerReport]:
        """The rows placed on crossbars."""
        return [r for r in self if r.placement == "analog"]

    def digital(self) -> list[LayerReport]:
        """The rows left digital."""
        return [r for r in self if r.placement == "digital"]

    def __str__(self) -> str:
        head = ("layer", "kind", "where", "weights", "xbars", "why")
        rows = [(r.name or "(root)", r.kind, r.placement, f"{r.weights:,}", str(r.crossbars),
                 r.reason) for r in self]  # fmt: skip
        widths = [max(len(x[i]) for x in [head, *rows]) for i in range(5)]
        lines = ["  ".join(c.ljust(w) for c, w in zip(x[:5], widths, strict=True)) + "  " + x[5]
                 for x in [head, *rows]]  # fmt: skip
        n_a = sum(r.weights for r in self.analog())
        n_all = sum(r.weights for r in self) or 1
        lines.append(
            f"{len(self.analog())} analog layers ({n_a:,} weights, {100 * n_a / n_all:.1f} %), "
            f"{len(self.digital())} digital"
        )
        return "\n".join(lines)


_NORMS = (nn.modules.batchnorm._NormBase, nn.LayerNorm, nn.GroupNorm, nn.RMSNorm)


def _analog_builder(module: nn.Module):
    """``(builder, what goes on crossbars)`` for a convertible module, or ``(None, why not)``."""
    if isinstance(module, nn.MultiheadAttention):
        if module.bias_k is not None or module.add_zero_attn:
            return None, "add_bias_kv/add_zero_attn are not supported on crossbars"
        return (
            AnalogMultiheadAttention.from_mha,
            "q, k, v and output projections on 4 crossbars; QKᵀ, softmax and ·V digital",
        )
    if isinstance(module, nn.Linear):
        return AnalogLinear.from_linear, "weight matrix on a crossbar; bias digital"
    if isinstance(module, (nn.Conv1d, nn.Conv2d)):
        g = module.groups
        what = "depthwise: one crossbar per channel" if g == module.in_channels and g > 1 else (
            f"im2col, {g} crossbar{'s' if g > 1 else ''} (one per group)"
        )  # fmt: skip
        cls = AnalogConv1d if isinstance(module, nn.Conv1d) else AnalogConv2d
        return cls.from_conv, what
    if isinstance(module, nn.ConvTranspose2d):
        return AnalogConvTranspose2d.from_conv, "one MVM per input pixel; patch overlap-add digital"
    if isinstance(module, (nn.LSTM, nn.GRU)):
        if getattr(module, "proj_size", 0):
            return None, "LSTM with proj_size is not supported on crossbars"
        cls = AnalogLSTM if isinstance(module, nn.LSTM) else AnalogGRU
        return cls.from_rnn, "W_ih and W_hh of every layer/direction on crossbars; gates digital"
    if isinstance(module, (nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose3d, nn.RNN, nn.Bilinear)):
        return None, f"{type(module).__name__} has no crossbar mapping here"
    return None, ""


def _n_weights(module: nn.Module) -> int:
    return sum(p.numel() for n, p in module.named_parameters() if "weight" in n and p.dim() >= 2)


def _digital_reason(module: nn.Module) -> str | None:
    """Why a leaf module with parameters stays digital (None: nothing to report)."""
    if isinstance(module, _NORMS):
        return "normalisation: per-channel scale and shift, digital"
    if isinstance(module, (nn.Embedding, nn.EmbeddingBag)):
        return "embedding: a table look-up, no matrix-vector product"
    if any(True for _ in module.parameters(recurse=False)):
        return "parameters without a crossbar mapping"
    return None


def _match(name: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(name, p) for p in patterns)


def convert(
    model: nn.Module,
    config: CrossbarConfig | None = None,
    *,
    device_model: DeviceModel,
    generator: torch.Generator | None = None,
    seed: int = 0,
    layer_configs: Mapping[str, CrossbarConfig] | None = None,
    exclude: Iterable[str] = (),
    verbose: bool = False,
) -> nn.Module:
    """A copy of ``model`` with its matrix layers on crossbars, and a report of where each runs.

    Parameters
    ----------
    model : torch.nn.Module
        Any model; it is deep-copied, the original is untouched. The root may itself be a
        convertible layer.
    config : CrossbarConfig, optional
        Configuration of every layer without an entry in ``layer_configs``.
    device_model : DeviceModel
        The cell.
    generator : torch.Generator, optional
        Programming noise for all layers, in module order (on the weights' device);
        default: each crossbar's own seeded generator.
    seed : int
        Analog layer ``i`` gets crossbar seeds from ``seed + 1000·i``.
    layer_configs : mapping of str to CrossbarConfig, optional
        Per-layer configurations by qualified module name or ``fnmatch`` pattern
        (``{"features.0": cfg8bit, "classifier.*": cfg}``); the first match wins.
    exclude : iterable of str
        Layers kept digital: qualified names or patterns, and ``"first"``/``"last"`` for the
        first and last convertible layer in module order (digital first and last layers are
        common practice).
    verbose : bool
        Print the conversion report.

    Returns
    -------
    torch.nn.Module
        The converted copy, in eval mode, with ``conversion_report`` (a
        :class:`ConversionReport`). Calibrate ranges with :func:`calibrate`.
    """
    out = copy.deepcopy(model)
    exclude = list(exclude)
    layer_configs = dict(layer_configs or {})
    candidates = []  # convertible layers in module order (a MultiheadAttention is one)
    skip: list[str] = []
    for name, mod in out.named_modules():
        if any(name.startswith(s + ".") for s in skip):
            continue
        builder, _ = _analog_builder(mod)
        if builder is not None:
            candidates.append(name)
            skip.append(name)
    special = {"first": candidates[:1], "last": candidates[-1:]}
    excluded = {n for n in candidates if _match(n, [e for e in exclude if e not in special])}
    for token in ("first", "last"):
        if token in exclude:
            excluded.update(special[token])
    report = ConversionReport()
    counter = [0]
    warned: list[str] = []

    def visit(name: str, mod: nn.Module) -> nn.Module:
        builder, what = _analog_builder(mod)
        kind = type(mod).__name__
        if builder is not None:
            if name in excluded:
                report.append(LayerReport(name, kind, "digital", "excluded by the caller",
                                          _n_weights(mod)))  # fmt: skip
                return mod
            cfg = next(
                (c for p, c in layer_configs.items() if fnmatch.fnmatchcase(name, p)), config
            )
            new = builder(mod, device_model, cfg, generator, seed + 1000 * counter[0])
            counter[0] += 1
            new.layer_name = name
            report.append(LayerReport(name, kind, "analog", what, _n_weights(mod),
                                      len(new._crossbars())))  # fmt: skip
            return new
        if what:  # a weight layer we cannot map: digital, and loudly
            report.append(LayerReport(name, kind, "digital", what, _n_weights(mod)))
            warned.append(f"{name or '(root)'} ({kind}): {what}")
            return mod
        if isinstance(mod, nn.TransformerEncoder):
            mod.use_nested_tensor = False  # the nested-tensor fast path reads weights directly
        children = list(mod.named_children())
        if not children:
            reason = _digital_reason(mod)
            if reason is not None:
                report.append(LayerReport(name, kind, "digital", reason, _n_weights(mod)))
                if "without a crossbar mapping" in reason and _n_weights(mod):
                    warned.append(f"{name or '(root)'} ({kind}): {reason}")
            return mod
        for child_name, child in children:
            full = f"{name}.{child_name}" if name else child_name
            new = visit(full, child)
            if new is not child:
                setattr(mod, child_name, new)
        return mod

    out = visit("", out)
    for pat in list(layer_configs) + [e for e in exclude if e not in special]:
        if not any(fnmatch.fnmatchcase(n, pat) for n in candidates):
            raise ValueError(
                f"convert: {pat!r} matches no convertible layer; they are: {', '.join(candidates)}"
            )
    if warned:
        warnings.warn(
            "convert: weight layers left digital: " + "; ".join(warned), UserWarning, stacklevel=2
        )
    out.conversion_report = report
    if verbose:
        print(report)
    return out.eval()


def analog_layers(model: nn.Module) -> list[_AnalogBase]:
    """The analog layers of ``model`` in module order (nested analog parts excluded)."""
    found, inner = [], set()
    for m in model.modules():
        if isinstance(m, _AnalogBase) and id(m) not in inner:
            found.append(m)
            inner.update(id(s) for s in m.modules() if s is not m)
    return found


@torch.no_grad()
def calibrate(model: nn.Module, x: torch.Tensor) -> nn.Module:
    """Run ``model(x)`` once with every analog layer calibrating its DAC/ADC ranges on its input."""
    layers = analog_layers(model)
    for layer in layers:
        layer.calibrating = True
    try:
        model(x)
    finally:
        for layer in layers:
            layer.calibrating = False
    return model


def set_time(model: nn.Module, t_s: float) -> nn.Module:
    """Read every analog layer of ``model`` ``t_s`` seconds after programming.

    Each crossbar's read is drawn anew (:meth:`Crossbar.redraw`), also when ``t_s`` is
    the time already set: one call, one evaluation with its own read noise.
    """
    for layer in analog_layers(model):
        layer.t_s = float(t_s)
        for xbar in layer._crossbars():
            xbar.redraw()
    return model


def reprogram(model: nn.Module, generator: torch.Generator | None = None) -> nn.Module:
    """Write every analog layer of a converted ``model`` again, without converting it again.

    Each crossbar is programmed from its stored target weights with ``generator`` (module
    order; default: each crossbar's own seeded generator): fresh programming noise, time
    restarting at 0. Calibrations are cleared: call :func:`calibrate` again.
    """
    for layer in analog_layers(model):
        layer.reprogram(generator)
    return model
