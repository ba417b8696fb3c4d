"""The target protocol and the registry of target families.

A target is named as on the command line: ``reference``, ``npu:ab9``, ``aimc:pcm``,
``snn:loihi``. The part before the colon is the *family* (one adapter per paradigm), the
part after it the *variant* (a preset or device). Each family registers a factory
``factory(variant, **options) -> Target`` and the list of its variants.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from devices.registry import Registry, build
from devices.validation import ConfigError
from neuro.result import Result
from neuro.workloads.base import Workload

__all__ = [
    "Target",
    "Family",
    "FAMILIES",
    "register_family",
    "make_target",
    "target_names",
    "with_options",
]


@runtime_checkable
class Target(Protocol):
    """Anything that evaluates a workload into a :class:`~neuro.result.Result`."""

    name: str

    def evaluate(self, workload: Workload, *, seed: int) -> Result:
        """Run ``workload`` with all randomness seeded from ``seed``."""
        ...

    def config(self) -> dict:
        """The configuration that decides the results (JSON-serialisable)."""
        ...


@dataclasses.dataclass(frozen=True)
class Family:
    """One paradigm's adapter: how to build its targets and which variants it offers.

    Attributes
    ----------
    name : str
        ``"reference"``, ``"npu"``, ``"aimc"``, ``"snn"``.
    factory : callable
        ``factory(variant, **options) -> Target``; ``variant`` is None for a family
        without variants.
    variants : callable
        Returns the valid variant names (empty for a family without variants).
    description : str
        One line.
    quick_options : dict
        Options for ``factory`` that make ``evaluate`` fast (a few seconds on
        ``mlp-digits``): used by the conformance suite and ``neuro compare --quick``.
    """

    name: str
    factory: Callable[..., Target]
    variants: Callable[[], list[str]]
    description: str = ""
    quick_options: dict = dataclasses.field(default_factory=dict)


FAMILIES: Registry[Family] = Registry("target family")


def register_family(family: Family, *, replace: bool = False) -> Family:
    """Register a paradigm adapter; a family name used twice raises."""
    return FAMILIES.register(family.name, family, replace=replace)


def target_names() -> list[str]:
    """Every target name that :func:`make_target` accepts."""
    out = []
    for name, family in FAMILIES.items():
        variants = family.variants()
        out += [f"{name}:{v}" for v in variants] if variants else [name]
    return out


def make_target(name: str, **options) -> Target:
    """Build the target called ``name`` (``"aimc:pcm"``) with ``options``.

    Raises
    ------
    ConfigError
        An unknown name (listing the valid ones), or an option the target does not take
        (``target 'npu:ab9' has no option 'bogus'``, with the valid names where the family
        knows them), or a bad value.
    """
    family_name, _, variant = name.partition(":")
    if family_name not in FAMILIES:
        raise ConfigError(f"unknown target {name!r}; valid: {', '.join(target_names())}")
    family = FAMILIES.get(family_name)
    variants = family.variants()
    if variants and variant not in variants:
        raise ConfigError(f"unknown target {name!r}; valid: {', '.join(target_names())}")
    if not variants and variant:
        raise ConfigError(f"unknown target {name!r}; valid: {', '.join(target_names())}")
    # An option the family does not take is one ConfigError line, like a device's
    # (devices.registry.build), whatever the key (dotted ones included).
    return build(
        functools.partial(family.factory, variant or None), options, owner=f"target {name!r}"
    )


def with_options(config: Any, options: dict[str, Any], owner: str) -> Any:
    """A copy of the frozen dataclass ``config`` with ``options`` applied.

    Keys may be dotted to reach nested configs (``"crossbar.adc.bits"``); TOML lists become
    tuples where the field holds a tuple. The new config is validated on construction.

    Raises
    ------
    ConfigError
        An option that is no field of the config, naming it and the valid names there.
    """
    nested: dict[str, dict[str, Any]] = {}
    flat: dict[str, Any] = {}
    names = {f.name for f in dataclasses.fields(config)}
    for key, value in options.items():
        head, _, rest = key.partition(".")
        if head not in names:
            valid = ", ".join(sorted(names))
            raise ConfigError(f"target {owner!r} has no option {key!r}; valid: {valid}")
        if rest:
            sub = getattr(config, head)
            if not dataclasses.is_dataclass(sub):
                raise ConfigError(
                    f"target {owner!r} has no option {key!r}: {head!r} is not a group"
                )
            nested.setdefault(head, {})[rest] = value
        else:
            current = getattr(config, head)
            flat[head] = (
                tuple(value) if isinstance(value, list) and isinstance(current, tuple) else value
            )
    for head, sub_options in nested.items():
        flat[head] = with_options(getattr(config, head), sub_options, f"{owner}.{head}")
    return dataclasses.replace(config, **flat) if flat else config
