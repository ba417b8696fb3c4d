"""A name → object registry that refuses duplicates and lists valid names on a miss.

Used by every registry of the project (devices, presets, workloads, targets, roadmap), so
that they all behave the same. Like :mod:`devices.validation`, this module is a leaf that
every package may import.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, TypeVar

from devices.validation import ConfigError

__all__ = ["Registry", "DuplicateNameError", "UnknownNameError"]

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
