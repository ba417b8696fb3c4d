"""Hardware-aware (noise-injection) training of a torch model for analog crossbars.

During training every ``nn.Linear``/``nn.Conv*`` weight is perturbed anew at each forward
pass, as its cells would perturb it (Joshi et al., Nat. Commun. 11, 2473, 2020; aihwkit's
``WeightModifierParameter`` and ``IOParameters.out_noise`` in training):

- weight noise ``W + σ_w · max|W_row| · ε`` (relative to each output's largest weight, the
  value mapped to ``g_max`` by per-column scaling), ``σ_w`` the device's programming noise
  over its conductance range (:meth:`HWAConfig.for_device`: PCM 1.055 µS / 25 µS = 4.2 %);
- output noise ``σ_out · max|W| · max|x| · ε`` on each layer's output (aihwkit's out_noise in
  its normalised units);
- optional drop-connect (a weight set to 0 with probability ``drop_connect``, a stuck or
  failed cell) and clipping to ``±clip_sigma`` standard deviations of each layer's weights
  after every step (aihwkit's layer-Gaussian clipping).

Evaluation (``model.eval()``) and the returned model are noise-free.
"""

from __future__ import annotations

import copy
import dataclasses

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parametrize

from devices.base import DeviceModel
from devices.validation import param, validate

__all__ = ["HWAConfig", "hwa_train", "relative_programming_noise"]

_WEIGHT_LAYERS = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.ConvTranspose2d)


def relative_programming_noise(device: DeviceModel, n: int = 4096) -> float:
    """Largest std of programmed values over ``g_min + {¼, ½, 1}·Δg``, as a fraction of ``Δg``.

    Measured by programming ``n`` cells per level with a fixed seed: works for any device
    model (PCM: σ_prog(g_max) = 1.055 µS of 25 µS, 0.042).
    """
    gen = torch.Generator().manual_seed(0)
    span = device.g_max - device.g_min
    worst = 0.0
    for frac in (0.25, 0.5, 1.0):
        target = torch.full((n,), device.g_min + frac * span, dtype=torch.float64)
        worst = max(worst, float(device.program(target, gen).value.std()) / span)
    return worst


@dataclasses.dataclass(frozen=True)
class HWAConfig:
    """Noise-injection training.

    Attributes
    ----------
    weight_noise : float
        ``σ_w``: weight noise std as a fraction of each output's ``max|W|``.
    output_noise : float
        ``σ_out``: output noise std in units of ``max|W|·max|x|`` of the layer.
    drop_connect : float
        Probability that a weight reads 0 in a training forward pass.
    clip_sigma : float or None
        Clip each layer's weights to ``±clip_sigma·std`` after every step (None: no clip).
    epochs, batch_size, lr : int, int, float
        Fine-tuning from the given (FP32-trained) weights with Adam.
    """

    weight_noise: float = param(0.042, ge=0.0, le=1.0, doc="std / max|W| of each output")
    output_noise: float = param(0.06, ge=0.0, le=1.0, doc="std / (max|W|·max|x|)")
    drop_connect: float = param(0.0, ge=0.0, lt=1.0, doc="probability a weight reads 0")
    clip_sigma: float | None = param(2.5, gt=0.0, le=100.0, optional=True, doc="clip at ±k·std")
    epochs: int = param(2, integer=True, ge=1, le=1000)
    batch_size: int = param(128, integer=True, ge=1)
    lr: float = param(5e-4, gt=0.0, le=1.0)

    def __post_init__(self) -> None:
        validate(self)

    @classmethod
    def for_device(cls, device: DeviceModel, **overrides) -> HWAConfig:
        """Weight noise from the device's measured programming noise; other fields default."""
        return cls(**{"weight_noise": relative_programming_noise(device), **overrides})


class _NoisyWeight(nn.Module):
    """Parametrization: the weight as the cells would read it, in training mode only."""

    def __init__(self, cfg: HWAConfig, generator: torch.Generator) -> None:
        super().__init__()
        self.cfg, self.generator = cfg, generator

    def forward(self, w: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return w
        cfg = self.cfg
        if cfg.weight_noise > 0:
            scale = w.detach().abs().flatten(1).amax(1).view(-1, *([1] * (w.dim() - 1)))
            eps = torch.randn(w.shape, generator=self.generator, dtype=w.dtype)
            w = w + cfg.weight_noise * scale * eps
        if cfg.drop_connect > 0:
            keep = torch.rand(w.shape, generator=self.generator, dtype=w.dtype) >= cfg.drop_connect
            w = w * keep
        return w


def _output_noise_hook(cfg: HWAConfig, generator: torch.Generator):
    def hook(module: nn.Module, args, out: torch.Tensor) -> torch.Tensor:
        if not module.training or cfg.output_noise == 0:
            return out
        x_max = args[0].detach().abs().amax()
        w_max = module.parametrizations.weight.original.detach().abs().amax()
        eps = torch.randn(out.shape, generator=generator, dtype=out.dtype)
        return out + cfg.output_noise * w_max * x_max * eps

    return hook


def hwa_train(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    config: HWAConfig | None = None,
    *,
    seed: int = 0,
) -> nn.Module:
    """A copy of ``model`` fine-tuned with noise injection on ``(x, y)`` (classification).

    Parameters
    ----------
    model : torch.nn.Module
        The trained FP32 model (left untouched).
    x, y : torch.Tensor
        Training inputs and integer labels.
    config : HWAConfig, optional
        Noise and schedule (default ``HWAConfig()``).
    seed : int
        Seeds the batch order and every noise draw: the same seed gives the same weights.

    Returns
    -------
    torch.nn.Module
        The fine-tuned copy, noise-free, in eval mode.
    """
    cfg = config or HWAConfig()
    gen = torch.Generator().manual_seed(seed)
    net = copy.deepcopy(model).train()
    layers = [m for m in net.modules() if isinstance(m, _WEIGHT_LAYERS)]
    hooks = []
    for m in layers:
        parametrize.register_parametrization(m, "weight", _NoisyWeight(cfg, gen))
        hooks.append(m.register_forward_hook(_output_noise_hook(cfg, gen)))
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr)
    n = x.shape[0]
    for _ in range(cfg.epochs):
        order = torch.randperm(n, generator=gen)
        for i in range(0, n, cfg.batch_size):
            idx = order[i : i + cfg.batch_size]
            opt.zero_grad()
            F.cross_entropy(net(x[idx]), y[idx]).backward()
            opt.step()
            if cfg.clip_sigma is not None:
                with torch.no_grad():
                    for m in layers:
                        w = m.parametrizations.weight.original
                        bound = cfg.clip_sigma * w.std()
                        w.clamp_(-bound, bound)
    for h in hooks:
        h.remove()
    for m in layers:
        parametrize.remove_parametrizations(m, "weight", leave_parametrized=False)
    return net.eval()
