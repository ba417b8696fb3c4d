"""The common result of evaluating a workload on a target.

Every target — reference, NPU, analog, spiking — returns a :class:`Result` with the
metrics of DESIGN.md in SI units, so that paradigms can be put side by side.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

__all__ = [
    "Curve",
    "Result",
    "METRIC_FIELDS",
    "METRIC_UNITS",
    "ENERGY_GROUPS",
    "CHIP_GROUPS",
    "GROUP_MEANING",
    "BOUNDARY_NOTE",
]

#: The scalar metrics every result carries (``None`` where the target does not model it).
#: ``energy_per_inference`` and ``efficiency`` are **chip** figures (the groups of
#: :data:`CHIP_GROUPS`); the ``system_`` figures add the ``off_chip`` group.
METRIC_UNITS: dict[str, str] = {
    "accuracy": "fraction",
    "accuracy_std": "fraction",
    "energy_per_inference": "J",
    "system_energy_per_inference": "J",
    "latency": "s",
    "throughput": "inferences/s",
    "ops_per_inference": "ops",
    "efficiency": "ops/s/W",
    "system_efficiency": "ops/s/W",
    "area": "m^2",
}
METRIC_FIELDS: tuple[str, ...] = tuple(METRIC_UNITS)
#: Metrics computed from others (not stored fields of :class:`Result`).
DERIVED_METRICS = ("efficiency", "system_efficiency")

#: The one energy boundary (DESIGN.md, "One energy boundary"): every target puts each of
#: its energy components into exactly one of these groups, and fills every group or says
#: why it cannot (``Result.energy_missing``), never a silent 0.
ENERGY_GROUPS: tuple[str, ...] = ("compute", "conversion", "movement", "static", "off_chip")
#: The groups that make up the chip energy (``energy_per_inference``).
CHIP_GROUPS: tuple[str, ...] = ENERGY_GROUPS[:4]
GROUP_MEANING: dict[str, str] = {
    "compute": "MACs, cell reads, synaptic events",
    "conversion": "DACs and drivers, ADCs and sense amplifiers, neuron circuits, integrators",
    "movement": "on-chip SRAM and buffers, on-chip interconnect, spike routing",
    "static": "leakage, bias, clock and control power over the run's time",
    "off_chip": "DRAM, host I/O, board",
}
BOUNDARY_NOTE = (
    "chip = compute + conversion + movement + static; system = chip + off_chip "
    "(DRAM, host I/O, board)"
)


@dataclasses.dataclass(frozen=True)
class Curve:
    """A named curve: ``y`` against ``x`` (e.g. accuracy against time since programming).

    Attributes
    ----------
    x, y : numpy.ndarray
        1-D arrays of equal length.
    x_label, y_label : str
        Quantity and unit, e.g. ``"t_s"`` and ``"accuracy"``.
    y_std : numpy.ndarray or None
        Standard deviation of ``y`` over repeats, where there are repeats.
    """

    x: np.ndarray
    y: np.ndarray
    x_label: str
    y_label: str
    y_std: np.ndarray | None = None

    def __post_init__(self) -> None:
        x = np.asarray(self.x, dtype=float).reshape(-1)
        y = np.asarray(self.y, dtype=float).reshape(-1)
        if x.shape != y.shape:
            raise ValueError(f"Curve x and y must have the same length; got {x.size} and {y.size}")
        object.__setattr__(self, "x", x)
        object.__setattr__(self, "y", y)
        if self.y_std is not None:
            s = np.asarray(self.y_std, dtype=float).reshape(-1)
            if s.shape != y.shape:
                raise ValueError(f"Curve y_std must have the length of y ({y.size}); got {s.size}")
            object.__setattr__(self, "y_std", s)


@dataclasses.dataclass
class Result:
    """What one evaluation of a workload on a target produced.

    Attributes
    ----------
    workload, target : str
        Names as on the command line (``"mlp-fmnist"``, ``"aimc:pcm"``).
    seed : int
        The run's seed; every random draw derives from it.
    accuracy, accuracy_std : float or None
        Top-1 on the workload's test split (fraction), mean and std over repeats; for a
        detection workload the PASCAL VOC mAP@0.5 instead (:attr:`accuracy_metric`).
    energy_per_inference : float or None
        **Chip** energy, J per input at ``batch_size``: the sum of the components in the
        groups of :data:`CHIP_GROUPS` (None: not modelled by this target).
    system_energy_per_inference : float or None
        Chip energy plus the ``off_chip`` group (DRAM, host I/O, board), J per input; None
        where the target cannot model the off-chip part (the reason is in
        ``energy_missing``).
    latency : float or None
        s for one input, start to result.
    throughput : float or None
        Inferences per second at ``batch_size``.
    ops_per_inference : float
        2 × MACs of the workload: the same number for every paradigm.
    area : float or None
        m², where the target models it.
    energy_breakdown : dict[str, float]
        J per inference by component (``mac``, ``sram``, ``adc`` …), chip and off-chip.
    energy_groups : dict[str, str]
        The group (:data:`ENERGY_GROUPS`) of every component of ``energy_breakdown``.
    energy_missing : dict[str, str]
        A group, or a component within a group, that the target does not model, with the
        reason (a group without components must be here).
    layers : list[dict]
        Per-layer table (one dict per layer, same keys in each).
    curves : dict[str, Curve]
        Named curves.
    config : dict
        The exact configuration that produced the result (JSON-serialisable).
    provenance : dict
        Versions, host, data source, timings.
    batch_size : int
        Batch size the throughput and energy refer to.
    extra : dict[str, float]
        Further scalar figures of the target (e.g. ``synaptic_events``), SI units.
    """

    workload: str
    target: str
    seed: int
    ops_per_inference: float
    accuracy: float | None = None
    accuracy_std: float | None = None
    energy_per_inference: float | None = None
    system_energy_per_inference: float | None = None
    latency: float | None = None
    throughput: float | None = None
    area: float | None = None
    energy_breakdown: dict[str, float] = dataclasses.field(default_factory=dict)
    energy_groups: dict[str, str] = dataclasses.field(default_factory=dict)
    energy_missing: dict[str, str] = dataclasses.field(default_factory=dict)
    layers: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    curves: dict[str, Curve] = dataclasses.field(default_factory=dict)
    config: dict[str, Any] = dataclasses.field(default_factory=dict)
    provenance: dict[str, Any] = dataclasses.field(default_factory=dict)
    batch_size: int = 1
    extra: dict[str, float] = dataclasses.field(default_factory=dict)

    @property
    def accuracy_metric(self) -> str:
        """What ``accuracy`` measures: ``"top-1"``, or ``"mAP@0.5"`` for a detection
        workload (:mod:`neuro.detection`), as the target recorded it in
        ``provenance["accuracy_metric"]`` (``"top-1"`` where it recorded none)."""
        return str(self.provenance.get("accuracy_metric") or "top-1")

    @property
    def efficiency(self) -> float | None:
        """Chip ops/s/W = ops per inference / chip energy per inference (None without energy)."""
        if self.energy_per_inference is None or self.energy_per_inference <= 0:
            return None
        return self.ops_per_inference / self.energy_per_inference

    @property
    def system_efficiency(self) -> float | None:
        """System ops/s/W = ops per inference / system energy per inference."""
        e = self.system_energy_per_inference
        if e is None or e <= 0:
            return None
        return self.ops_per_inference / e

    def group_energy(self) -> dict[str, float | None]:
        """J per inference by group of :data:`ENERGY_GROUPS`; None for a group the target
        does not model (its reason is in ``energy_missing``)."""
        out: dict[str, float | None] = {}
        for g in ENERGY_GROUPS:
            parts = [v for k, v in self.energy_breakdown.items() if self.energy_groups.get(k) == g]
            out[g] = float(sum(parts)) if parts else None
        return out

    def set_energy(
        self, components: dict[str, tuple[str, float]], missing: dict[str, str] | None = None
    ) -> Result:
        """Fill the breakdown, groups, chip and system energy from ``{component: (group, J)}``.

        ``missing`` names the groups (or components) not modelled, with a reason. The
        system energy is None when ``off_chip`` has no component.
        """
        self.energy_breakdown = {k: float(v) for k, (_, v) in components.items()}
        self.energy_groups = {k: g for k, (g, _) in components.items()}
        self.energy_missing = dict(missing or {})
        groups = self.group_energy()
        self.energy_per_inference = float(sum(groups[g] or 0.0 for g in CHIP_GROUPS))
        off = groups["off_chip"]
        self.system_energy_per_inference = None if off is None else self.energy_per_inference + off
        return self

    def metrics(self) -> dict[str, float | None]:
        """The scalar metrics of :data:`METRIC_FIELDS`, by name."""
        return {name: getattr(self, name) for name in METRIC_FIELDS}

    def check(self) -> None:
        """Raise ``ValueError`` if a metric is non-finite, negative or out of range."""
        for name, value in self.metrics().items():
            if value is None:
                continue
            if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                raise ValueError(f"Result.{name} must be a finite number >= 0; got {value!r}")
        for name in ("accuracy", "accuracy_std"):
            value = getattr(self, name)
            if value is not None and value > 1:
                raise ValueError(f"Result.{name} must be a fraction in [0, 1]; got {value!r}")
        for name, value in self.energy_breakdown.items():
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"Result.energy_breakdown[{name!r}] must be >= 0; got {value!r}")
        if not self.energy_breakdown:
            return
        for name in self.energy_breakdown:
            group = self.energy_groups.get(name)
            if group not in ENERGY_GROUPS:
                raise ValueError(
                    f"Result.energy_groups[{name!r}] must be one of {', '.join(ENERGY_GROUPS)}; "
                    f"got {group!r}"
                )
        groups = self.group_energy()
        for g, value in groups.items():
            if value is None and not self.energy_missing.get(g):
                raise ValueError(
                    f"Result energy group {g!r} has no component and no reason in "
                    "energy_missing (a term a target cannot model is None with a reason)"
                )
        chip = sum(groups[g] or 0.0 for g in CHIP_GROUPS)
        if self.energy_per_inference is None or not math.isclose(
            chip, self.energy_per_inference, rel_tol=1e-6
        ):
            raise ValueError(
                "Result.energy_per_inference must be the chip energy (the sum of groups "
                f"{', '.join(CHIP_GROUPS)}: {chip:g} J); got {self.energy_per_inference!r}"
            )
        if groups["off_chip"] is not None:
            system = chip + groups["off_chip"]
            if self.system_energy_per_inference is None or not math.isclose(
                system, self.system_energy_per_inference, rel_tol=1e-6
            ):
                raise ValueError(
                    "Result.system_energy_per_inference must be chip + off_chip "
                    f"({system:g} J); got {self.system_energy_per_inference!r}"
                )
