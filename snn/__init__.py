"""Spiking neuromorphic networks in Brian2.

Diehl & Cook (2015) unsupervised STDP learning whose synapses are device models from
``devices`` (``DeviceSynapse``), rate-coded ANN-to-SNN conversion of the shared workloads,
and event counts (synaptic events, neuron updates, spikes) for the energy model. Imports
``devices`` (and ``crossbar`` only for array-level costs).
"""

from snn.config import DiehlCookConfig, STDPRule
from snn.diehl_cook import DiehlCook, EventCounts
from snn.synapse import DeviceSynapse, DifferentialDeviceSynapse, IdealSynapse, SynapseCode

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
