"""Device physics: memory cells that store a weight as a conductance or a capacitance.

The models (ReRAM, PCM, FeFET, memcapacitor, devices tabulated from measured data, and the
ideal reference cell) share the contract of :class:`devices.base.DeviceModel`:
``program``, ``read`` at a time after programming, ``pulse`` for learning, and the pulse
response as a standard parametric update model. ``devices`` imports nothing else of this
project: crossbars (``crossbar``) and spiking synapses (``snn``) are built on it.

Presets are data (``devices/presets/*.toml``) loaded into :data:`REGISTRY` (in
:mod:`devices.catalog`) when a registry name is first used. The model classes and the
registry are imported on first use too (PEP 562), so ``import devices`` and the leaf modules
``devices.validation`` and ``devices.registry`` do not import torch.

>>> import devices, torch
>>> pcm = devices.get("pcm")
>>> state = pcm.program(torch.full((4,), 10e-6), torch.Generator().manual_seed(0))
>>> tuple(state.value.shape)
(4,)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from devices.lazy import lazy_names
from devices.registry import DuplicateNameError, Registry, UnknownNameError
from devices.validation import ConfigError

if TYPE_CHECKING:  # pragma: no cover
    from devices.base import DeviceModel, DeviceState, PulseUpdateModel
    from devices.catalog import (
        MODELS,
        REGISTRY,
        describe_all,
        get,
        names,
        register,
        register_preset,
        sources,
    )
    from devices.cell import CellConfig, CellModel
    from devices.fefet import FeFET, FeFETConfig
    from devices.ideal import Ideal, IdealConfig
    from devices.memcap import Memcap, MemcapConfig
    from devices.pcm import PCM, PCMConfig
    from devices.reram import ReRAM, ReRAMConfig
    from devices.tabulated import Tabulated, TabulatedConfig

__all__ = [
    "ConfigError",
    "DeviceModel",
    "DeviceState",
    "PulseUpdateModel",
    "CellConfig",
    "CellModel",
    "Ideal",
    "IdealConfig",
    "PCM",
    "PCMConfig",
    "ReRAM",
    "ReRAMConfig",
    "FeFET",
    "FeFETConfig",
    "Memcap",
    "MemcapConfig",
    "Tabulated",
    "TabulatedConfig",
    "Registry",
    "DuplicateNameError",
    "UnknownNameError",
    "REGISTRY",
    "MODELS",
    "get",
    "names",
    "register",
    "register_preset",
    "describe_all",
    "sources",
]

# Name -> the module that defines it, imported when the name is first used (PEP 562).
_LAZY = {
    "DeviceModel": "devices.base",
    "DeviceState": "devices.base",
    "PulseUpdateModel": "devices.base",
    "CellConfig": "devices.cell",
    "CellModel": "devices.cell",
    "Ideal": "devices.ideal",
    "IdealConfig": "devices.ideal",
    "PCM": "devices.pcm",
    "PCMConfig": "devices.pcm",
    "ReRAM": "devices.reram",
    "ReRAMConfig": "devices.reram",
    "FeFET": "devices.fefet",
    "FeFETConfig": "devices.fefet",
    "Memcap": "devices.memcap",
    "MemcapConfig": "devices.memcap",
    "Tabulated": "devices.tabulated",
    "TabulatedConfig": "devices.tabulated",
    **{
        name: "devices.catalog"
        for name in (
            "REGISTRY",
            "MODELS",
            "get",
            "names",
            "register",
            "register_preset",
            "describe_all",
            "sources",
        )
    },  # fmt: skip
}


__getattr__, __dir__ = lazy_names(__name__, _LAZY)
