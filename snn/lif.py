"""Discrete-time LIF networks in torch: surrogate-gradient training and the reference forward.

Why a module of our own and not snnTorch, Norse or SpikingJelly: the trained network is
simulated again in Brian2 (:mod:`snn.trained`), and the two must agree spike for spike, so
the exact discrete equations (order of leak, input, threshold and reset; strict or not
strict threshold; what the output layer does) have to be fixed in one place that both
sides read. The three libraries each fix them differently (snnTorch's ``reset_delay``,
Norse's continuous-time parameters integrated with ``dt``), and a dependency pulled in
for ~100 lines of forward code would also bring its own torch pin. Networks written by
those tools come in through NIR (:mod:`snn.nir_bridge`), which states its own equations.

Equations, per time step ``t = 1 … T`` and spiking layer ``l`` (a run of affine modules
of the workload between two ReLUs, each ReLU replaced by a LIF neuron):

.. math::

    v_l[t] = \\beta\\, \\hat v_l[t-1] + W_l s_{l-1}[t] + b_l, \\qquad
    s_l[t] = H(v_l[t] - \\vartheta), \\qquad
    \\hat v_l[t] = v_l[t] - \\vartheta s_l[t] \\;(\\text{subtract})
    \\;\\text{or}\\; v_l[t] (1 - s_l[t]) \\;(\\text{zero})

with ``H(u) = 1`` for ``u > 0`` (strict, as NIR and snnTorch) and ``v_l[0] = 0``. Spikes
reach the next layer in the same step (no synaptic delay). Input: direct encoding, the
image itself ``s_0[t] = x`` at every step (a graded spike per non-zero pixel; no Poisson
noise). Output: the last affine map drives a non-spiking integrator
``u[t] = u[t-1] + W_L s_{L-1}[t] + b_L``; the logits after ``t`` steps are ``u[t] / t``
(the membrane-potential readout, as the converted network's analog readout).

Training: backpropagation through time with the fast-sigmoid surrogate derivative
``dH/du ≈ 1 / (1 + k |u|)^2`` (Zenke & Ganguli, Neural Comput. 30:1514, 2018, SuperSpike;
Neftci, Mostafa & Zenke, IEEE Signal Process. Mag. 36(6):51, 2019), the reset term
detached from the graph (Zenke & Vogels, Neural Comput. 33:899, 2021: better trained
networks). Because the input is constant and spikes travel within the step, each layer is
computed for all ``T`` steps at once (one convolution over ``T × batch``), then its LIF
recurrence runs over ``T`` elementwise.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import torch
from torch import nn

from devices.validation import ConfigError, param, validate

__all__ = ["LIFConfig", "SpikingSequential", "LIFOutput", "spike_fn", "segments"]


@dataclasses.dataclass(frozen=True)
class LIFConfig:
    """The discrete LIF neuron shared by torch training and the Brian2 simulation.

    Attributes
    ----------
    beta : float
        Membrane decay per time step (1: integrate-and-fire, no leak). 0.9 is snnTorch's
        tutorial value; over the few steps used here it leaks 10 % per step.
    threshold : float
        Firing threshold ``ϑ`` (dimensionless, the weights' units).
    reset : str
        ``"zero"`` (``v ← 0`` after a spike: NIR's ``v_reset``, exported exactly) or
        ``"subtract"`` (``v ← v - ϑ``: keeps the residual charge).
    slope : float
        ``k`` of the fast-sigmoid surrogate derivative ``1 / (1 + k|v - ϑ|)^2``
        (snnTorch's default is 25; Zenke & Ganguli 2018 use 10 on their scale).
    """

    beta: float = param(0.9, ge=0.0, le=1.0)
    threshold: float = param(1.0, gt=0.0)
    reset: str = param("zero", choices=("zero", "subtract"))
    slope: float = param(5.0, gt=0.0)

    def __post_init__(self) -> None:
        validate(self)


class _FastSigmoidSpike(torch.autograd.Function):
    """Heaviside forward (strict ``u > 0``), fast-sigmoid derivative backward."""

    @staticmethod
    def forward(ctx, u: torch.Tensor, slope: float) -> torch.Tensor:  # type: ignore[override]
        ctx.save_for_backward(u)
        ctx.slope = slope
        return (u > 0).to(u.dtype)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):  # type: ignore[override]
        (u,) = ctx.saved_tensors
        return grad / (1.0 + ctx.slope * u.abs()) ** 2, None


def spike_fn(u: torch.Tensor, slope: float) -> torch.Tensor:
    """``H(u)`` (1 where ``u > 0``) with the fast-sigmoid surrogate gradient."""
    return _FastSigmoidSpike.apply(u, slope)


def segments(model: nn.Module) -> list[nn.Sequential]:
    """Cut an ``nn.Sequential`` at its ReLUs: the affine runs (a trailing ReLU is dropped).

    Raises
    ------
    ConfigError
        If the model is not a sequence of modules with at least one affine run.
    """
    mods: list[nn.Module] = []

    def flat(m: nn.Module) -> None:
        if isinstance(m, nn.Sequential):
            for c in m.children():
                flat(c)
        else:
            mods.append(m)

    flat(model)
    out, run = [], []
    for m in mods:
        if isinstance(m, nn.ReLU):
            if run:
                out.append(nn.Sequential(*run))
                run = []
        else:
            run.append(m)
    if run:
        out.append(nn.Sequential(*run))
    if not out:
        raise ConfigError("SpikingSequential: the model has no module between its ReLUs")
    return out


@dataclasses.dataclass
class LIFOutput:
    """What one forward pass of :class:`SpikingSequential` produced.

    Attributes
    ----------
    potentials : torch.Tensor
        ``(T, B, C)`` output integrator ``u[t]`` after each step (not divided by ``t``).
    spikes : list of torch.Tensor
        Per spiking layer, ``(B,)`` spikes per input over all ``T`` steps (input first: the
        non-zero pixels × ``T``, its graded spikes).
    spikes_at : torch.Tensor
        ``(T, L)`` spikes per layer (input first) up to each step, summed over the batch.
    """

    potentials: torch.Tensor
    spikes: list[torch.Tensor]
    spikes_at: torch.Tensor

    @property
    def logits(self) -> torch.Tensor:
        """``(B, C)`` output after the last step, ``u[T] / T``."""
        return self.potentials[-1] / len(self.potentials)


class SpikingSequential(nn.Module):
    """A workload's ReLU network run as a discrete LIF network (equations in the docstring).

    Parameters
    ----------
    model : torch.nn.Module
        The workload's ``nn.Sequential``; each ReLU becomes a LIF layer, the affine modules
        between them (``Conv2d``, ``AvgPool2d``, ``Flatten``, ``Linear``) stay as they are
        and hold the trained parameters (``state_dict`` keys ``model.<i>.…``).
    lif : LIFConfig
        Neuron parameters (the same for every layer).
    steps : int
        Time steps ``T`` per input.
    """

    def __init__(self, model: nn.Module, lif: LIFConfig, steps: int) -> None:
        super().__init__()
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
            raise ConfigError(f"SpikingSequential.steps must be an integer >= 1; got {steps!r}")
        self.model = model
        self.lif = lif
        self.steps = steps
        self.segs = segments(model)  # shares the modules (and parameters) of ``model``

    def describe(self) -> dict[str, Any]:
        """Neuron parameters and time steps, for configs."""
        return {**dataclasses.asdict(self.lif), "steps": self.steps}

    def run(self, x: torch.Tensor, steps: int | None = None) -> LIFOutput:
        """Simulate ``x`` ``(B, *input_shape)`` for ``steps`` (default ``self.steps``)."""
        t_n = self.steps if steps is None else steps
        c = self.lif
        b = len(x)
        s_in = x
        counts = [(x != 0).reshape(b, -1).sum(1).to(x.dtype) * t_n]
        per_step = [(x != 0).sum().to(x.dtype).expand(t_n)]
        cur = None
        for k, seg in enumerate(self.segs):
            if k == 0:
                y = seg(s_in)  # constant input: computed once, the same at every step
                cur = y.unsqueeze(0).expand(t_n, *y.shape)
            else:
                flat = s_in.reshape(t_n * b, *s_in.shape[2:])
                y = seg(flat)
                cur = y.reshape(t_n, b, *y.shape[1:])
            if k == len(self.segs) - 1:
                pot = torch.cumsum(cur.reshape(t_n, b, -1), dim=0)
                break
            v = torch.zeros_like(cur[0])
            out = []
            for t in range(t_n):
                v = c.beta * v + cur[t]
                s = spike_fn(v - c.threshold, c.slope)
                r = s.detach()
                v = v - c.threshold * r if c.reset == "subtract" else v * (1.0 - r)
                out.append(s)
            s_in = torch.stack(out)  # (T, B, ...)
            counts.append(s_in.detach().reshape(t_n, b, -1).sum((0, 2)))
            per_step.append(s_in.detach().reshape(t_n, -1).sum(1))
        spikes_at = torch.cumsum(torch.stack(per_step, dim=1), dim=0)
        return LIFOutput(pot, counts, spikes_at)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, C)`` logits ``u[T] / T``."""
        return self.run(x).logits
