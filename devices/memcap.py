"""Charge-shielding memcapacitor: the weight is a capacitance, read by charge, no DC current.

Demasius, Kirschen, Parkin, Nature Electronics 4, 748–756 (2021): a charge-shielding
layer modulates the coupling capacitance between word and bit line; 156-device crossbar,
6–8 bit, 29,600 TOPS/W for a scaled device with ~95 % charge recovery. Demasius, Lowa,
Murmann (2025): C_max about 1 fF/µm², 0.4 V reads, C_max/C_min of 5–10 suffices below 512
rows, geometric mismatch 0.11–0.71 % and programming noise 0.062 % of (C_max - C_min).

Model: ``program`` quantises to ``n_levels`` and adds Gaussian programming noise of
``prog_noise_frac * (C_max - C_min)``; geometric mismatch is the device-to-device gain
(``d2d_sigma``) fixed per cell. No drift is modelled (none is reported); the read returns
the stored capacitance (the kT/C noise belongs to the summing node, i.e. the crossbar).

Energy: a read charges the cell by ``V_read``; the energy drawn from the supply is
``C V² (1 - charge_recovery)`` with ``charge_recovery`` an explicit assumption (0.95 in
the 29,600 TOPS/W figure, 0 without recovery). A write pulse costs ``C_max V_write²``
(9 fJ at an assumed 3 V; not reported in the sources).
"""

from __future__ import annotations

import dataclasses

from devices.cell import YEAR_S, CellConfig, CellModel
from devices.sampling import normal
from devices.validation import param

__all__ = ["MemcapConfig", "Memcap"]


@dataclasses.dataclass(frozen=True)
class MemcapConfig(CellConfig):
    """Memcapacitor cell (capacitances in F); see the module docstring for the sources."""

    g_min: float = param(0.1e-15, unit="F", ge=0.0, le=1e-9, doc="C_min: C_max / 10")
    g_max: float = param(1e-15, unit="F", gt=0.0, le=1e-9, doc="C_max: 1 fF (1 µm² cell)")
    n_levels: int | None = param(128, integer=True, ge=2, optional=True, doc="7 bit (6–8 bit)")
    read_voltage_V: float = param(0.4, unit="V", gt=0.0, le=10.0, doc="Demasius 2025")
    t_read_s: float = param(10e-9, unit="s", gt=0.0, le=1.0, doc="read time (assumed)")
    t_write_s: float = param(1e-6, unit="s", gt=0.0, le=1.0, doc="write pulse (assumed)")
    charge_recovery: float = param(0.0, ge=0.0, lt=1.0, doc="fraction of C V² recovered")
    endurance_cycles: float = param(1e6, ge=1.0, doc="assumed (not reported)")
    retention_s: float = param(10 * YEAR_S, unit="s", gt=0.0, doc="assumed (not reported)")
    d2d_sigma: float = param(0.0041, ge=0.0, lt=0.5, doc="mismatch, mid of 0.11–0.71 %")
    prog_noise_frac: float = param(0.00062, ge=0.0, le=1.0, doc="of C_max - C_min (2025)")
    pulse_levels: int = param(128, integer=True, ge=2, doc="= n_levels (linear, assumed)")
    c2c_sigma: float = param(0.00062, ge=0.0, le=1.0, doc="= programming noise per pulse")
    write_energy_J: float = param(
        9e-15, unit="J", ge=0.0, le=1e-6, doc="C_max V_write² at an assumed 3 V write"
    )


class Memcap(CellModel):
    """Charge-shielding memcapacitor; ``g_min``/``g_max`` are capacitances in F."""

    name = "memcap"
    quantity = "capacitance"
    config_class = MemcapConfig
    config: MemcapConfig

    @property
    def read_energy_J(self) -> float:  # type: ignore[override]
        """``C_mid V_read² (1 - charge_recovery)`` (J)."""
        c = self.config
        c_mid = 0.5 * (c.g_min + c.g_max)
        return c_mid * c.read_voltage_V**2 * (1.0 - c.charge_recovery)

    def _program(self, x, generator):
        c = self.config
        sigma = c.prog_noise_frac * (c.g_max - c.g_min)
        return x + sigma * normal(x, generator), {}

    def describe(self):
        d = super().describe()
        d["charge_recovery"] = self.config.charge_recovery
        return d
