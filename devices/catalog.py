"""The registry of device models: the built-in presets, user-registered devices, lookups.

Imported by :mod:`devices` when one of its registry names (:func:`get`, :func:`names`,
:data:`REGISTRY`, ...) is first used, so that ``import devices`` (and every
``from devices.validation import ...``) stays free of torch. Building a preset's device
once to check it needs the model classes, hence torch.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from devices.base import DeviceModel
from devices.cell import CellConfig, CellModel
from devices.fefet import FeFET, FeFETConfig
from devices.ideal import Ideal, IdealConfig
from devices.memcap import Memcap, MemcapConfig
from devices.pcm import PCM, PCMConfig
from devices.presets import PRESET_DIR, load_preset, preset_files
from devices.registry import Registry
from devices.reram import ReRAM, ReRAMConfig
from devices.tabulated import Tabulated, TabulatedConfig
from devices.validation import ConfigError

__all__ = [
    "REGISTRY",
    "MODELS",
    "get",
    "names",
    "register",
    "register_preset",
    "describe_all",
    "sources",
]

#: Device factories by name: ``factory(**overrides) -> DeviceModel``.
REGISTRY: Registry = Registry("device")

#: Model kinds a preset file may name, with their config classes.
MODELS: dict[str, tuple[type[CellModel], type[CellConfig]]] = {
    "pcm": (PCM, PCMConfig),
    "reram": (ReRAM, ReRAMConfig),
    "fefet": (FeFET, FeFETConfig),
    "memcap": (Memcap, MemcapConfig),
}

_SOURCES: dict[str, dict[str, str]] = {}


def register(name: str, factory: Callable[..., DeviceModel], *, replace: bool = False):
    """Register a device factory (a class or a callable returning a :class:`DeviceModel`)."""
    return REGISTRY.register(name, factory, replace=replace)


def get(name: str, **overrides: Any) -> DeviceModel:
    """A new device model by name, with optional config overrides.

    Raises
    ------
    ConfigError
        An unknown name, or an override that is no field of the device's config
        (``device 'pcm' has no option 'bogus'; valid: ...``), or a value out of range.
    """
    return REGISTRY.build(name, **overrides)


def names() -> list[str]:
    """Names of the registered devices."""
    return REGISTRY.names()


def sources(name: str) -> dict[str, str]:
    """The sources of a preset's figures (field -> citation); empty for code-registered ones."""
    REGISTRY.get(name)
    return dict(_SOURCES.get(name, {}))


def _build_cell(name: str, kind: str, base: dict[str, Any], **overrides: Any) -> DeviceModel:
    model_cls, config_cls = MODELS[kind]
    return model_cls(config_cls(**{**base, **overrides}), name=name)


def _build_tabulated(name: str, folder: Path, base: dict[str, Any], **overrides: Any):
    cfg = {**base, **overrides}
    csv = cfg.pop("csv", None)
    prog = cfg.pop("programming_csv", None)
    return Tabulated.from_csv(
        folder / csv if csv else None, folder / prog if prog else None, name=name, **cfg
    )


def _with_options(factory: functools.partial, config_cls: type, *extra: str) -> functools.partial:
    """``factory`` saying which overrides it takes (the config's fields and ``extra``), so
    that :meth:`Registry.build` refuses another one by name before building anything."""
    fields = [f.name for f in dataclasses.fields(config_cls) if f.init]
    factory.option_names = sorted([*fields, *extra])  # type: ignore[attr-defined]
    return factory


def register_preset(path: str | Path, *, replace: bool = False) -> str:
    """Register the device described by a preset TOML file; returns its name.

    The preset's config is checked by building the device once, so a bad file fails here.
    """
    p = load_preset(Path(path))
    name, kind = p["name"], p["model"]
    if kind == "tabulated":
        factory = _with_options(
            functools.partial(_build_tabulated, name, Path(path).parent, p["config"]),
            TabulatedConfig, "csv", "programming_csv",
        )  # fmt: skip
    elif kind in MODELS:
        factory = _with_options(
            functools.partial(_build_cell, name, kind, p["config"]), MODELS[kind][1]
        )
    else:
        valid = ", ".join(sorted([*MODELS, "tabulated"]))
        raise ConfigError(
            f"preset {Path(path).name}: [device].model {kind!r} unknown; valid: {valid}"
        )
    factory()
    register(name, factory, replace=replace)
    _SOURCES[name] = {str(k): str(v) for k, v in p["sources"].items()}
    return name


def describe_all() -> list[dict[str, Any]]:
    """Key figures of every registered device (for ``neuro devices``), sorted by name.

    Each dict has the fields of :meth:`DeviceModel.describe` (range ``g_min``/``g_max`` in
    ``unit``, ``n_levels``, ``write_energy_J``, ``t_write_s``, ``endurance_cycles``,
    ``retention_s``, ...) plus ``name`` (the registry name) and ``on_off`` (g_max/g_min).
    """
    rows = []
    for n in names():
        d = get(n).describe()
        d["name"] = n
        d["on_off"] = d["g_max"] / d["g_min"] if d["g_min"] > 0 else math.inf
        rows.append(d)
    return rows


def _ideal(**overrides: Any) -> Ideal:
    return Ideal(IdealConfig(**overrides))


_ideal.option_names = sorted(f.name for f in dataclasses.fields(IdealConfig))  # type: ignore[attr-defined]


register("ideal", _ideal)
for _path in preset_files(PRESET_DIR):
    register_preset(_path)
