"""Random draws on the tensor's own torch device, through an explicit generator.

``generator=None`` means noise-free: the helpers return zeros (or the deterministic
choice), so that every model has one code path for the noisy and the noiseless case.
No global RNG is ever used.
"""

from __future__ import annotations

import torch

__all__ = ["normal", "uniform", "quantise"]


def normal(like: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """Standard normal draws shaped like ``like`` (zeros when ``generator`` is None).

    Parameters
    ----------
    like : torch.Tensor
        Any shape; the draws take its shape, dtype and device.
    generator : torch.Generator or None
        Must live on ``like.device``.
    """
    if generator is None:
        return torch.zeros_like(like)
    return torch.randn(like.shape, generator=generator, dtype=like.dtype, device=like.device)


def uniform(like: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Uniform draws in [0, 1) shaped like ``like``, on its device."""
    return torch.rand(like.shape, generator=generator, dtype=like.dtype, device=like.device)


def quantise(x: torch.Tensor, lo: float, hi: float, n_levels: int | None) -> torch.Tensor:
    """``x`` clipped to ``[lo, hi]`` and rounded to the nearest of ``n_levels`` equal levels.

    ``n_levels=None`` only clips (a continuous device).
    """
    x = x.clamp(lo, hi)
    if n_levels is None:
        return x
    step = (hi - lo) / (n_levels - 1)
    return (lo + torch.round((x - lo) / step) * step).clamp(lo, hi)
