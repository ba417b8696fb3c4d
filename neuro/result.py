"""The common result of evaluating a workload on a target.

Every target — reference, NPU, analog, spiking — returns a :class:`Result` with the
metrics of DESIGN.md in SI units, so that paradigms can be put side by side.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

__all__ = ["Curve", "Result", "METRIC_FIELDS", "METRIC_UNITS"]

#: The scalar metrics every result carries (``None`` where the target does not model it).
METRIC_UNITS: dict[str, str] = {
    "accuracy": "fraction",
    "accuracy_std": "fraction",
    "energy_per_inference": "J",
    "latency": "s",
    "throughput": "inferences/s",
    "ops_per_inference": "ops",
    "efficiency": "ops/s/W",
    "area": "m^2",
}
METRIC_FIELDS: tuple[str, ...] = tuple(METRIC_UNITS)


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
        Top-1 on the workload's test split (fraction), mean and std over repeats.
    energy_per_inference : float or None
        J per input at ``batch_size`` (None: not modelled by this target).
    latency : float or None
        s for one input, start to result.
    throughput : float or None
        Inferences per second at ``batch_size``.
    ops_per_inference : float
        2 × MACs of the workload: the same number for every paradigm.
    area : float or None
        m², where the target models it.
    energy_breakdown : dict[str, float]
        J per inference by component (``mac``, ``sram``, ``adc`` …); sums to
        ``energy_per_inference`` where both are given.
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
    latency: float | None = None
    throughput: float | None = None
    area: float | None = None
    energy_breakdown: dict[str, float] = dataclasses.field(default_factory=dict)
    layers: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    curves: dict[str, Curve] = dataclasses.field(default_factory=dict)
    config: dict[str, Any] = dataclasses.field(default_factory=dict)
    provenance: dict[str, Any] = dataclasses.field(default_factory=dict)
    batch_size: int = 1
    extra: dict[str, float] = dataclasses.field(default_factory=dict)

    @property
    def efficiency(self) -> float | None:
        """ops/s/W = ops per inference / energy per inference (None without energy)."""
        if self.energy_per_inference is None or self.energy_per_inference <= 0:
            return None
        return self.ops_per_inference / self.energy_per_inference

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
        if self.energy_breakdown and self.energy_per_inference:
            total = sum(self.energy_breakdown.values())
            if not math.isclose(total, self.energy_per_inference, rel_tol=1e-6):
                raise ValueError(
                    "Result.energy_breakdown must sum to energy_per_inference "
                    f"({self.energy_per_inference:g} J); got {total:g} J"
                )
