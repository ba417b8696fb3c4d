"""Spiking neuromorphic networks in Brian2.

Diehl & Cook (2015) unsupervised STDP learning whose synapses are device models from
``devices`` (``DeviceSynapse``), rate-coded ANN-to-SNN conversion of the shared workloads,
and event counts (synaptic events, neuron updates, spikes) for the energy model. Imports
``devices`` (and ``crossbar`` only for array-level costs).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from devices.lazy import lazy_names

if TYPE_CHECKING:  # pragma: no cover
    from snn.config import DiehlCookConfig, STDPRule
    from snn.diehl_cook import DiehlCook, EventCounts
    from snn.synapse import DeviceSynapse, DifferentialDeviceSynapse, IdealSynapse, SynapseCode

# Brian2 is imported when a name below is first used, not with the package: importing
# brian2 installs its own ``sys.excepthook`` (which reports every later error as a Brian 2
# bug and leaves ``brian_debug_*.log`` files behind), so a program that imports ``snn``
# only for its energy tables (``snn.energy``) must not pay for it (PEP 562 lazy names).
_LAZY = {
    "DiehlCookConfig": "snn.config",
    "STDPRule": "snn.config",
    "DiehlCook": "snn.diehl_cook",
    "EventCounts": "snn.diehl_cook",
    "IdealSynapse": "snn.synapse",
    "DeviceSynapse": "snn.synapse",
    "DifferentialDeviceSynapse": "snn.synapse",
    "SynapseCode": "snn.synapse",
}


__getattr__, __dir__ = lazy_names(__name__, _LAZY)


__all__ = [
    "DiehlCook",
    "DiehlCookConfig",
    "STDPRule",
    "EventCounts",
    "IdealSynapse",
    "DeviceSynapse",
    "DifferentialDeviceSynapse",
    "SynapseCode",
]
