"""Piecewise-linear interpolation on torch tensors (any device), like ``numpy.interp``."""

from __future__ import annotations

import torch

__all__ = ["interp"]


def interp(x: torch.Tensor, xp: torch.Tensor, fp: torch.Tensor) -> torch.Tensor:
    """Linear interpolation of ``fp(xp)`` at ``x``, clamped to the end values.

    Parameters
    ----------
    x : torch.Tensor
        Query points, any shape.
    xp : torch.Tensor, shape (M,)
        Increasing sample points (non-decreasing; ties take the first), M >= 2.
    fp : torch.Tensor, shape (M,)
        Values at ``xp``.
    """
    xp = xp.to(device=x.device, dtype=x.dtype)
    fp = fp.to(device=x.device, dtype=x.dtype)
    xc = x.clamp(xp[0], xp[-1])
    i = torch.searchsorted(xp, xc.contiguous(), right=True).clamp(1, xp.numel() - 1)
    x0, x1 = xp[i - 1], xp[i]
    f0, f1 = fp[i - 1], fp[i]
    span = x1 - x0
    frac = torch.where(span > 0, (xc - x0) / torch.where(span > 0, span, 1), 0)
    return f0 + frac * (f1 - f0)
