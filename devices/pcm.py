"""Phase-change memory (GST): programming noise, drift, 1/f read noise, gradual SET, abrupt RESET.

The statistical model of Nandakumar et al. (IEDM 2018) and Joshi et al. (Nature
Communications 11, 2473, 2020), with the constants as IBM's aihwkit uses them
(``PCMLikeNoiseModel``). With ``x = g_target / g_max`` and conductances in µS:

- programming noise ``G_p = G_T + σ_prog z``, ``σ_prog = max(0.26348 + 1.9650 x - 1.1731 x², 0)``
  µS, clipped at ``g_min`` (0) only, as aihwkit draws it: a cell aimed at ``g_max`` lands
  above it as often as below (std 1.055 µS there; ``clip_g_max=True`` clips instead);
- time: ``t`` counts from the end of programming and the laws are evaluated at
  ``t' = t + t0`` (aihwkit's ``t_inference + t_0``), so ``t = 0`` reads the programmed value;
- drift ``G(t) = G_p (t' / t0)^(-ν)``, ``t0 = 20 s``, ``ν = |N(μ_ν, σ_ν)|`` per device (drawn
  at the target), ``μ_ν = clip(-0.0155 ln x + 0.0244, 0.049, 0.1)``,
  ``σ_ν = clip(-0.0125 ln x - 0.0059, 0.008, 0.045)``;
- 1/f read noise ``σ_read(t) = |G(t)| Q_s sqrt(ln((t' + t_read) / (2 t_read)))``,
  ``Q_s = min(0.0088 / x_p^0.65, 0.2)`` at the programmed ``x_p``, ``t_read = 250 ns``.

The polynomial is in µS of a ``g_max = 25 µS`` device; here it scales with ``g_max / 25 µS``
so that the model stays the same in normalised units when ``g_max`` is changed.

Pulses (learning): PCM is a one-directional device. Potentiation is a gradual SET along
the standard parametric model with the GST row of the MLP+NeuroSim V3.0 manual, Table II
(Kuzum, Nano Lett. 2011: 100 levels, NL 0.105, c2c 1.5 %); any depressing pulse is an
abrupt RESET to ``g_min`` plus the programming noise at ``x = 0``. ``abrupt_reset=False``
uses the tabulated gradual depression (NL 2.4) instead, to reproduce NeuroSim figures.
"""

from __future__ import annotations

import dataclasses
import math

import torch

from devices.base import DeviceState
from devices.cell import YEAR_S, CellConfig, CellModel
from devices.sampling import normal
from devices.validation import param

__all__ = ["PCMConfig", "PCM"]

G_REF_S = 25e-6  # g_max of the published fit (aihwkit PCMLikeNoiseModel), S
PROG_COEFF_uS = (0.26348, 1.9650, -1.1731)  # Nandakumar 2018 / aihwkit, µS at G_REF_S


@dataclasses.dataclass(frozen=True)
class PCMConfig(CellConfig):
    """PCM cell. Defaults: aihwkit PCM statistical model; energies and endurance CEA-Leti.

    Valid range of the fit: ``0 < x <= 1`` of a 25 µS device (Joshi 2020, Fig. 2).
    """

    g_min: float = param(0.0, unit="S", ge=0.0, le=1.0, doc="RESET conductance (aihwkit: 0)")
    g_max: float = param(25e-6, unit="S", gt=0.0, le=1.0, doc="max. conductance (Joshi 2020)")
    read_voltage_V: float = param(0.2, unit="V", gt=0.0, le=10.0, doc="read voltage (assumed)")
    t_read_s: float = param(250e-9, unit="s", gt=0.0, le=1.0, doc="read time (aihwkit t_read)")
    t_write_s: float = param(100e-9, unit="s", gt=0.0, le=1.0, doc="write time (CEA-Leti)")
    write_energy_J: float = param(300e-12, unit="J", ge=0.0, le=1e-6, doc="per write (CEA-Leti)")
    endurance_cycles: float = param(1e9, ge=1.0, doc="CEA-Leti table")
    retention_s: float = param(10 * YEAR_S, unit="s", gt=0.0, doc="10 years at 165 °C (CEA-Leti)")
    pulse_levels: int = param(100, integer=True, ge=2, doc="GST row, NeuroSim Table II")
    nl_ltp: float = param(0.105, ge=-10.0, le=10.0, doc="GST row, NeuroSim Table II")
    nl_ltd: float = param(2.4, ge=-10.0, le=10.0, doc="GST row (used if not abrupt_reset)")
    c2c_sigma: float = param(0.015, ge=0.0, le=1.0, doc="GST row, NeuroSim Table II")
    t0_s: float = param(20.0, unit="s", gt=0.0, doc="drift reference time (aihwkit)")
    prog_noise_scale: float = param(1.0, ge=0.0, le=10.0, doc="scales σ_prog")
    drift_scale: float = param(1.0, ge=0.0, le=10.0, doc="scales ν")
    read_noise_scale: float = param(1.0, ge=0.0, le=10.0, doc="scales the 1/f read noise")
    read_noise_t_read_s: float = param(250e-9, unit="s", gt=0.0, doc="t_read of the 1/f model")
    abrupt_reset: bool = param(True, choices=(True, False), doc="depression is a full RESET")
    clip_g_max: bool = param(
        False, choices=(True, False), doc="clip programmed values at g_max (aihwkit: no)"
    )


class PCM(CellModel):
    """Phase-change memory cell; ``hidden["nu"]`` is each device's drift exponent."""

    name = "pcm"
    quantity = "conductance"
    config_class = PCMConfig
    config: PCMConfig

    @property
    def depression(self) -> str:  # type: ignore[override]
        return "reset" if self.config.abrupt_reset else "gradual"

    def program_bounds(self) -> tuple[float, float]:
        """``(g_min, g_max)`` with ``clip_g_max``; else ``(g_min, inf)`` (aihwkit clips at 0 only)."""
        return (self.g_min, self.g_max if self.config.clip_g_max else math.inf)

    # -- the published statistics, in normalised form ----------------------------------
    def _x(self, g: torch.Tensor) -> torch.Tensor:
        return (g / self.g_max).clamp(min=1e-7)

    def prog_sigma_S(self, g_target: torch.Tensor) -> torch.Tensor:
        """Programming-noise std (S) at target conductances ``g_target`` (S)."""
        x = g_target / self.g_max
        c0, c1, c2 = PROG_COEFF_uS
        sigma_uS = (c0 + c1 * x + c2 * x * x).clamp(min=0.0)
        return sigma_uS * 1e-6 * (self.g_max / G_REF_S) * self.config.prog_noise_scale

    def nu_stats(self, g: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and std of the drift exponent at conductances ``g`` (S)."""
        lnx = torch.log(self._x(g))
        mu = (-0.0155 * lnx + 0.0244).clamp(0.049, 0.1)
        sd = (-0.0125 * lnx - 0.0059).clamp(0.008, 0.045)
        return mu, sd

    def _nu(self, g: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        mu, sd = self.nu_stats(g)
        return (mu + sd * z).abs() * self.config.drift_scale  # |N(μ, σ)| as aihwkit

    # -- hooks ------------------------------------------------------------------------
    def _program(self, x, generator):
        g = (x + self.prog_sigma_S(x) * normal(x, generator)).clamp(*self.program_bounds())
        z = normal(x, generator)
        return g, {"nu": self._nu(x, z), "nu_z": z}

    def _read(self, state: DeviceState, t: float, generator) -> torch.Tensor:
        c = self.config
        t_eff = t + c.t0_s  # aihwkit: t = t_inference + t_0
        g = state.value
        nu = state.hidden.get("nu")
        if nu is None:
            nu = self._nu(g, torch.zeros_like(g))
        g_t = g * (t_eff / c.t0_s) ** (-nu) if t > 0 else g
        if generator is None or c.read_noise_scale == 0:
            return g_t
        tr = c.read_noise_t_read_s
        q_s = (0.0088 / self._x(g).pow(0.65)).clamp(max=0.2)
        sigma = g_t.abs() * q_s * math.sqrt(math.log((t_eff + tr) / (2 * tr)))
        return (g_t + sigma * c.read_noise_scale * normal(g_t, generator)).clamp(min=0.0)

    def _pulse(self, state, n, generator):
        g = state.value
        if self.config.abrupt_reset:
            w_up = self.pulse_w(self.normalise(g), n.clamp(min=0), generator)
            g_up = self.denormalise(w_up)
            g0 = torch.full_like(g, self.g_min)
            g_reset = (g0 + self.prog_sigma_S(g0) * normal(g, generator)).clamp(self.g_min)
            g_new = torch.where(n < 0, g_reset, g_up)
        else:
            g_new = self.denormalise(self.pulse_w(self.normalise(g), n, generator))
        g_new = g_new.clamp(self.g_min, self.g_max)
        z = state.hidden.get("nu_z", torch.zeros_like(g))
        return g_new, {"nu": self._nu(g_new, z), "nu_z": z}
