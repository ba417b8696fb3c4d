"""A module imported when first used: ``pd = lazy_module("pandas")``.

For a heavy library that a module needs in some functions only, so that importing the
module (and starting ``neuro``) does not pay for it. The library is imported by the first
attribute access (``pd.DataFrame``) and the proxy then forwards to it.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

__all__ = ["lazy_module"]


class _LazyModule:
    """A stand-in for module ``name`` that imports it on first attribute access."""

    __slots__ = ("_name", "_module")

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attr: str) -> Any:
        module = self._module
        if module is None:
            module = self._module = importlib.import_module(self._name)
        return getattr(module, attr)

    def __repr__(self) -> str:
        state = "imported" if self._module is not None else "not imported yet"
        return f"<lazy module {self._name!r} ({state})>"


def lazy_module(name: str) -> Any:
    """A proxy of module ``name`` that imports it when an attribute is first read."""
    return _LazyModule(name)
