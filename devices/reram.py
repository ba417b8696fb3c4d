"""Filamentary ReRAM (HfOx/OxRAM): programming noise, relaxation, soft-bounded pulse response.

Programming and relaxation follow the HfOx/CMO ReRAM fits (REFERENCES.md; the 9–88 µS
window and the fits used by IBM aihwkit's CMO ReRAM inference model): after write-verify
the conductance relaxes with mean ``-0.089 ln t`` µS and total std ``0.042 ln t + 0.41`` µS
(``t`` in s, ``t >= 1 s``). Here ``0.41 µS`` is the programming noise at ``t0 = 1 s`` and
each cell gets a fixed standard-normal ``hidden["relax_z"]`` at programming, so that its
relaxation is one consistent trajectory::

    G(t) = G(t0) + a ln t + sqrt((s0 + b ln t)^2 - s0^2) * relax_z

with ``a = relax_mean_S``, ``b = relax_sigma_slope_S``, ``s0 = prog_sigma_S``; the total
std is then ``s0 + b ln t`` as fitted.

Pulses follow the standard parametric model with the TaOx/HfOx row of the MLP+NeuroSim
V3.0 manual, Table II (Wu, VLSI 2018: 128 levels, NL 0.04/-0.63, c2c 3.7 %, 1.6 V 50 ns);
the preset ``reram-agasi`` carries the Ag:a-Si row (Jo, Nano Lett. 2010). Energies and
endurance: CEA-Leti comparison table (RRAM ~100 pJ/bit, 1e5–1e6 cycles).
"""

from __future__ import annotations

import dataclasses
import math

import torch

from devices.base import DeviceState
from devices.cell import YEAR_S, CellConfig, CellModel
from devices.sampling import normal
from devices.validation import param

__all__ = ["ReRAMConfig", "ReRAM"]


@dataclasses.dataclass(frozen=True)
class ReRAMConfig(CellConfig):
    """ReRAM cell; defaults are the HfOx (9–88 µS) fits and the TaOx/HfOx pulse row."""

    g_min: float = param(9e-6, unit="S", ge=0.0, le=1.0, doc="HfOx/CMO window low end")
    g_max: float = param(88e-6, unit="S", gt=0.0, le=1.0, doc="HfOx/CMO window high end")
    n_levels: int | None = param(128, integer=True, ge=2, optional=True, doc="Wu VLSI 2018")
    read_voltage_V: float = param(0.2, unit="V", gt=0.0, le=10.0, doc="read (assumed)")
    t_read_s: float = param(10e-9, unit="s", gt=0.0, le=1.0, doc="read time (assumed)")
    t_write_s: float = param(50e-9, unit="s", gt=0.0, le=1.0, doc="Wu VLSI 2018 pulses")
    write_energy_J: float = param(100e-12, unit="J", ge=0.0, le=1e-6, doc="CEA-Leti table")
    endurance_cycles: float = param(1e6, ge=1.0, doc="CEA-Leti table (1e5–1e6)")
    retention_s: float = param(10 * YEAR_S, unit="s", gt=0.0, doc="10 y at >150 °C (CEA-Leti)")
    pulse_levels: int = param(128, integer=True, ge=2, doc="TaOx/HfOx row")
    nl_ltp: float = param(0.04, ge=-10.0, le=10.0, doc="TaOx/HfOx row")
    nl_ltd: float = param(-0.63, ge=-10.0, le=10.0, doc="TaOx/HfOx row")
    c2c_sigma: float = param(0.037, ge=0.0, le=1.0, doc="TaOx/HfOx row")
    prog_sigma_S: float = param(0.41e-6, unit="S", ge=0.0, le=1.0, doc="programming std at t0")
    relax_mean_S: float = param(-0.089e-6, unit="S", ge=-1.0, le=1.0, doc="mean per ln(t/1 s)")
    relax_sigma_slope_S: float = param(0.042e-6, unit="S", ge=0.0, le=1.0, doc="std per ln t")
    t0_s: float = param(1.0, unit="s", gt=0.0, doc="reference time of the fit")


class ReRAM(CellModel):
    """Filamentary ReRAM cell; ``hidden["relax_z"]`` fixes each cell's relaxation path."""

    name = "reram"
    quantity = "conductance"
    config_class = ReRAMConfig
    config: ReRAMConfig

    def reference_time_s(self) -> float:
        return self.config.t0_s

    def relaxation_stats_S(self, t: float) -> tuple[float, float]:
        """Published mean shift and total std (S) of the conductance ``t`` s after writing."""
        c = self.config
        ln_t = math.log(max(t, c.t0_s) / c.t0_s)
        return c.relax_mean_S * ln_t, c.prog_sigma_S + c.relax_sigma_slope_S * ln_t

    def _program(self, x, generator):
        g = x + self.config.prog_sigma_S * normal(x, generator)
        return g, {"relax_z": normal(x, generator)}

    def _read(self, state: DeviceState, t: float, generator) -> torch.Tensor:
        c = self.config
        if t <= c.t0_s:
            return state.value
        mean, total = self.relaxation_stats_S(t)
        extra = math.sqrt(max(total**2 - c.prog_sigma_S**2, 0.0))
        z = state.hidden.get("relax_z")
        g = state.value + mean
        if z is not None:
            g = g + extra * z
        return g.clamp(min=0.0)
