"""Roadmap targets: published figures of each paradigm, and a result's gap to them.

Each preset is a small TOML file in ``neuro/roadmap/presets/`` with its figures in SI units,
its source and what the figure is: ``figure_kind`` (measured on silicon, a target or
roadmap goal, pre-silicon, simulated, or derived from other figures), ``operating_point``
(peak, typical, or at a named workload), ``precision``, ``cell_type`` and the
``assumptions`` behind it. A per-event spiking figure says its scope in ``event_figure``:
``"per-operation"`` (the synaptic operation alone: Loihi 23.6 pJ, SENECA 2.8 pJ) or
``"all-in"`` (all the chip's energy divided by its synaptic events: TrueNorth 26 pJ).

:func:`gap` puts a simulated result next to the targets of its paradigm as ratios
(``> 1`` means the simulated design does better than the target), like with like: a
per-operation figure against the result's synaptic part only (``compute`` energy per
synaptic event, ``extra["synaptic_energy_per_event_J"]``), an all-in figure against the
result's chip energy per synaptic event (``extra["energy_per_synaptic_event_J"]``); the
:class:`Gap` records which (``basis``).
"""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

from devices.registry import Registry
from devices.validation import ConfigError, param, require, validate
from neuro.result import Result

__all__ = [
    "RoadmapTarget",
    "Gap",
    "REGISTRY",
    "get",
    "names",
    "register",
    "load_toml",
    "paradigm_of",
    "targets_for",
    "gap",
    "PARADIGMS",
    "FIGURE_KINDS",
    "EVENT_FIGURES",
]

PARADIGMS = ("digital", "analog", "spiking")
#: What a figure is (``RoadmapTarget.figure_kind``).
FIGURE_KINDS = ("measured", "target", "pre-silicon", "simulated", "derived", "reported")
#: Scope of a per-event spiking figure (``RoadmapTarget.event_figure``).
EVENT_FIGURES = ("per-operation", "all-in")
#: The paradigm each target family simulates (the reference is no hardware).
FAMILY_PARADIGM = {"npu": "digital", "aimc": "analog", "snn": "spiking"}


@dataclasses.dataclass(frozen=True)
class RoadmapTarget:
    """A published design point or goal.

    Attributes
    ----------
    name, title : str
        Registry name and a human title.
    paradigms : tuple of str
        Paradigms it is a target for (``"digital"``, ``"analog"``, ``"spiking"``).
    year : int
        Year of the figure.
    source : str
        Where the figures come from.
    peak_ops_per_s, power_W, efficiency_ops_per_s_per_W, area_m2 : float or None
        Throughput (ops/s), power (W), efficiency (ops/s/W = ops/J), area (m²).
    energy_per_synaptic_event_J, energy_per_neuron_update_J : float or None
        Spiking figures (J).
    figure_kind : str or None
        One of :data:`FIGURE_KINDS`: ``measured`` on silicon, a ``target`` (design or
        roadmap goal), ``pre-silicon`` (design-time estimate), ``simulated``, or
        ``derived`` from other published figures (the arithmetic in ``assumptions``), or
        ``reported`` by a secondary source that does not say which of these it is.
    operating_point : str
        ``"peak"``, ``"typical"`` or the workload and conditions the figure was taken at.
    precision : str
        Arithmetic precision of the figure (``"FP16"``, ``"ternary weights, 6-bit
        activations"``).
    cell_type : str
        Memory cell that computes or stores the weights (``"SRAM"``, ``"PCM"``).
    event_figure : str or None
        For ``energy_per_synaptic_event_J``: ``"per-operation"`` or ``"all-in"``
        (:data:`EVENT_FIGURES`; required with that figure).
    assumptions : str
        What the figure assumes (e.g. charge recovery) and its value without it.
    notes : str
        Caveats.
    """

    name: str
    title: str
    paradigms: tuple[str, ...]
    year: int = param(integer=True, ge=1950, le=2100)
    source: str = ""
    peak_ops_per_s: float | None = param(None, unit="ops/s", gt=0, optional=True)
    power_W: float | None = param(None, unit="W", gt=0, optional=True)
    efficiency_ops_per_s_per_W: float | None = param(None, unit="ops/s/W", gt=0, optional=True)
    area_m2: float | None = param(None, unit="m^2", gt=0, optional=True)
    energy_per_synaptic_event_J: float | None = param(None, unit="J", gt=0, optional=True)
    energy_per_neuron_update_J: float | None = param(None, unit="J", gt=0, optional=True)
    figure_kind: str | None = param(None, choices=FIGURE_KINDS, optional=True)
    operating_point: str = ""
    precision: str = ""
    cell_type: str = ""
    event_figure: str | None = param(None, choices=EVENT_FIGURES, optional=True)
    assumptions: str = ""
    notes: str = ""

    def __post_init__(self) -> None:
        validate(self)
        require(bool(self.source.strip()), self, "source", self.source, "a citation")
        require(
            bool(self.paradigms) and all(p in PARADIGMS for p in self.paradigms),
            self, "paradigms", self.paradigms, f"a non-empty list from {', '.join(PARADIGMS)}",
        )  # fmt: skip
        require(
            self.energy_per_synaptic_event_J is None or self.event_figure is not None,
            self, "event_figure", self.event_figure,
            f"one of {', '.join(EVENT_FIGURES)} when energy_per_synaptic_event_J is given",
        )  # fmt: skip

    @property
    def label(self) -> str:
        """What the figure is, in a few words (kind, operating point, precision, cell)."""
        parts = [self.figure_kind or "kind not stated", self.operating_point, self.precision,
                 f"{self.cell_type} cells" if self.cell_type else ""]  # fmt: skip
        return ", ".join(p for p in parts if p)

    @property
    def efficiency(self) -> float | None:
        """ops/s/W: given, or peak / power."""
        if self.efficiency_ops_per_s_per_W is not None:
            return self.efficiency_ops_per_s_per_W
        if self.peak_ops_per_s is not None and self.power_W is not None:
            return self.peak_ops_per_s / self.power_W
        return None


REGISTRY: Registry[RoadmapTarget] = Registry("roadmap target")
_FIELDS = {f.name for f in dataclasses.fields(RoadmapTarget)}


def load_toml(path: str | Path) -> RoadmapTarget:
    """A roadmap target from a TOML file; unknown keys are refused."""
    path = Path(path)
    data = tomllib.loads(path.read_text())
    unknown = sorted(set(data) - _FIELDS)
    if unknown:
        raise ConfigError(
            f"{path.name}: unknown key {unknown[0]!r}; valid: {', '.join(sorted(_FIELDS))}"
        )
    data["paradigms"] = tuple(data.get("paradigms", ()))
    try:
        return RoadmapTarget(**data)
    except TypeError as exc:
        raise ConfigError(f"{path.name}: {exc}") from None


def register(target: RoadmapTarget, *, replace: bool = False) -> RoadmapTarget:
    """Add a roadmap target; a name used twice raises."""
    return REGISTRY.register(target.name, target, replace=replace)


def get(name: str) -> RoadmapTarget:
    """The roadmap target called ``name``."""
    return REGISTRY.get(name)


def names() -> list[str]:
    """Registered roadmap targets."""
    return REGISTRY.names()


for _path in sorted((Path(__file__).parent / "presets").glob("*.toml")):
    register(load_toml(_path))


def paradigm_of(target_name: str) -> str | None:
    """The paradigm a target name (``"aimc:pcm"``) simulates; None for the reference."""
    return FAMILY_PARADIGM.get(target_name.partition(":")[0])


def targets_for(paradigm: str) -> list[RoadmapTarget]:
    """Roadmap targets of a paradigm, by name."""
    return [t for _, t in REGISTRY.items() if paradigm in t.paradigms]


@dataclasses.dataclass(frozen=True)
class Gap:
    """A result against one roadmap target: ratios > 1 mean the result does better.

    Attributes
    ----------
    target : RoadmapTarget
    metric : str
        ``"efficiency"`` (ops/s/W) or ``"energy_per_synaptic_event"`` (J).
    simulated, published : float
        The two figures in SI units.
    ratio : float
        simulated / published for efficiency; published / simulated for energies.
    basis : str
        What of the result was compared: ``"chip efficiency"``, ``"synaptic part only"``
        (per-operation figures) or ``"all-in chip energy"`` (all-in figures).
    """

    target: RoadmapTarget
    metric: str
    simulated: float
    published: float
    ratio: float
    basis: str = ""


#: Which per-event figure of a result each ``event_figure`` scope compares with.
_EVENT_BASIS = {
    "per-operation": ("synaptic_energy_per_event_J", "synaptic part only"),
    "all-in": ("energy_per_synaptic_event_J", "all-in chip energy"),
}


def gap(result: Result, paradigm: str | None = None) -> list[Gap]:
    """The result's gaps to the targets of its paradigm (empty for the reference).

    Efficiency compares ``Result.efficiency`` (chip) with the target's ops/s/W. A spiking
    target's per-event figure is compared like with like (module docstring): a
    per-operation figure with ``extra["synaptic_energy_per_event_J"]``, an all-in figure
    with ``extra["energy_per_synaptic_event_J"]``; a result without that figure is skipped.
    """
    paradigm = paradigm or paradigm_of(result.target)
    if paradigm is None:
        return []
    out = []
    for t in targets_for(paradigm):
        if t.efficiency is not None and result.efficiency is not None:
            out.append(
                Gap(t, "efficiency", result.efficiency, t.efficiency,
                    result.efficiency / t.efficiency, "chip efficiency")
            )  # fmt: skip
        if t.energy_per_synaptic_event_J is None:
            continue
        key, basis = _EVENT_BASIS[t.event_figure or "all-in"]
        per_event = result.extra.get(key)
        if per_event:
            out.append(
                Gap(t, "energy_per_synaptic_event", per_event, t.energy_per_synaptic_event_J,
                    t.energy_per_synaptic_event_J / per_event, basis)
            )  # fmt: skip
    return out
