"""Energy per event of spiking hardware, as data with sources (REFERENCES.md).

``energy(events, preset)`` multiplies counted synaptic events and neuron updates by a
preset's per-event energies. Device-backed synapses use the device's read energy per
synaptic event, with Loihi's neuron-update energy for the (digital) neurons.
"""

from __future__ import annotations

import dataclasses

from devices.base import DeviceModel
from devices.validation import ConfigError

__all__ = ["EnergyPreset", "PRESETS", "preset", "device_preset"]


@dataclasses.dataclass(frozen=True)
class EnergyPreset:
    """Per-event energies (J) and where they come from."""

    name: str
    synaptic_event_J: float
    neuron_update_J: float
    source: str

    def energy(self, synaptic_events: float, neuron_updates: float) -> dict[str, float]:
        """Energy by component (J)."""
        return {
            "synaptic_events": synaptic_events * self.synaptic_event_J,
            "neuron_updates": neuron_updates * self.neuron_update_J,
        }


PRESETS: dict[str, EnergyPreset] = {
    "truenorth": EnergyPreset(
        "truenorth", 26e-12, 0.0,
        "Merolla et al., Science 345:668 (2014): 26 pJ per synaptic event, measured, all-in "
        "(neuron updates included in that figure, so 0 here)",
    ),
    "loihi": EnergyPreset(
        "loihi", 23.6e-12, 52e-12,
        "Davies et al., IEEE Micro 38(1) (2018): 23.6 pJ per synaptic op, 52 pJ per neuron "
        "update (pre-silicon)",
    ),
    "seneca": EnergyPreset(
        "seneca", 2.8e-12, 0.0,
        "Tang et al., Front. Neurosci. (2023), SENECA 22 nm: 2.8 pJ per synaptic operation; "
        "no per-neuron-update figure in REFERENCES.md, so 0 (an underestimate)",
    ),
}  # fmt: skip


def preset(name: str) -> EnergyPreset:
    """The preset called ``name``; an unknown name lists the valid ones."""
    if name not in PRESETS:
        raise ConfigError(f"energy preset must be one of {', '.join(PRESETS)}; got {name!r}")
    return PRESETS[name]


def device_preset(device: DeviceModel) -> EnergyPreset:
    """One cell read per synaptic event (``device.read_energy_J``), Loihi's neuron update."""
    return EnergyPreset(
        device.name, float(device.read_energy_J), PRESETS["loihi"].neuron_update_J,
        f"{device.name}: read_energy_J of the device model per synaptic event; neuron "
        "updates at Loihi's 52 pJ (digital neurons assumed)",
    )  # fmt: skip
