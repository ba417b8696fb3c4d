"""The ideal device: continuous, noiseless, drift-free, fault-free.

The baseline every non-ideality is measured against: a crossbar of ideal cells with ideal
converters must reproduce ``torch`` matmul within float tolerance.
"""

from __future__ import annotations

import dataclasses

import torch

from devices.base import DeviceModel, DeviceState, PulseUpdateModel
from devices.validation import param, require, validate

__all__ = ["IdealConfig", "Ideal"]


@dataclasses.dataclass(frozen=True)
class IdealConfig:
    """Range and nominal figures of the ideal cell (not a physical device).

    The range (1–100 µS) and 0.2 V read are round numbers typical of ReRAM crossbars
    (REFERENCES.md: HfOx ReRAM window 9–88 µS); the energies are zero because an ideal
    cell costs nothing to read or write in this model.
    """

    g_min: float = param(1e-6, unit="S", ge=0.0, doc="lowest conductance")
    g_max: float = param(100e-6, unit="S", gt=0.0, le=1.0, doc="highest conductance")
    read_voltage_V: float = param(0.2, unit="V", gt=0.0, le=10.0, doc="read voltage")
    t_read_s: float = param(10e-9, unit="s", gt=0.0, doc="read time")
    t_write_s: float = param(10e-9, unit="s", gt=0.0, doc="write pulse time")
    n_pulse_levels: int = param(1001, integer=True, ge=2, doc="levels of the linear pulse model")

    def __post_init__(self) -> None:
        validate(self)
        require(self.g_max > self.g_min, self, "g_max", self.g_max, f"> g_min ({self.g_min:g} S)")


class Ideal(DeviceModel):
    """An ideal conductance: what is programmed is read back exactly, forever."""

    name = "ideal"
    quantity = "conductance"

    def __init__(self, config: IdealConfig | None = None) -> None:
        self.config = config or IdealConfig()
        c = self.config
        self.g_min, self.g_max = c.g_min, c.g_max
        self.n_levels = None
        self.read_voltage_V, self.t_read_s, self.t_write_s = (
            c.read_voltage_V,
            c.t_read_s,
            c.t_write_s,
        )
        self.read_energy_J = 0.0
        self.write_energy_J = 0.0
        self.endurance_cycles = float("inf")
        self.retention_s = float("inf")

    def program(self, target: torch.Tensor, generator: torch.Generator | None) -> DeviceState:
        return DeviceState(target.clamp(self.g_min, self.g_max).clone())

    def read(self, state: DeviceState, t: float, generator: torch.Generator | None) -> torch.Tensor:
        return state.value

    def pulse(
        self, state: DeviceState, n: torch.Tensor, generator: torch.Generator | None
    ) -> DeviceState:
        step = (self.g_max - self.g_min) / (self.config.n_pulse_levels - 1)
        return state.replace(value=(state.value + n * step).clamp(self.g_min, self.g_max))

    def update_model(self) -> PulseUpdateModel:
        return PulseUpdateModel(
            n_levels=self.config.n_pulse_levels, g_min=self.g_min, g_max=self.g_max
        )
