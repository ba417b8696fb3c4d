"""Charge-domain accumulation for capacitive cells (memcapacitors).

An input voltage ``V_i`` on word line ``i`` couples the charge ``C_ij·V_i`` onto bit line
``j``; the column sums ``Q_j = Σ_i C_ij·V_i`` and is read by charge sharing: the bit line
settles at ``V_out = Q_j / C_total`` with ``C_total = Σ_i C_ij + C_bl`` (the cells plus the
bit line's own wire capacitance). The sampled voltage carries kT/C noise of standard
deviation ``sqrt(k_B·T / C_total)`` (2.0 mV at 1 fF, 0.64 mV at 10 fF, 300 K: Demasius,
Lowa, Murmann 2025). There is no DC read current and therefore no IR drop.

The digital back end knows the *nominal* ``C_total`` (from the programmed targets) and
turns the digitised voltage back into a charge, ``Q̂ = V_out · C_total,nominal``; a
mismatch between the actual and nominal totals (programming noise, drift) is a gain error.
"""

from __future__ import annotations

import math

import torch

__all__ = ["K_BOLTZMANN", "charge_share", "ktc_sigma_V"]

#: Boltzmann constant, J/K (exact, SI 2019).
K_BOLTZMANN = 1.380649e-23


def ktc_sigma_V(c_total_F: torch.Tensor | float, temperature_K: float) -> torch.Tensor | float:
    """Standard deviation of kT/C noise, V: ``sqrt(k_B·T / C)``."""
    if isinstance(c_total_F, torch.Tensor):
        return torch.sqrt(K_BOLTZMANN * temperature_K / c_total_F)
    return math.sqrt(K_BOLTZMANN * temperature_K / c_total_F)


def charge_share(
    q_C: torch.Tensor,
    c_total_F: torch.Tensor,
    c_nominal_F: torch.Tensor,
    temperature_K: float | None,
    generator: torch.Generator | None,
) -> torch.Tensor:
    """Charge-sharing readout of column charges.

    Parameters
    ----------
    q_C : torch.Tensor
        ``(..., C)`` column charges ``Σ C·V``, coulombs.
    c_total_F : torch.Tensor
        Actual total capacitance per column, broadcastable to ``q_C``, F.
    c_nominal_F : torch.Tensor
        Nominal total capacitance per column (known to the back end), F.
    temperature_K : float or None
        Temperature for kT/C noise; None: no noise.
    generator : torch.Generator or None
        For the noise (None: no noise).

    Returns
    -------
    torch.Tensor
        ``(..., C)`` reconstructed charges ``Q̂ = (Q / C_total + n) · C_nominal``, C.
    """
    v = q_C / c_total_F
    if temperature_K is not None and generator is not None:
        sigma = ktc_sigma_V(c_total_F, temperature_K)
        noise = torch.randn(v.shape, generator=generator, device=v.device, dtype=v.dtype)
        v = v + noise * sigma
    return v * c_nominal_F
