"""What the physical cell models share: common config fields and the program/read/pulse frame.

:class:`CellConfig` holds the fields every preset sets (range, levels, timing, energy,
endurance, retention, faults, device-to-device variation, pulse-update parameters);
each model's config subclasses it and adds its physics. :class:`CellModel` implements the
:class:`~devices.base.DeviceModel` contract around three hooks a model overrides:

``_program(x, generator) -> (value, hidden)``
    ``x`` is the target clipped to the range and quantised to the levels.
``_read(state, t, generator) -> value``
    Drift, relaxation and read noise at ``t`` seconds after programming.
``_pulse(state, n, generator) -> (value, hidden)``
    The pulse response; the default is the standard parametric model (NeuroSim form) of
    :meth:`update_model` with Gaussian cycle-to-cycle noise.

The frame adds, in this order: device-to-device gain variation (``hidden["gain"]``),
stuck-at faults drawn at programming (``hidden["stuck"]``), write counting and endurance
wear-out (``hidden["cycles"]``).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import torch

from devices.base import DeviceModel, DeviceState, PulseUpdateModel
from devices.faults import FREE, apply_stuck, sample_stuck, wear_out
from devices.sampling import normal, quantise
from devices.validation import param, require, validate

__all__ = ["CellConfig", "CellModel"]

YEAR_S = 365.25 * 86400.0  # Julian year, s


@dataclasses.dataclass(frozen=True)
class CellConfig:
    """Fields common to every physical cell model (SI units).

    Subclasses override the defaults with their device's figures and cite them.
    """

    g_min: float = param(1e-6, unit="S", ge=0.0, le=1.0, doc="lowest stored value")
    g_max: float = param(100e-6, unit="S", gt=0.0, le=1.0, doc="highest stored value")
    n_levels: int | None = param(
        None, integer=True, ge=2, optional=True, doc="programmable levels (None: continuous)"
    )
    read_voltage_V: float = param(0.2, unit="V", gt=0.0, le=10.0, doc="read voltage")
    t_read_s: float = param(10e-9, unit="s", gt=0.0, le=1.0, doc="read time")
    t_write_s: float = param(100e-9, unit="s", gt=0.0, le=1.0, doc="write pulse time")
    write_energy_J: float = param(1e-12, unit="J", ge=0.0, le=1e-6, doc="energy per write pulse")
    endurance_cycles: float = param(1e6, ge=1.0, doc="write pulses before wear-out")
    retention_s: float = param(10 * YEAR_S, unit="s", gt=0.0, doc="retention at rated temperature")
    p_stuck_off: float = param(0.0, ge=0.0, le=1.0, doc="fraction of cells stuck at g_min")
    p_stuck_on: float = param(0.0, ge=0.0, le=1.0, doc="fraction of cells stuck at g_max")
    d2d_sigma: float = param(
        0.0, ge=0.0, lt=0.5, doc="device-to-device gain std (fraction), fixed per cell"
    )
    pulse_levels: int = param(101, integer=True, ge=2, doc="levels of the pulse response")
    nl_ltp: float = param(0.0, ge=-10.0, le=10.0, doc="nonlinearity label, potentiation")
    nl_ltd: float = param(0.0, ge=-10.0, le=10.0, doc="nonlinearity label, depression")
    c2c_sigma: float = param(0.0, ge=0.0, le=1.0, doc="cycle-to-cycle std per pulse (fraction)")

    def __post_init__(self) -> None:
        validate(self)
        require(self.g_max > self.g_min, self, "g_max", self.g_max, f"> g_min ({self.g_min:g})")
        total = self.p_stuck_off + self.p_stuck_on
        require(total <= 1.0, self, "p_stuck_on", self.p_stuck_on, "<= 1 - p_stuck_off")


class CellModel(DeviceModel):
    """A physical cell model driven by a :class:`CellConfig` subclass.

    Parameters
    ----------
    config : CellConfig
        The frozen, validated configuration.
    name : str, optional
        Registry name (a preset's name); defaults to the class's ``name``.
    """

    config_class: type[CellConfig] = CellConfig
    depression: str = "gradual"

    def __init__(self, config: CellConfig | None = None, *, name: str | None = None) -> None:
        self.config = config if config is not None else self.config_class()
        if name is not None:
            self.name = name

    # -- the figures of the contract, from the config ---------------------------------
    @property
    def g_min(self) -> float:  # type: ignore[override]
        return self.config.g_min

    @property
    def g_max(self) -> float:  # type: ignore[override]
        return self.config.g_max

    @property
    def n_levels(self) -> int | None:  # type: ignore[override]
        return self.config.n_levels

    @property
    def read_voltage_V(self) -> float:  # type: ignore[override]
        return self.config.read_voltage_V

    @property
    def t_read_s(self) -> float:  # type: ignore[override]
        return self.config.t_read_s

    @property
    def t_write_s(self) -> float:  # type: ignore[override]
        return self.config.t_write_s

    @property
    def write_energy_J(self) -> float:  # type: ignore[override]
        return self.config.write_energy_J

    @property
    def endurance_cycles(self) -> float:  # type: ignore[override]
        return self.config.endurance_cycles

    @property
    def retention_s(self) -> float:  # type: ignore[override]
        return self.config.retention_s

    @property
    def read_energy_J(self) -> float:  # type: ignore[override]
        """Energy of one read at mid-range: ``V_read**2 * G_mid * t_read`` (J)."""
        g_mid = 0.5 * (self.g_min + self.g_max)
        return self.read_voltage_V**2 * g_mid * self.t_read_s

    # -- helpers ----------------------------------------------------------------------
    def normalise(self, value: torch.Tensor) -> torch.Tensor:
        """``(value - g_min) / (g_max - g_min)``: the weight in [0, 1] for in-range values."""
        return (value - self.g_min) / (self.g_max - self.g_min)

    def denormalise(self, w: torch.Tensor) -> torch.Tensor:
        """Inverse of :meth:`normalise`."""
        return self.g_min + w * (self.g_max - self.g_min)

    def reference_time_s(self) -> float:
        """Time after programming at which ``read`` returns the programmed value (s)."""
        return 0.0

    # -- the contract -----------------------------------------------------------------
    def program(self, target: torch.Tensor, generator: torch.Generator | None) -> DeviceState:
        c = self.config
        x = quantise(target.detach(), c.g_min, c.g_max, c.n_levels)
        value, hidden = self._program(x, generator)
        gain = 1.0 + c.d2d_sigma * normal(value, generator) if c.d2d_sigma > 0 else None
        if gain is not None:
            value = value * gain
        hidden["gain"] = gain if gain is not None else torch.ones_like(value)
        value = value.clamp(*self.program_bounds())
        stuck = sample_stuck(value, c.p_stuck_off, c.p_stuck_on, generator)
        hidden["stuck"] = stuck
        hidden["cycles"] = torch.ones_like(value)
        return DeviceState(apply_stuck(value, stuck, c.g_min, c.g_max), hidden)

    def read(self, state: DeviceState, t: float, generator: torch.Generator | None) -> torch.Tensor:
        require(math.isfinite(t) and t >= 0, type(self).__name__, "read.t", t, ">= 0 s")
        value = self._read(state, float(t), generator)
        stuck = state.hidden.get("stuck")
        if stuck is None:
            return value
        return apply_stuck(value, stuck, self.g_min, self.g_max)

    def pulse(
        self, state: DeviceState, n: torch.Tensor | float, generator: torch.Generator | None
    ) -> DeviceState:
        n_t = torch.as_tensor(n, dtype=state.value.dtype, device=state.value.device)
        n_t = torch.broadcast_to(n_t, state.value.shape)
        value, hidden = self._pulse(state, n_t, generator)
        value = torch.where(n_t == 0, state.value, value.clamp(self.g_min, self.g_max))
        stuck = state.hidden.get("stuck")
        if stuck is None:
            stuck = torch.zeros(value.shape, dtype=torch.int8, device=value.device)
        cycles = state.hidden.get("cycles", torch.zeros_like(value)) + n_t.abs()
        value = torch.where(stuck == FREE, value, state.value)
        stuck = wear_out(value, stuck, cycles, self.endurance_cycles, self.g_min, self.g_max)
        hidden.update(stuck=stuck, cycles=cycles)
        return state.replace(apply_stuck(value, stuck, self.g_min, self.g_max), **hidden)

    def update_model(self) -> PulseUpdateModel:
        c = self.config
        return PulseUpdateModel(
            n_levels=c.pulse_levels,
            nonlinearity_ltp=c.nl_ltp,
            nonlinearity_ltd=c.nl_ltd,
            c2c_sigma=c.c2c_sigma,
            g_min=c.g_min,
            g_max=c.g_max,
            depression=self.depression,
        )

    def describe(self) -> dict[str, Any]:
        d = super().describe()
        d["model"] = type(self).__name__
        d["reference_time_s"] = self.reference_time_s()
        um = self.update_model()
        d.update(
            pulse_levels=um.n_levels,
            nonlinearity_ltp=um.nonlinearity_ltp,
            nonlinearity_ltd=um.nonlinearity_ltd,
            c2c_sigma=um.c2c_sigma,
            depression=um.depression,
        )
        return d

    # -- hooks ------------------------------------------------------------------------
    def _program(
        self, x: torch.Tensor, generator: torch.Generator | None
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        return x.clone(), {}

    def _read(
        self, state: DeviceState, t: float, generator: torch.Generator | None
    ) -> torch.Tensor:
        return state.value

    def _pulse(
        self, state: DeviceState, n: torch.Tensor, generator: torch.Generator | None
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        return self.denormalise(self.pulse_w(self.normalise(state.value), n, generator)), {}

    def pulse_w(
        self, w: torch.Tensor, n: torch.Tensor, generator: torch.Generator | None
    ) -> torch.Tensor:
        """Normalised weight after ``n`` pulses by the update model, with c2c noise.

        The cycle-to-cycle noise of ``|n|`` pulses is one Gaussian of std
        ``c2c_sigma * sqrt(|n|)`` (independent pulses).
        """
        um = self.update_model()
        up = um.step_up(w, n.clamp(min=0))
        down = um.step_down(w, (-n).clamp(min=0))
        w_new = torch.where(n >= 0, up, down)
        if um.c2c_sigma > 0:
            w_new = w_new + um.c2c_sigma * n.abs().sqrt() * normal(w_new, generator)
        return w_new.clamp(0, 1)
