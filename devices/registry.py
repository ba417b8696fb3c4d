"""A name → object registry that refuses duplicates and lists valid names on a miss.

Used by every registry of the project (devices, presets, workloads, targets, roadmap), so
that they all behave the same. Like :mod:`devices.validation`, this module is a leaf that
every package may import.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Generic, TypeVar

from devices.validation import ConfigError

__all__ = ["Registry", "DuplicateNameError", "UnknownNameError", "build", "option_names"]

T = TypeVar("T")


class DuplicateNameError(ValueError):
    """A name was registered twice."""


class UnknownNameError(ConfigError):
    """A name is not in the registry; the message lists the valid names."""


class Registry(Generic[T]):
    """Names mapped to objects of one kind.

    Parameters
    ----------
    kind : str
        What is registered, for messages (``"device"``, ``"workload"``).
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str, obj: T, *, replace: bool = False) -> T:
        """Add ``obj`` under ``name``; a name used twice raises unless ``replace``."""
        if not isinstance(name, str) or not name or name != name.strip():
            raise ConfigError(f"{self.kind} name must be a non-empty string; got {name!r}")
        if name in self._items and not replace:
            raise DuplicateNameError(
                f"{self.kind} {name!r} is already registered; pass replace=True to replace it"
            )
        self._items[name] = obj
        return obj

    def unregister(self, name: str) -> None:
        """Remove ``name`` (for user plug-ins and tests)."""
        self.get(name)
        del self._items[name]

    def get(self, name: str) -> T:
        """The object under ``name``; an unknown name lists the valid ones."""
        try:
            return self._items[name]
        except (KeyError, TypeError):
            valid = ", ".join(sorted(self._items)) or "(none registered)"
            raise UnknownNameError(f"unknown {self.kind} {name!r}; valid: {valid}") from None

    def build(self, name: str, /, **options: Any) -> Any:
        """Call the factory under ``name`` with ``options`` (:func:`build`): an unknown
        name or option is one :class:`ConfigError` line listing the valid ones."""
        return build(self.get(name), options, owner=f"{self.kind} {name!r}")

    def names(self) -> list[str]:
        """Registered names, sorted."""
        return sorted(self._items)

    def items(self) -> list[tuple[str, T]]:
        """``(name, object)`` pairs, sorted by name."""
        return sorted(self._items.items())

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._items)


_UNEXPECTED = re.compile(r"unexpected keyword argument '([^']+)'")


def option_names(factory: Callable[..., Any]) -> list[str] | None:
    """The keyword options ``factory`` accepts, sorted; ``None`` when they cannot be known.

    A factory may say so itself with an ``option_names`` attribute (a list, or a callable
    returning one); a dataclass accepts its fields; any other callable the keyword
    parameters of its signature, unless it takes ``**kwargs``.
    """
    declared = getattr(factory, "option_names", None)
    if declared is not None:
        return sorted(declared() if callable(declared) else declared)
    if dataclasses.is_dataclass(factory) and isinstance(factory, type):
        return sorted(f.name for f in dataclasses.fields(factory) if f.init)
    import inspect  # (here: 20 ms that ``import devices`` need not pay)

    try:
        params = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return None
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return sorted(p.name for p in params if p.kind in kinds)


def unknown_option(owner: str, key: str, valid: Iterable[str] | None) -> ConfigError:
    """``<owner> has no option '<key>'; valid: ...``: the one line for an unknown option."""
    names = sorted(valid) if valid is not None else None
    tail = f"; valid: {', '.join(names) or '(none)'}" if names is not None else ""
    return ConfigError(f"{owner} has no option {key!r}{tail}")


def build(factory: Callable[..., Any], options: dict[str, Any], *, owner: str) -> Any:
    """``factory(**options)``, with an option it does not take refused as one line.

    Parameters
    ----------
    factory : callable
        A device factory, a target family's factory (bound to its variant), a config class.
    options : dict
        Keyword options. A dotted key (``"crossbar.adc.bits"``) is checked by its head.
    owner : str
        Names the thing built in the message (``"device 'pcm'"``, ``"target 'npu:ab9'"``).

    Raises
    ------
    ConfigError
        ``"<owner> has no option '<key>'; valid: a, b"`` (the valid names when
        :func:`option_names` knows them) for a keyword the factory does not take, instead
        of Python's ``TypeError``; and whatever the factory raises for a bad value.
    """
    valid = option_names(factory)
    if valid is not None:
        for key in options:
            if key.partition(".")[0] not in valid:
                raise unknown_option(owner, key, valid)
    try:
        return factory(**options)
    except TypeError as exc:
        # The factory passed an option on to a callable that does not take it. Only a
        # keyword the caller gave is translated: any other TypeError is a bug, raised as is.
        match = _UNEXPECTED.search(str(exc))
        if match is None or match.group(1) not in options:
            raise
        raise unknown_option(owner, match.group(1), valid) from None
