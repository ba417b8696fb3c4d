"""Declarative validation of frozen dataclass configs: one error format for the project.

A config field declares its unit and bounds once, in its metadata, with :func:`param`;
``validate(self)`` in ``__post_init__`` checks every declared field and raises
:class:`ConfigError` reading like::

    PCM.g_max_S must be in (0, 0.001] S; got -2e-05

This module is the leaf of the import graph: every package of the project may import it
(``npu`` included, see ``tests/test_architecture.py``), so that there is exactly one
``ConfigError`` and one message format.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable
from typing import Any

__all__ = ["ConfigError", "param", "validate", "require", "check_choice"]


class ConfigError(ValueError):
    """A configuration value is outside what is allowed.

    The message names the field, the value and what is allowed, on one line.
    """


def param(
    default: Any = dataclasses.MISSING,
    *,
    unit: str = "",
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    lt: float | None = None,
    choices: Iterable[Any] | None = None,
    integer: bool = False,
    optional: bool = False,
    doc: str = "",
    default_factory: Any = dataclasses.MISSING,
) -> Any:
    """A dataclass field with its unit and bounds in the metadata.

    Parameters
    ----------
    default : Any
        Default value.
    unit : str
        SI unit of the field, used in error messages (``"S"``, ``"s"``, ``"J"``).
    ge, gt, le, lt : float, optional
        Inclusive (``ge``/``le``) or exclusive (``gt``/``lt``) bounds.
    choices : iterable, optional
        The allowed values.
    integer : bool
        The value must be an integer (bools are refused).
    optional : bool
        ``None`` is allowed.
    doc : str
        One line describing the field.
    """
    meta = {
        "unit": unit,
        "ge": ge,
        "gt": gt,
        "le": le,
        "lt": lt,
        "choices": tuple(choices) if choices is not None else None,
        "integer": integer,
        "optional": optional,
        "doc": doc,
        "validated": True,
    }
    if default_factory is not dataclasses.MISSING:
        return dataclasses.field(default_factory=default_factory, metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def _fmt(x: float) -> str:
    return f"{x:g}"


def _describe_bounds(meta: dict[str, Any]) -> str:
    lo, lo_incl = (meta["ge"], True) if meta["ge"] is not None else (meta["gt"], False)
    hi, hi_incl = (meta["le"], True) if meta["le"] is not None else (meta["lt"], False)
    unit = f" {meta['unit']}" if meta["unit"] else ""
    kind = "an integer" if meta["integer"] else "a number"
    if lo is None and hi is None:
        return f"{kind}{unit}"
    if hi is None:
        return f"{kind} {'>=' if lo_incl else '>'} {_fmt(lo)}{unit}"
    if lo is None:
        return f"{kind} {'<=' if hi_incl else '<'} {_fmt(hi)}{unit}"
    left = "[" if lo_incl else "("
    right = "]" if hi_incl else ")"
    what = "an integer in" if meta["integer"] else "in"
    return f"{what} {left}{_fmt(lo)}, {_fmt(hi)}{right}{unit}"


def _owner(obj: Any) -> str:
    return type(obj).__name__


def check_choice(owner: str, name: str, value: Any, choices: Iterable[Any]) -> None:
    """Raise :class:`ConfigError` unless ``value`` is one of ``choices``."""
    allowed = tuple(choices)
    if value not in allowed:
        listed = ", ".join(repr(c) for c in allowed)
        raise ConfigError(f"{owner}.{name} must be one of {listed}; got {value!r}")


def require(condition: bool, owner: Any, name: str, value: Any, allowed: str) -> None:
    """Raise :class:`ConfigError` unless ``condition`` holds (for cross-field rules).

    Parameters
    ----------
    condition : bool
        The rule.
    owner : object or str
        The config (its class name is used) or a name.
    name, value : str, Any
        The field and its value, for the message.
    allowed : str
        What is allowed, in words (``"greater than g_min_S (1e-06 S)"``).
    """
    if not condition:
        who = owner if isinstance(owner, str) else _owner(owner)
        raise ConfigError(f"{who}.{name} must be {allowed}; got {value!r}")


def check_value(owner: str, name: str, value: Any, meta: dict[str, Any]) -> None:
    """Check one value against the bounds in ``meta`` (as made by :func:`param`)."""
    if value is None:
        if meta["optional"]:
            return
        raise ConfigError(f"{owner}.{name} must be set; got None")
    if meta["choices"] is not None:
        check_choice(owner, name, value, meta["choices"])
        return
    bounded = any(meta[k] is not None for k in ("ge", "gt", "le", "lt"))
    if not (bounded or meta["integer"]):
        return
    allowed = _describe_bounds(meta)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{owner}.{name} must be {allowed}; got {value!r}")
    if meta["integer"] and not float(value).is_integer():
        raise ConfigError(f"{owner}.{name} must be {allowed}; got {value!r}")
    if math.isnan(value):
        raise ConfigError(f"{owner}.{name} must be {allowed}; got nan")
    ok = (
        (meta["ge"] is None or value >= meta["ge"])
        and (meta["gt"] is None or value > meta["gt"])
        and (meta["le"] is None or value <= meta["le"])
        and (meta["lt"] is None or value < meta["lt"])
    )
    if not ok:
        raise ConfigError(f"{owner}.{name} must be {allowed}; got {value!r}")


def validate(obj: Any) -> None:
    """Check every field of dataclass ``obj`` declared with :func:`param`.

    Raises
    ------
    ConfigError
        On the first field outside its bounds, naming ``Class.field``, the value and
        what is allowed.
    """
    owner = _owner(obj)
    for f in dataclasses.fields(obj):
        if f.metadata.get("validated"):
            check_value(owner, f.name, getattr(obj, f.name), dict(f.metadata))


def describe_fields(cls: type) -> list[dict[str, Any]]:
    """The declared fields of a config class: name, default, unit, bounds and doc."""
    rows = []
    for f in dataclasses.fields(cls):
        meta = dict(f.metadata)
        if not meta.get("validated"):
            continue
        default = None if f.default is dataclasses.MISSING else f.default
        rows.append(
            {
                "name": f.name,
                "default": default,
                "unit": meta["unit"],
                "allowed": _describe_bounds(meta)
                if meta["choices"] is None
                else ", ".join(map(repr, meta["choices"])),
                "doc": meta["doc"],
            }
        )
    return rows
