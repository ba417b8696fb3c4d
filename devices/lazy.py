"""Names of a package imported when first used (PEP 562), shared by every package here.

``__getattr__, __dir__ = lazy_names(__name__, {"Crossbar": "crossbar.core", ...})`` in a
package's ``__init__`` keeps ``import <package>`` cheap (no torch, h5py or brian2) for a
program that needs only a part of it: each name's module is imported on first access and
the value is then stored in the package, so the next access costs nothing.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_names"]


def lazy_names(
    package: str, names: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``package`` for its lazy ``names``.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    names : mapping of str to str
        Public name -> the module that defines it. A name that is that module itself (a
        submodule, ``"workloads": "neuro.workloads"``) stands for the module; any other for
        the module's attribute of that name.
    """

    def __getattr__(name: str) -> Any:
        if name not in names:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module = importlib.import_module(names[name])
        value = module if module.__name__ == f"{package}.{name}" else getattr(module, name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[package]), *names})

    return __getattr__, __dir__
