"""The device-model contract shared by the crossbars (``crossbar``) and the synapses (``snn``).

A device model describes one cell that stores a weight as a physical quantity: a
conductance in siemens (ReRAM, PCM, FeFET) or a capacitance in farads (memcapacitor).
Everything is vectorised over torch tensors of any shape (one element per cell) and takes
an explicit ``torch.Generator`` living on the same torch device as the tensors.

Data flow::

    target value ──program()──► DeviceState ──read(t)──► effective value at time t
                                     │
                                     └──pulse(n)──► DeviceState (learning updates)

``DeviceState`` carries the programmed value and any per-cell hidden variables a model
needs later (the PCM drift exponent, the stuck-at mask, FeFET domain fractions), so that
reading the same cells at several times is consistent.
"""

from __future__ import annotations

import dataclasses
import math
from abc import ABC, abstractmethod
from typing import Any, Literal

import torch

from devices.validation import param, require, validate

__all__ = ["DeviceState", "PulseUpdateModel", "DeviceModel", "Quantity"]

Quantity = Literal["conductance", "capacitance"]


@dataclasses.dataclass
class DeviceState:
    """The programmed state of a set of cells.

    Attributes
    ----------
    value : torch.Tensor
        Stored value per cell at the reference time ``t0`` (S or F), any shape.
    hidden : dict[str, torch.Tensor]
        Per-cell hidden variables of the model (same shape as ``value``), e.g. ``"nu"``
        (PCM drift exponent), ``"stuck"`` (0 free, 1 stuck at g_min, 2 stuck at g_max),
        ``"pulses"`` (pulse count for endurance).
    """

    value: torch.Tensor
    hidden: dict[str, torch.Tensor] = dataclasses.field(default_factory=dict)

    def replace(self, value: torch.Tensor | None = None, **hidden: torch.Tensor) -> DeviceState:
        """A new state with ``value`` and/or some hidden variables replaced."""
        merged = dict(self.hidden)
        merged.update(hidden)
        return DeviceState(self.value if value is None else value, merged)

    def to(self, device: torch.device | str) -> DeviceState:
        """The same state on another torch device."""
        return DeviceState(self.value.to(device), {k: v.to(device) for k, v in self.hidden.items()})

    def __getitem__(self, index: Any) -> DeviceState:
        return DeviceState(self.value[index], {k: v[index] for k, v in self.hidden.items()})


@dataclasses.dataclass(frozen=True)
class PulseUpdateModel:
    """The standard parametric pulse-update model of a device (NeuroSim-style).

    With the weight normalised to ``w = (g - g_min) / (g_max - g_min)`` in ``[0, 1]`` and
    ``P = n_levels - 1`` pulses spanning the range, potentiation follows
    ``w(p) = (1 - exp(-p / A_p)) / (1 - exp(-P / A_p))`` and depression the mirrored curve
    with ``A_d``, where ``A`` is derived from the nonlinearity label (``nonlinearity = 0``
    is linear). Each pulse adds Gaussian cycle-to-cycle noise of std
    ``c2c_sigma`` (fraction of the range). Source of the form: Chen, Peng, Yu,
    "NeuroSim+", IEDM 2017; MLP+NeuroSim V3.0 manual, Table II.

    A spiking simulator turns this into equations without knowing the device: see
    :meth:`step_up` and :meth:`step_down` for the closed forms.
    """

    n_levels: int = param(101, integer=True, ge=2, doc="programmable levels")
    nonlinearity_ltp: float = param(0.0, ge=-10.0, le=10.0, doc="NL label, potentiation")
    nonlinearity_ltd: float = param(0.0, ge=-10.0, le=10.0, doc="NL label, depression")
    c2c_sigma: float = param(0.0, ge=0.0, le=1.0, doc="cycle-to-cycle std, fraction of range")
    g_min: float = param(0.0, ge=0.0, doc="lower end of the range (S or F)")
    g_max: float = param(1.0, gt=0.0, doc="upper end of the range (S or F)")
    depression: str = param(
        "gradual",
        choices=("gradual", "reset"),
        doc="'gradual': mirrored soft-bounded curve; 'reset': any depressing pulse resets to w = 0 "
        "(abrupt PCM RESET of a one-directional device)",
    )

    def __post_init__(self) -> None:
        validate(self)
        require(self.g_max > self.g_min, self, "g_max", self.g_max, f"> g_min ({self.g_min:g})")

    @property
    def n_pulses(self) -> int:
        """Pulses from one end of the range to the other, ``P = n_levels - 1``."""
        return self.n_levels - 1

    @staticmethod
    def a_from_nonlinearity(nl: float, n_pulses: int) -> float:
        """Curvature constant ``A`` (in pulses) for a nonlinearity label.

        NeuroSim tabulates ``A`` against the label; a close fit over its table (labels
        0.01 … 9) is ``A / P = 1 / (1.1 * |NL|)`` for ``|NL| > 0``; ``NL = 0`` is linear
        (``A = inf``). The sign of the label does not change the curvature here: for
        depression the mirrored curve is used.
        """
        if abs(nl) < 1e-9:
            return float("inf")
        return n_pulses / (1.1 * abs(nl))

    def _w_of_p(self, p: torch.Tensor, a: float) -> torch.Tensor:
        P = float(self.n_pulses)
        if a == float("inf"):
            return p / P
        return (1 - torch.exp(-p / a)) / (1 - math.exp(-P / a))

    def _p_of_w(self, w: torch.Tensor, a: float) -> torch.Tensor:
        P = float(self.n_pulses)
        if a == float("inf"):
            return w * P
        scale = 1 - math.exp(-P / a)
        return -a * torch.log1p(-(w * scale).clamp(max=1 - 1e-12))

    def step_up(self, w: torch.Tensor, n: torch.Tensor | float = 1.0) -> torch.Tensor:
        """Expected normalised weight after ``n`` potentiating pulses from ``w`` (noise-free)."""
        a = self.a_from_nonlinearity(self.nonlinearity_ltp, self.n_pulses)
        p = self._p_of_w(w.clamp(0, 1), a) + n
        return self._w_of_p(p.clamp(0, self.n_pulses), a)

    def step_down(self, w: torch.Tensor, n: torch.Tensor | float = 1.0) -> torch.Tensor:
        """Expected normalised weight after ``n`` depressing pulses from ``w`` (noise-free).

        With ``depression == "reset"`` any ``n > 0`` returns 0 (abrupt RESET).
        """
        if self.depression == "reset":
            n_t = torch.as_tensor(n, dtype=w.dtype, device=w.device)
            return torch.where(n_t > 0, torch.zeros_like(w), w.clamp(0, 1))
        a = self.a_from_nonlinearity(self.nonlinearity_ltd, self.n_pulses)
        p = self._p_of_w((1 - w).clamp(0, 1), a) + n
        return 1 - self._w_of_p(p.clamp(0, self.n_pulses), a)


class DeviceModel(ABC):
    """One kind of memory cell; subclasses implement the physics.

    Subclasses set the class attributes below (through their config) and implement
    :meth:`program`, :meth:`read`, :meth:`pulse` and :meth:`update_model`.

    Attributes
    ----------
    name : str
        Registry name (``"pcm"``).
    quantity : {"conductance", "capacitance"}
        What the cell stores; the unit is S or F.
    g_min, g_max : float
        Range of the stored value (S, or F for capacitive cells).
    n_levels : int or None
        Programmable levels; ``None`` is continuous.
    read_voltage_V, t_read_s, t_write_s : float
        Read voltage, read time and write-pulse time.
    read_energy_J, write_energy_J : float
        Energy of one cell read at mid-range, and of one write pulse.
    endurance_cycles, retention_s : float
        Write cycles before failure; retention time at the rated temperature.
    """

    name: str = "device"
    quantity: Quantity = "conductance"

    @property
    def unit(self) -> str:
        """``"S"`` for conductance, ``"F"`` for capacitance."""
        return "S" if self.quantity == "conductance" else "F"

    # Subclasses provide these (typically as properties over a frozen config).
    g_min: float
    g_max: float
    n_levels: int | None
    read_voltage_V: float
    t_read_s: float
    t_write_s: float
    read_energy_J: float
    write_energy_J: float
    endurance_cycles: float
    retention_s: float

    @abstractmethod
    def program(self, target: torch.Tensor, generator: torch.Generator | None) -> DeviceState:
        """Write ``target`` values (S or F, clipped to the range) and return the state.

        Includes quantisation to the levels, programming noise (write-verify where the
        device has it), device-to-device variation and stuck-at faults. With
        ``generator=None`` the write is noise-free (and fault-free).
        """

    @abstractmethod
    def read(self, state: DeviceState, t: float, generator: torch.Generator | None) -> torch.Tensor:
        """Effective value (S or F) read ``t`` seconds after programming.

        Includes drift/relaxation at ``t`` and read noise; ``generator=None`` reads the
        noise-free expected value (drift still applies). ``t`` counts from the end of
        programming; a model fitted against a first-read time ``t0`` (PCM) evaluates its
        laws at ``t + t0``, as aihwkit does, so ``t = 0`` reads the programmed value.
        """

    def program_bounds(self) -> tuple[float, float]:
        """Lowest and highest value :meth:`program` can return (S or F).

        The range ``(g_min, g_max)`` unless the model's published programming statistics
        are not clipped there (PCM: Gaussian noise clipped at 0 only, as in aihwkit).
        """
        return (self.g_min, self.g_max)

    @abstractmethod
    def pulse(
        self, state: DeviceState, n: torch.Tensor, generator: torch.Generator | None
    ) -> DeviceState:
        """State after ``n`` potentiating (``n > 0``) or depressing (``n < 0``) pulses per cell."""

    @abstractmethod
    def update_model(self) -> PulseUpdateModel:
        """The pulse response as the standard parametric update model."""

    def describe(self) -> dict[str, Any]:
        """Key figures for listings: range, levels, energies, times, endurance, retention."""
        return {
            "name": self.name,
            "quantity": self.quantity,
            "unit": self.unit,
            "g_min": self.g_min,
            "g_max": self.g_max,
            "n_levels": self.n_levels,
            "read_voltage_V": self.read_voltage_V,
            "t_read_s": self.t_read_s,
            "t_write_s": self.t_write_s,
            "read_energy_J": self.read_energy_J,
            "write_energy_J": self.write_energy_J,
            "endurance_cycles": self.endurance_cycles,
            "retention_s": self.retention_s,
        }
