"""Roadmap targets: published figures of each paradigm, and a result's gap to them.

Each preset is a small TOML file in ``neuro/roadmap/presets/`` with its figures in SI units
and its source. :func:`gap` puts a simulated result next to the targets of its paradigm as
ratios (``> 1`` means the simulated design does better than the target).
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
]

PARADIGMS = ("digital", "analog", "spiking")
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
    notes: str = ""

    def __post_init__(self) -> None:
        validate(self)
        require(bool(self.source.strip()), self, "source", self.source, "a citation")
        require(
            bool(self.paradigms) and all(p in PARADIGMS for p in self.paradigms),
            self, "paradigms", self.paradigms, f"a non-empty list from {', '.join(PARADIGMS)}",
        )  # fmt: skip

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
    """

    target: RoadmapTarget
    metric: str
    simulated: float
    published: float
    ratio: float


def gap(result: Result, paradigm: str | None = None) -> list[Gap]:
    """The result's gaps to the targets of its paradigm (empty for the reference).

    Efficiency compares ``Result.efficiency`` with the target's ops/s/W; spiking results
    that report ``energy_per_synaptic_event_J`` in ``extra`` are also compared per event.
    """
    paradigm = paradigm or paradigm_of(result.target)
    if paradigm is None:
        return []
    out = []
    for t in targets_for(paradigm):
        if t.efficiency is not None and result.efficiency is not None:
            out.append(
                Gap(
                    t,
                    "efficiency",
                    result.efficiency,
                    t.efficiency,
                    result.efficiency / t.efficiency,
                )
            )
        per_event = result.extra.get("energy_per_synaptic_event_J")
        if t.energy_per_synaptic_event_J is not None and per_event:
            out.append(
                Gap(t, "energy_per_synaptic_event", per_event, t.energy_per_synaptic_event_J,
                    t.energy_per_synaptic_event_J / per_event)
            )  # fmt: skip
    return out
