"""Experiment specs: a TOML file that expands to a list of runs.

A spec names workloads, targets, seeds, fixed target options and a sweep grid::

    name = "adc_sweep"
    description = "ADC resolution against accuracy and energy"
    workloads = ["mlp-fmnist"]
    targets = ["aimc:pcm", "aimc:reram"]
    seeds = [0, 1]                 # or an integer N for seeds 0..N-1
    quick = false                  # use each target family's fast options

    [options.aimc]                 # fixed options, by family ("aimc") or target ("aimc:pcm")
    times_s = [1.0, 86400.0]

    [grid.aimc]                    # swept options: the cartesian product of the lists
    adc_bits = [4, 6, 8, 10]

Runs are the product workloads × targets × grid points (of that target) × seeds. Each run
has a key hashing its definition (workload, target, the target's full config, seed), so
an interrupted sweep resumes by skipping keys already in the archive.

Every mistake — an unknown key, a wrong type, an unknown workload, target or option, an
option value out of range, a seed outside ``[0, 2**32 - 1]`` (what every generator we use
accepts: Brian2 seeds NumPy's legacy ``RandomState``), a workload, target, seed or grid
value listed twice — raises :class:`ConfigError` naming it, before anything runs. Two grid
points that build the same target configuration (``8`` and ``8.0``) are one run.

The run count is computed from the list lengths before anything is expanded
(:meth:`ExperimentSpec.count`); a spec of more than ``max_runs`` runs (default
:data:`MAX_RUNS`) is refused in one line rather than taking minutes and gigabytes to expand.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import tomllib
from pathlib import Path
from typing import Any

from devices.validation import ConfigError
from neuro.compare import run_key
from neuro.targets import FAMILIES, make_target, target_names
from neuro.workloads import get as get_workload

__all__ = [
    "ExperimentSpec",
    "RunSpec",
    "load_spec",
    "parse_spec",
    "check_seed",
    "MAX_SEED",
    "MAX_RUNS",
]

#: Largest seed: Brian2 seeds NumPy's legacy RandomState, which takes [0, 2**32 - 1];
#: torch and NumPy's default_rng accept all of those.
MAX_SEED = 2**32 - 1
#: Default cap on the runs one spec may expand to (``max_runs`` of :func:`parse_spec`).
MAX_RUNS = 100_000
#: A spec file larger than this is not a spec (1 MiB).
MAX_SPEC_BYTES = 1 << 20


def check_seed(seed: Any, where: str = "seed") -> int:
    """``seed`` as an int in ``[0, MAX_SEED]``, else :class:`ConfigError` naming ``where``."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise ConfigError(f"{where} must be an integer in [0, {MAX_SEED}]; got {seed!r}")
    return seed


_KEYS = ("name", "description", "workloads", "targets", "seeds", "quick", "options", "grid")


@dataclasses.dataclass(frozen=True)
class RunSpec:
    """One run of an experiment: everything a worker needs to execute it.

    Attributes
    ----------
    workload, target : str
        Names (``"mlp-fmnist"``, ``"aimc:pcm"``).
    options : dict
        Keyword options for :func:`neuro.targets.make_target`.
    seed : int
    key : str
        Hash of the definition (see :func:`neuro.compare.run_key`).
    point : dict
        The grid point alone (for labels and tables).
    """

    workload: str
    target: str
    options: dict[str, Any]
    seed: int
    key: str
    point: dict[str, Any]


@dataclasses.dataclass(frozen=True)
class ExperimentSpec:
    """A parsed and validated experiment spec (see the module docstring)."""

    name: str
    description: str
    workloads: tuple[str, ...]
    targets: tuple[str, ...]
    seeds: tuple[int, ...]
    quick: bool
    options: dict[str, dict[str, Any]]
    grid: dict[str, dict[str, list[Any]]]

    def count(self) -> int:
        """How many runs the spec expands to (before collapsing equal configurations),
        computed from the list lengths without expanding anything."""
        per_workload = sum(_n_points(self.grid, t) for t in self.targets)
        return len(self.workloads) * per_workload * len(self.seeds)

    def runs(self) -> list[RunSpec]:
        """The expanded runs, in a stable order; each target built once to validate it.

        Grid points that build the same target configuration give one run (the first).
        """
        out = []
        seen: set[str] = set()
        for workload in self.workloads:
            for target in self.targets:
                for point in _points(self.grid, target):
                    options = _options_for(self, target)
                    options.update(point)
                    config = _build(target, options, self.name).config()
                    for seed in self.seeds:
                        key = run_key(workload, target, config, seed)
                        if key in seen:
                            continue
                        seen.add(key)
                        out.append(RunSpec(workload, target, options, seed, key, dict(point)))
        return out


def _applies(scope: str, target: str) -> bool:
    return scope == target or scope == target.partition(":")[0]


def _options_for(spec: ExperimentSpec, target: str) -> dict[str, Any]:
    family = target.partition(":")[0]
    options = dict(FAMILIES.get(family).quick_options) if spec.quick else {}
    for scope in (family, target):  # target-specific options override family ones
        options.update(spec.options.get(scope, {}))
    return options


def _axes(grid: dict[str, dict[str, list[Any]]], target: str) -> dict[str, list[Any]]:
    axes: dict[str, list[Any]] = {}
    for scope, table in grid.items():
        if _applies(scope, target):
            axes.update(table)
    return axes


def _n_points(grid: dict[str, dict[str, list[Any]]], target: str) -> int:
    return math.prod(len(v) for v in _axes(grid, target).values())


def _points(grid: dict[str, dict[str, list[Any]]], target: str) -> list[dict[str, Any]]:
    axes = _axes(grid, target)
    if not axes:
        return [{}]
    names = sorted(axes)
    return [dict(zip(names, values)) for values in itertools.product(*(axes[n] for n in names))]


def _build(target: str, options: dict[str, Any], spec_name: str):
    try:
        return make_target(target, **options)
    except ConfigError as exc:
        raise ConfigError(f"spec {spec_name!r}: {exc}") from None


def _type_error(key: str, expected: str, value: Any) -> ConfigError:
    return ConfigError(f"spec.{key} must be {expected}; got {value!r}")


def _str_list(data: dict, key: str) -> tuple[str, ...]:
    value = data.get(key)
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise _type_error(key, "a non-empty list of strings", value)
    _no_repeats(key, value)
    return tuple(value)


def _no_repeats(key: str, values: list[Any]) -> None:
    """Refuse a list naming one value twice (it would run, and be archived, twice)."""
    seen: set[tuple[str, str]] = set()
    for v in values:
        number = isinstance(v, (int, float)) and not isinstance(v, bool)
        k = ("number", repr(float(v))) if number else (type(v).__name__, repr(v))  # 8 == 8.0
        if k in seen:
            raise ConfigError(f"spec.{key} lists {v!r} twice; give each value once")
        seen.add(k)


def parse_spec(data: dict[str, Any], *, max_runs: int | None = None) -> ExperimentSpec:
    """Validate a spec given as a dict (as read from TOML).

    Parameters
    ----------
    data : dict
        The spec (see the module docstring).
    max_runs : int, optional
        Refuse a spec of more runs than this (default :data:`MAX_RUNS`).
    """
    limit = MAX_RUNS if max_runs is None else max_runs
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ConfigError(f"max_runs must be an integer >= 1; got {max_runs!r}")
    if not isinstance(data, dict):
        raise ConfigError(f"spec must be a table of keys; got {type(data).__name__}")
    unknown = sorted(set(data) - set(_KEYS))
    if unknown:
        raise ConfigError(f"spec key {unknown[0]!r} is unknown; valid: {', '.join(_KEYS)}")
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise _type_error("name", "a non-empty string", name)
    description = data.get("description", "")
    if not isinstance(description, str):
        raise _type_error("description", "a string", description)
    workloads = _str_list(data, "workloads")
    for w in workloads:
        get_workload(w)
    targets = _str_list(data, "targets")
    valid_targets = target_names()
    for t in targets:
        if t not in valid_targets:
            raise ConfigError(f"unknown target {t!r}; valid: {', '.join(valid_targets)}")
    seeds_raw = data.get("seeds", [0])
    if isinstance(seeds_raw, int) and not isinstance(seeds_raw, bool) and seeds_raw >= 1:
        if seeds_raw > limit:  # checked before range() is expanded
            raise ConfigError(
                f"spec {name!r} asks for {seeds_raw} seeds, more than the limit of {limit} runs; "
                "give fewer (or raise the limit with --max-runs)"
            )
        seeds = tuple(range(seeds_raw))
    elif (
        isinstance(seeds_raw, list)
        and seeds_raw
        and all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in seeds_raw)
    ):
        for s in seeds_raw:
            check_seed(s, "spec.seeds")
        _no_repeats("seeds", seeds_raw)
        seeds = tuple(seeds_raw)
    else:
        raise _type_error(
            "seeds", "a positive integer or a non-empty list of integers >= 0", seeds_raw
        )
    quick = data.get("quick", False)
    if not isinstance(quick, bool):
        raise _type_error("quick", "true or false", quick)
    scopes = set(targets) | {t.partition(":")[0] for t in targets}
    tables: dict[str, dict] = {}
    for key in ("options", "grid"):
        table = data.get(key, {})
        if not isinstance(table, dict) or not all(isinstance(v, dict) for v in table.values()):
            raise _type_error(key, "a table of tables keyed by target or family", table)
        for scope, entries in table.items():
            if scope not in scopes:
                raise ConfigError(
                    f"spec.{key}.{scope} names no target of this spec; valid: {', '.join(sorted(scopes))}"
                )
            if key == "grid":
                for option, values in entries.items():
                    if not isinstance(values, list) or not values:
                        raise _type_error(f"grid.{scope}.{option}", "a non-empty list", values)
                    _no_repeats(f"grid.{scope}.{option}", values)
        tables[key] = table
    spec = ExperimentSpec(
        name, description, workloads, targets, seeds, quick, tables["options"], tables["grid"]
    )
    n = spec.count()
    if n > limit:
        raise ConfigError(
            f"spec {name!r} expands to {n:,} runs, more than the limit of {limit:,}; "
            "split it (or raise the limit with --max-runs)"
        )
    spec.runs()  # builds every target configuration once: bad options fail here
    return spec


def load_spec(path: str | Path, *, max_runs: int | None = None) -> ExperimentSpec:
    """Read and validate a TOML spec file (``max_runs``: see :func:`parse_spec`).

    A workload given as ``path/to/file.py:function`` with a relative path is found
    relative to the spec file's folder, not the current one (and named by its absolute
    path in the runs).
    """
    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"spec file {str(path)!r} is a folder, not a TOML file")
    if not path.is_file():
        raise ConfigError(f"spec file {str(path)!r} does not exist")
    try:
        if path.stat().st_size > MAX_SPEC_BYTES:
            raise ConfigError(
                f"spec file {path.name} is {path.stat().st_size:,} bytes; a spec is at most "
                f"{MAX_SPEC_BYTES:,}"
            )
        data = tomllib.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"spec file {path.name}: not UTF-8 text (byte {exc.start}: {exc.reason})"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"spec file {path.name}: invalid TOML ({exc})") from None
    except OSError as exc:
        raise ConfigError(f"spec file {str(path)!r}: cannot read ({exc.strerror})") from None
    if isinstance(data.get("workloads"), list):  # file.py:function relative to the spec's folder
        from neuro.workloads.user import absolute_reference

        data["workloads"] = [
            absolute_reference(w, path.resolve().parent) if isinstance(w, str) else w
            for w in data["workloads"]
        ]
    return parse_spec(data, max_runs=max_runs)
