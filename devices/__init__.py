"""Device physics: memory cells that store a weight as a conductance or a capacitance.

The models (ReRAM, PCM, FeFET, memcapacitor, devices tabulated from measured data, and the
ideal reference cell) share the contract of :class:`devices.base.DeviceModel`:
``program``, ``read`` at a time after programming, ``pulse`` for learning, and the pulse
response as a standard parametric update model. ``devices`` imports nothing else of this
project: crossbars (``crossbar``) and spiking synapses (``snn``) are built on it.

>>> import devices, torch
>>> pcm = devices.get("pcm")                     # doctest: +SKIP
>>> state = pcm.program(torch.full((4,), 10e-6), torch.Generator().manual_seed(0))  # doctest: +SKIP
"""

from devices.base import DeviceModel, DeviceState, PulseUpdateModel
from devices.ideal import Ideal, IdealConfig
from devices.registry import DuplicateNameError, Registry, UnknownNameError
from devices.validation import ConfigError

__all__ = [
    "ConfigError",
    "DeviceModel",
    "DeviceState",
    "PulseUpdateModel",
    "Ideal",
    "IdealConfig",
    "Registry",
    "DuplicateNameError",
    "UnknownNameError",
    "REGISTRY",
    "get",
    "names",
    "register",
]

#: Device factories by name: ``factory(**overrides) -> DeviceModel``.
REGISTRY: Registry = Registry("device")


def register(name: str, factory, *, replace: bool = False):
    """Register a device factory (a class or a callable returning a :class:`DeviceModel`)."""
    return REGISTRY.register(name, factory, replace=replace)


def get(name: str, **overrides) -> DeviceModel:
    """A new device model by name, with optional config overrides."""
    return REGISTRY.get(name)(**overrides)


def names() -> list[str]:
    """Names of the registered devices."""
    return REGISTRY.names()


def _ideal(**overrides) -> Ideal:
    return Ideal(IdealConfig(**overrides))


register("ideal", _ideal)
