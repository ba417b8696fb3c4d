"""Validation of Brian2-quantity configs with the project's one error format.

``devices.validation.param`` bounds plain SI floats; the configs of ``snn`` hold Brian2
quantities (units are checked by Brian2 itself), so they are validated here with the same
:class:`devices.validation.ConfigError` message: ``Class.field must be ...; got ...``.
"""

from __future__ import annotations

from typing import Any

import brian2 as b2
from brian2.units.fundamentalunits import Quantity, have_same_dimensions

from devices.validation import ConfigError

__all__ = ["check_quantity", "check_number"]


def check_quantity(
    owner: Any,
    name: str,
    value: Any,
    unit: Quantity,
    *,
    gt: float | None = None,
    ge: float | None = None,
    le: float | None = None,
) -> None:
    """Raise ConfigError unless ``value`` has the dimensions of ``unit`` and is in bounds.

    Bounds are given in multiples of ``unit`` (``check_quantity(c, "dt", c.dt, ms, gt=0)``).
    """
    who = owner if isinstance(owner, str) else type(owner).__name__
    uname = str(unit).split(" ")[-1] if isinstance(unit, Quantity) else "1"
    if not have_same_dimensions(value, unit):
        raise ConfigError(f"{who}.{name} must be a quantity in {uname}; got {value!r}")
    x = float(value / unit)
    if (
        (gt is not None and not x > gt)
        or (ge is not None and not x >= ge)
        or (le is not None and not x <= le)
    ):
        lo = f"> {gt:g}" if gt is not None else (f">= {ge:g}" if ge is not None else "")
        hi = f"<= {le:g}" if le is not None else ""
        rule = " and ".join(s for s in (lo, hi) if s)
        raise ConfigError(f"{who}.{name} must be {rule} {uname}; got {value!r}")


def check_number(
    owner: Any,
    name: str,
    value: Any,
    *,
    gt: float | None = None,
    ge: float | None = None,
    le: float | None = None,
    integer: bool = False,
) -> None:
    """Raise ConfigError unless ``value`` is a plain (dimensionless) number in bounds."""
    who = owner if isinstance(owner, str) else type(owner).__name__
    kind = "an integer" if integer else "a number"
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if ok and integer:
        ok = float(value).is_integer()
    if ok:
        x = float(value)
        ok = (
            x == x
            and (gt is None or x > gt)
            and (ge is None or x >= ge)
            and (le is None or x <= le)
        )
    if not ok:
        parts = [f"> {gt:g}" if gt is not None else "", f">= {ge:g}" if ge is not None else ""]
        parts.append(f"<= {le:g}" if le is not None else "")
        rule = " and ".join(p for p in parts if p)
        raise ConfigError(f"{who}.{name} must be {kind} {rule}; got {value!r}".replace("  ", " "))


_ = b2  # brian2 is imported so that unit strings render consistently
