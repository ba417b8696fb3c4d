"""Calibration kept apart from validation: fitted constants and held-out checks.

Two registries:

* :data:`FITTED` — every constant of the models that was **fitted** to a published figure,
  with that figure (``figure_id``) and where the constant lives. These are calibrations,
  not evidence.
* :data:`CHECKS` — every comparison of a model's prediction with a published measurement.
  A check of kind ``"held-out"`` compares with a measurement of a real chip that no
  constant was fitted to; :func:`register_check` refuses one whose ``figure_id`` is the
  figure of a fitted constant ("never validate a fitted constant against the figure it was
  fitted to"). Kind ``"regression"`` re-derives a fitted figure (it only guards the
  calibration against accidental change); ``"exact"`` compares with a reference tool that
  should agree exactly (cycles with SCALE-Sim); ``"statistics"`` compares a device model's
  statistics with its source's.

The checks of each paradigm live in ``neuro/validate/<paradigm>.py`` and register on
import; :func:`run` imports them all. ``neuro validate`` prints the table
model | measured | ratio | band | source and exits 1 when a check falls outside its band.
"""

from __future__ import annotations

import dataclasses
import importlib
import math
from collections.abc import Callable, Sequence

from devices.registry import Registry
from devices.validation import ConfigError

__all__ = [
    "Fitted",
    "Check",
    "Outcome",
    "FITTED",
    "CHECKS",
    "KINDS",
    "register_fitted",
    "register_check",
    "load_all",
    "run",
    "MODULES",
    "Skip",
    "format_outcomes",
    "format_fitted",
]

#: Kinds of check (see the module docstring).
KINDS = ("held-out", "regression", "exact", "statistics")
#: The modules that register checks, imported by :func:`load_all`.
MODULES = ("tools", "digital", "analog", "spiking", "brainscales2")


@dataclasses.dataclass(frozen=True)
class Fitted:
    """A constant fitted to a published figure.

    Attributes
    ----------
    name : str
        Registry name, ``"<package>.<what>"`` (e.g. ``"npu.ab9.static_W"``).
    value : float
        The fitted value, SI units.
    unit : str
        Its unit.
    figure_id : str
        The published figure it was fitted to (a short stable id, e.g.
        ``"han2020-ab9-1.3TOPS/W"``); no held-out check may use it.
    figure : str
        The figure in words, with its source.
    where : str
        Where the constant lives (module and attribute).
    """

    name: str
    value: float
    unit: str
    figure_id: str
    figure: str
    where: str


@dataclasses.dataclass(frozen=True)
class Check:
    """A model prediction against a published measurement.

    Attributes
    ----------
    name : str
        Registry name, ``"<paradigm>.<chip>.<quantity>"``.
    paradigm : str
        ``"digital"``, ``"analog"``, ``"spiking"`` or ``"devices"``.
    quantity : str
        What is compared, in words with the operating point (``"TOPS/W, 8-bit MVM,
        four-phase read"``).
    unit : str
        Unit of ``measured`` and of the model's value (SI or a named unit such as TOPS/W).
    measured : float or callable
        The published figure; for an ``"exact"`` check against a reference tool, a
        callable that runs the tool (it raises :class:`Skip` when the tool is missing).
    model : callable
        ``model() -> float``: the model's prediction, computed when the check runs. It
        raises :class:`Skip` when an optional tool is missing.
    source : str
        Citation of the measurement.
    figure_id : str
        Short stable id of the measured figure.
    kind : str
        One of :data:`KINDS`.
    band : (float, float)
        Allowed range of model / measured (held-out default: 0.5–1.5, i.e. ±50 %).
    note : str
        What the model includes or misses (named mechanisms).
    """

    name: str
    paradigm: str
    quantity: str
    unit: str
    measured: float | Callable[[], float]
    model: Callable[[], float]
    source: str
    figure_id: str
    kind: str = "held-out"
    band: tuple[float, float] = (0.5, 1.5)
    note: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ConfigError(f"Check.kind must be one of {', '.join(KINDS)}; got {self.kind!r}")
        lo, hi = self.band
        if not (0 < lo <= 1 <= hi):
            raise ConfigError(f"Check.band must satisfy 0 < low <= 1 <= high; got {self.band!r}")
        if not callable(self.measured) and not (
            isinstance(self.measured, (int, float))
            and math.isfinite(self.measured)
            and self.measured > 0
        ):
            raise ConfigError(f"Check.measured must be a finite number > 0; got {self.measured!r}")


class Skip(Exception):
    """Raised by a check's model when an optional tool or data set is missing."""


@dataclasses.dataclass(frozen=True)
class Outcome:
    """One check, run."""

    check: Check
    model: float | None
    measured: float | None
    skipped: str = ""

    @property
    def ratio(self) -> float | None:
        """model / measured."""
        if self.model is None or not self.measured:
            return None
        return self.model / self.measured

    @property
    def passed(self) -> bool | None:
        """Inside the band (None when skipped)."""
        r = self.ratio
        if r is None:
            return None
        lo, hi = self.check.band
        return lo <= r <= hi


FITTED: Registry[Fitted] = Registry("fitted constant")
CHECKS: Registry[Check] = Registry("validation check")


def register_fitted(fitted: Fitted) -> Fitted:
    """Record a fitted constant; a name used twice raises."""
    for _, c in CHECKS.items():
        if c.kind == "held-out" and c.figure_id == fitted.figure_id:
            raise ConfigError(
                f"fitted constant {fitted.name!r} is fitted to {fitted.figure_id!r}, which "
                f"the held-out check {c.name!r} uses as its measurement"
            )
    return FITTED.register(fitted.name, fitted)


def register_check(check: Check) -> Check:
    """Record a check; a held-out check against a figure a constant was fitted to raises."""
    if check.kind == "held-out":
        for _, f in FITTED.items():
            if f.figure_id == check.figure_id:
                raise ConfigError(
                    f"held-out check {check.name!r} uses {check.figure_id!r}, the figure that "
                    f"{f.name!r} was fitted to; make it a 'regression' check or use another chip"
                )
    return CHECKS.register(check.name, check)


def load_all() -> None:
    """Import every module of :data:`MODULES` (each registers its checks once)."""
    for name in MODULES:
        try:
            importlib.import_module(f"neuro.validate.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"neuro.validate.{name}":
                raise


def run(paradigms: Sequence[str] | None = None) -> list[Outcome]:
    """Run every registered check (of ``paradigms``, if given), in registry order."""
    load_all()
    out = []
    for _, check in CHECKS.items():
        if paradigms and check.paradigm not in paradigms:
            continue
        try:
            measured = float(check.measured() if callable(check.measured) else check.measured)
            out.append(Outcome(check, float(check.model()), measured))
        except Skip as exc:
            out.append(Outcome(check, None, None, str(exc)))
    return out


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.4g}"


def format_outcomes(outcomes: Sequence[Outcome]) -> str:
    """The table model | measured | ratio | band | kind | verdict | source, then notes."""
    from neuro.report import format_table

    rows = []
    for o in outcomes:
        c = o.check
        verdict = "skipped" if o.passed is None else ("ok" if o.passed else "OUTSIDE")
        rows.append(
            [c.name, c.quantity, f"{_num(o.model)} {c.unit}", f"{_num(o.measured)} {c.unit}",
             _num(o.ratio), f"{c.band[0]:g}–{c.band[1]:g}", c.kind, verdict, c.source]
        )  # fmt: skip
    header = ["check", "quantity", "model", "measured", "ratio", "band", "kind", "verdict",
              "source"]  # fmt: skip
    lines = [format_table(header, rows, left=(0, 1, 6, 7, 8))]
    for o in outcomes:
        if o.skipped:
            lines.append(f"skipped {o.check.name}: {o.skipped}")
    return "\n".join(lines)


def format_fitted() -> str:
    """The table of fitted constants: name | value | fitted to | where."""
    from neuro.report import format_table

    load_all()
    rows = [[f.name, f"{f.value:.4g} {f.unit}", f.figure, f.where] for _, f in FITTED.items()]
    return format_table(["fitted constant", "value", "fitted to", "where"], rows, left=(0, 2, 3))
