"""Run one workload on several targets, archive each result as it completes, and table them."""

from __future__ import annotations

import hashlib
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from devices.validation import ConfigError
from neuro.archive import Archive, check_writable, dumps
from neuro.neurobench import add_to_result as add_neurobench
from neuro.report import quiet_bars
from neuro.result import Result
from neuro.targets import FAMILIES, Target, make_target, target_names
from neuro.workloads import Workload
from neuro.workloads import get as get_workload

__all__ = [
    "DEFAULT_WORKLOAD",
    "DEFAULT_TARGETS",
    "default_targets",
    "run_key",
    "compare",
    "check_out_path",
    "record_data",
]

DEFAULT_WORKLOAD = "mlp-fmnist"
#: What ``neuro compare`` runs when no targets are given (those that are registered).
DEFAULT_TARGETS = (
    "reference",
    "npu:ab9",
    "aimc:reram",
    "aimc:pcm",
    "aimc:fefet",
    "aimc:memcap",
    "snn:loihi",
    "snn:truenorth",
    "snn:seneca",
)


def default_targets() -> list[str]:
    """:data:`DEFAULT_TARGETS` that are registered in this installation."""
    available = set(target_names())
    return [t for t in DEFAULT_TARGETS if t in available]


def run_key(workload: str, target: str, config: dict, seed: int) -> str:
    """A hash of what defines a run: the same key means the same run (used to resume)."""
    spec = dumps({"workload": workload, "target": target, "config": config, "seed": int(seed)})
    return hashlib.sha256(spec.encode()).hexdigest()[:24]


def check_out_path(out: str | Path) -> Path:
    """Validate an archive path before anything is written."""
    path = Path(out)
    if path.suffix not in (".h5", ".hdf5"):
        raise ConfigError(f"--out must be an HDF5 file ending in .h5 or .hdf5; got {str(out)!r}")
    check_writable(path)  # a folder, read-only or unreachable: refused before any work
    if path.exists():
        Archive(path)  # raises ArchiveError if it is not a readable archive of ours
    return path


def record_data(workload: Workload, result: Result) -> Result:
    """Record beside an accuracy where its test inputs came from and how many there were.

    Sets ``provenance["data_source"]`` (if the target did not), ``["test_inputs"]`` (the
    inputs the accuracy was measured on: :func:`neuro.report.measured_inputs`) and
    ``["test_inputs_total"]`` (the test split's size), so that a subset is marked wherever
    the accuracy is shown. A result without accuracy, or a workload without a dataset, is
    left as it is.
    """
    from neuro.report import measured_inputs
    from neuro.workloads import dataset_for

    if result.accuracy is None or workload.shape_only or workload.dataset is None:
        return result
    try:
        data = dataset_for(workload)
    except (ConfigError, OSError, ValueError):  # the target measured it: nothing to add
        return result
    prov = result.provenance
    prov.setdefault("data_source", data.source)
    prov["test_inputs_total"] = int(len(data.y_test))
    n, _ = measured_inputs(result)
    prov["test_inputs"] = int(n if n is not None else len(data.y_test))
    return result


def build_targets(
    names: Sequence[str], *, quick: bool = False, options: dict[str, Any] | None = None
) -> list[Target]:
    """Targets by name; with ``quick`` each family's fast options are applied, then
    ``options`` (``neuro compare --set``) to every target: one a target does not take is
    a :class:`ConfigError` naming it."""
    out = []
    for name in names:
        family = name.partition(":")[0]
        opts = dict(FAMILIES.get(family).quick_options) if quick and family in FAMILIES else {}
        opts.update(options or {})
        out.append(make_target(name, **opts))
    return out


def compare(
    workload: str | Workload = DEFAULT_WORKLOAD,
    targets: Sequence[str] | None = None,
    *,
    seed: int = 0,
    out: str | Path | None = None,
    quick: bool = False,
    on_result: Callable[[Result], None] | None = None,
    options: dict[str, Any] | None = None,
) -> tuple[list[Result], list[tuple[str, str]]]:
    """Evaluate ``workload`` on each target; archive every result as soon as it exists.

    Parameters
    ----------
    workload : str or Workload
        Defaults to :data:`DEFAULT_WORKLOAD`.
    targets : sequence of str, optional
        Target names (``"aimc:pcm"``); default :func:`default_targets`.
    seed : int
        The runs' seed.
    out : path, optional
        HDF5 archive to append to (created if missing).
    quick : bool
        Use each target family's fast options (smaller test subsets, fewer repeats).
    on_result : callable, optional
        Called with each result as it completes.
    options : dict, optional
        Target options applied to every target (after the quick ones), e.g.
        ``{"crossbar.adc.bits": 6}``; ``neuro compare --set key=value``.

    Returns
    -------
    results : list of Result
        In target order, the successful ones.
    failures : list of (target, error)
        Targets that raised; recorded in the archive with status ``"failed"``.

    Raises
    ------
    ConfigError
        Unknown workload or target, or a bad ``out`` path — before anything is written.
    """
    wl = get_workload(workload) if isinstance(workload, str) else workload
    names = list(targets) if targets else default_targets()
    built = build_targets(names, quick=quick, options=options)
    path = check_out_path(out) if out is not None else None
    archive = Archive(path, mode="a") if path is not None else None
    results: list[Result] = []
    failures: list[tuple[str, str]] = []
    try:
        for name, target in tqdm(
            list(zip(names, built)), desc=f"compare {wl.name}", disable=quiet_bars()
        ):
            key = run_key(wl.name, name, target.config(), seed)
            try:
                result = target.evaluate(wl, seed=seed)
                result.target = name
                add_neurobench(wl, result)
                record_data(wl, result)
                result.check()
            except Exception as exc:  # noqa: BLE001 - one target failing must not lose the others
                message = f"{type(exc).__name__}: {exc}"
                failures.append((name, message))
                if archive is not None:
                    archive.append_failure(
                        workload=wl.name, target=name, seed=seed, config=target.config(),
                        error=message + "\n" + traceback.format_exc(limit=5), run_key=key,
                    )  # fmt: skip
                continue
            result.target = name
            if archive is not None:
                archive.append(result, run_key=key)
            results.append(result)
            if on_result is not None:
                on_result(result)
    finally:
        if archive is not None:
            archive.close()
    return results, failures


def iso_compare(
    workload: str | Workload,
    results: Sequence[Result],
    required: float,
    *,
    seed: int = 0,
    out: str | Path | None = None,
    quick: bool = False,
    options: dict[str, Any] | None = None,
):
    """The cheapest operating point of each target in ``results`` that reaches accuracy
    ``required`` (:func:`neuro.tradeoff.iso_accuracy`); every evaluation it makes is
    archived in ``out`` like a compare run.

    Returns
    -------
    list of neuro.tradeoff.IsoPoint
        One per target with energy and accuracy.
    """
    from neuro.tradeoff import iso_accuracy

    if not 0.0 < required <= 1.0:
        raise ConfigError(f"--iso-accuracy must be a fraction in (0, 1]; got {required!r}")
    wl = get_workload(workload) if isinstance(workload, str) else workload
    path = check_out_path(out) if out is not None else None
    user_options = options

    def evaluate(name: str, options: dict) -> Result:
        family = name.partition(":")[0]
        opts = dict(FAMILIES.get(family).quick_options) if quick else {}
        opts.update(user_options or {})
        opts.update(options)
        target = make_target(name, **opts)
        result = target.evaluate(wl, seed=seed)
        result.target = name
        add_neurobench(wl, result)
        record_data(wl, result)
        result.check()
        if path is not None:
            with Archive(path, mode="a") as archive:
                archive.append(result, run_key=run_key(wl.name, name, target.config(), seed))
        return result

    points = []
    for r in results:
        point = iso_accuracy(r.target, r, required, evaluate)
        if point is not None:
            points.append(point)
    return points
