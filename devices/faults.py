"""Stuck-at faults and endurance wear-out, shared by the cell models.

``state.hidden["stuck"]`` (int8, same shape as the value) holds the fault of each cell:
``FREE`` (0), ``STUCK_OFF`` (1, reads ``g_min``) or ``STUCK_ON`` (2, reads ``g_max``).
Faults are drawn once, at programming; a cell also becomes stuck when its write count
(``state.hidden["cycles"]``) passes the device's endurance.
"""

from __future__ import annotations

import torch

from devices.sampling import uniform

__all__ = ["FREE", "STUCK_OFF", "STUCK_ON", "sample_stuck", "apply_stuck", "wear_out"]

FREE, STUCK_OFF, STUCK_ON = 0, 1, 2


def sample_stuck(
    like: torch.Tensor, p_off: float, p_on: float, generator: torch.Generator | None
) -> torch.Tensor:
    """Fault codes for new cells: stuck off with probability ``p_off``, on with ``p_on``.

    ``generator=None`` gives fault-free cells. Returns an int8 tensor shaped like ``like``.
    """
    stuck = torch.zeros(like.shape, dtype=torch.int8, device=like.device)
    if generator is None or (p_off == 0.0 and p_on == 0.0):
        return stuck
    u = uniform(like, generator)
    stuck[u < p_off] = STUCK_OFF
    stuck[(u >= p_off) & (u < p_off + p_on)] = STUCK_ON
    return stuck


def apply_stuck(value: torch.Tensor, stuck: torch.Tensor, lo: float, hi: float) -> torch.Tensor:
    """``value`` with stuck-off cells at ``lo`` and stuck-on cells at ``hi``."""
    value = torch.where(stuck == STUCK_OFF, torch.full_like(value, lo), value)
    return torch.where(stuck == STUCK_ON, torch.full_like(value, hi), value)


def wear_out(
    value: torch.Tensor,
    stuck: torch.Tensor,
    cycles: torch.Tensor,
    endurance: float,
    lo: float,
    hi: float,
) -> torch.Tensor:
    """Fault codes after wear: free cells past ``endurance`` writes stick at the nearer bound.

    Endurance failures of filamentary and phase-change cells leave them stuck in the SET
    or RESET state; which one is taken as the state the cell was in when it failed.
    """
    worn = (stuck == FREE) & (cycles > endurance)
    code = torch.where(value >= 0.5 * (lo + hi), STUCK_ON, STUCK_OFF).to(torch.int8)
    return torch.where(worn, code, stuck)
