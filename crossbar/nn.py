"""Analog layers for torch models: ``AnalogLinear``, ``AnalogConv2d`` and ``convert``.

>>> import devices
>>> from crossbar import CrossbarConfig
>>> from crossbar.nn import convert, calibrate, set_time
>>> analog = convert(model, CrossbarConfig(), device_model=devices.get("pcm"))  # doctest: +SKIP
>>> calibrate(analog, x_train[:256]); set_time(analog, 86400.0)                 # doctest: +SKIP
>>> logits = analog(x_test)                                                       # doctest: +SKIP

Weights live on crossbars (programmed once, when converted); biases stay digital.
Convolutions are lowered with im2col (``unfold``) onto the crossbar, one crossbar per
group. A converted model saves and loads with ``state_dict`` (programmed cells included)
into a model converted from the same architecture, or whole with ``torch.save``.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn

from crossbar.config import CrossbarConfig
from crossbar.core import Crossbar
from devices.base import DeviceModel

__all__ = ["AnalogLinear", "AnalogConv2d", "convert", "calibrate", "set_time", "analog_layers"]


class _AnalogBase(nn.Module):
    """Shared state: the read time ``t_s`` and the calibration switch."""

    t_s: float
    calibrating: bool

    def _crossbars(self) -> list[Crossbar]:
        return [m for m in self.modules() if isinstance(m, Crossbar)]

    def _apply_xbar(self, xbar: Crossbar, x: torch.Tensor) -> torch.Tensor:
        if self.calibrating:
            xbar.calibrate(x)
        return xbar.matvec(x, t=self.t_s)


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
        self.t_s = 0.0
        self.calibrating = False

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
        layer.crossbar.program(w, generator)
        if linear.bias is not None:
            layer.bias = nn.Parameter(linear.bias.detach().clone())
        return layer.to(w.device)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(..., in_features)`` → ``(..., out_features)``."""
        y = self._apply_xbar(self.crossbar, x)
        return y if self.bias is None else y + self.bias

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}"


class AnalogConv2d(_AnalogBase):
    """``nn.Conv2d`` (zero padding) lowered by im2col onto one crossbar per group.

    Parameters are those of ``nn.Conv2d`` (integer or pair sizes), plus ``device_model``,
    ``config`` and ``seed`` as in :class:`AnalogLinear`.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: tuple[int, int],
        stride: tuple[int, int] = (1, 1),
        padding: tuple[int, int] = (0, 0),
        dilation: tuple[int, int] = (1, 1),
        groups: int = 1,
        bias: bool = True,
        *,
        device_model: DeviceModel,
        config: CrossbarConfig | None = None,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size, self.stride = tuple(kernel_size), tuple(stride)
        self.padding, self.dilation = tuple(padding), tuple(dilation)
        self.crossbars = nn.ModuleList(
            Crossbar(device_model, config, seed=seed + g) for g in range(groups)
        )
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        self.t_s = 0.0
        self.calibrating = False

    @classmethod
    def from_conv(
        cls,
        conv: nn.Conv2d,
        device_model: DeviceModel,
        config: CrossbarConfig | None = None,
        generator: torch.Generator | None = None,
        seed: int = 0,
    ) -> AnalogConv2d:
        """An analog copy of ``conv``, programmed with ``generator``."""
        if conv.padding_mode != "zeros" or isinstance(conv.padding, str):
            raise ValueError(
                "AnalogConv2d supports integer zero padding only; got "
                f"padding={conv.padding!r}, padding_mode={conv.padding_mode!r}"
            )
        layer = cls(
            conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding,
            conv.dilation, conv.groups, conv.bias is not None,
            device_model=device_model, config=config, seed=seed,
        )  # fmt: skip
        w = conv.weight.detach()
        per_group = conv.out_channels // conv.groups
        for g, xbar in enumerate(layer.crossbars):
            xbar.program(w[g * per_group : (g + 1) * per_group].flatten(1), generator)
        if conv.bias is not None:
            layer.bias = nn.Parameter(conv.bias.detach().clone())
        return layer.to(w.device)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, C_in, H, W)`` → ``(B, C_out, H_out, W_out)``."""
        kh, kw = self.kernel_size
        h_out = x.shape[-2] + 2 * self.padding[0] - self.dilation[0] * (kh - 1) - 1
        h_out = h_out // self.stride[0] + 1
        w_out = x.shape[-1] + 2 * self.padding[1] - self.dilation[1] * (kw - 1) - 1
        w_out = w_out // self.stride[1] + 1
        cols = F.unfold(x, self.kernel_size, self.dilation, self.padding, self.stride)
        k = cols.shape[1] // self.groups  # (C_in/groups)·kh·kw, channel-major
        outs = [
            self._apply_xbar(xbar, cols[:, g * k : (g + 1) * k].transpose(1, 2))
            for g, xbar in enumerate(self.crossbars)
        ]
        y = torch.cat(outs, dim=-1).transpose(1, 2)
        y = y.reshape(x.shape[0], self.out_channels, h_out, w_out)
        return y if self.bias is None else y + self.bias.view(1, -1, 1, 1)

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}, padding={self.padding}, groups={self.groups}"
        )


def analog_layers(model: nn.Module) -> list[_AnalogBase]:
    """The analog layers of ``model`` in module order."""
    return [m for m in model.modules() if isinstance(m, _AnalogBase)]


def convert(
    model: nn.Module,
    config: CrossbarConfig | None = None,
    *,
    device_model: DeviceModel,
    generator: torch.Generator | None = None,
    seed: int = 0,
) -> nn.Module:
    """A copy of ``model`` with every ``nn.Linear``/``nn.Conv2d`` on crossbars.

    Parameters
    ----------
    model : torch.nn.Module
        Any model; it is deep-copied, the original is untouched. Other modules are kept.
    config : CrossbarConfig, optional
        One configuration for every layer.
    device_model : DeviceModel
        The cell.
    generator : torch.Generator, optional
        Programming noise for all layers, in module order (on the weights' device);
        default: each crossbar's own seeded generator.
    seed : int
        Layer ``i`` gets crossbar seed ``seed + 1000·i``.

    Returns
    -------
    torch.nn.Module
        The converted copy, in eval mode. Calibrate ranges with :func:`calibrate`.
    """
    out = copy.deepcopy(model)
    counter = [0]

    def swap(parent: nn.Module) -> None:
        for name, child in parent.named_children():
            layer_seed = seed + 1000 * counter[0]
            if isinstance(child, nn.Linear):
                new = AnalogLinear.from_linear(child, device_model, config, generator, layer_seed)
            elif isinstance(child, nn.Conv2d):
                new = AnalogConv2d.from_conv(child, device_model, config, generator, layer_seed)
            else:
                swap(child)
                continue
            counter[0] += 1
            setattr(parent, name, new)

    swap(out)
    return out.eval()


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
