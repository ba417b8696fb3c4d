"""Uniform quantisers of the periphery: the input DAC and the column ADC.

Both are plain functions on tensors so that their error can be checked against the theory
of the uniform quantiser (error uniform on ``[-Δ/2, Δ/2]``, variance ``Δ²/12``).
"""

from __future__ import annotations

import torch

__all__ = ["dac_quantize", "dac_bit_planes", "adc_quantize", "dac_step", "adc_step"]


def dac_step(r: torch.Tensor | float, bits: int) -> torch.Tensor | float:
    """DAC step ``Δ = r / (2**bits - 1)`` for magnitudes on ``[0, r]``."""
    return r / (2**bits - 1)


def adc_step(full_scale: torch.Tensor | float, bits: int) -> torch.Tensor | float:
    """ADC step ``Δ = FS / 2**(bits - 1)`` for a signed range ``[-FS, FS)``."""
    return full_scale / 2 ** (bits - 1)


def dac_quantize(x: torch.Tensor, r: torch.Tensor, bits: int | None) -> torch.Tensor:
    """Inputs as the DAC applies them, in units of the range: ``x / r`` quantised.

    Parameters
    ----------
    x : torch.Tensor
        Inputs, shape ``(B, K)``, any units.
    r : torch.Tensor
        Range, broadcastable to ``x`` (``(B, 1)`` for dynamic ranges, ``()`` otherwise).
    bits : int or None
        Magnitude bits (sign by polarity); None: no quantisation, only clipping to ``±r``.

    Returns
    -------
    torch.Tensor
        ``(B, K)`` in ``[-1, 1]``: the applied voltage in units of ``V_read``.
    """
    u = (x / r).clamp_(-1.0, 1.0)
    if bits is None:
        return u
    levels = 2**bits - 1
    return u.mul_(levels).round_().div_(levels)


def dac_bit_planes(u: torch.Tensor, bits: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Split quantised inputs ``u`` (from :func:`dac_quantize`) into binary bit planes.

    Returns
    -------
    planes : torch.Tensor
        ``(bits, *u.shape)`` with entries in ``{-1, 0, 1}`` (the sign carried by each plane).
    weights : torch.Tensor
        ``(bits,)``: ``2**j / (2**bits - 1)``, so that ``Σ_j weights[j]·planes[j] = u``.
    """
    levels = 2**bits - 1
    code = torch.round(u.abs() * levels).to(torch.int64)
    shifts = torch.arange(bits, device=u.device)
    shape = (-1,) + (1,) * u.dim()
    planes = ((code.unsqueeze(0) >> shifts.view(shape)) & 1).to(u.dtype) * torch.sign(u)
    weights = (2.0 ** shifts.to(u.dtype)) / levels
    return planes, weights


def adc_quantize(i: torch.Tensor, full_scale: torch.Tensor, bits: int | None) -> torch.Tensor:
    """Signed uniform ADC: round ``i`` to the step ``FS / 2**(bits-1)``, clip to ``[-FS, FS)``.

    Parameters
    ----------
    i : torch.Tensor
        Column signals (A, or V for charge readout), any shape.
    full_scale : torch.Tensor
        ``FS``, broadcastable to ``i``, > 0.
    bits : int or None
        None: ideal (no quantisation, no clipping).

    Returns
    -------
    torch.Tensor
        The digitised signal in the units of ``i``.
    """
    if bits is None:
        return i
    step = full_scale / 2 ** (bits - 1)
    half = 2 ** (bits - 1)
    return (i / step).round_().clamp_(-half, half - 1).mul_(step)
