"""Analog in-memory computing: crossbar arrays of device cells computing matrix-vector products.

``Crossbar(device, config)`` maps a weight matrix onto tiles of cells (differential pairs or
an offset column, optional bit-slicing), converts inputs with DACs, accumulates currents or
charges on the columns with the device and circuit non-idealities (programming and read
noise, drift, finite levels, stuck-at faults, IR drop, sneak paths), digitises with ADCs and
adds tile partial sums digitally; ``cost()`` gives energy by component, latency and area.
``crossbar.nn`` converts any torch model to analog layers. Imports ``devices`` only.

>>> import devices, torch
>>> from crossbar import Crossbar, CrossbarConfig
>>> xbar = Crossbar(devices.get("ideal"), CrossbarConfig.ideal()).program(torch.eye(3))
>>> xbar @ torch.tensor([1.0, 2.0, 3.0])
tensor([1., 2., 3.])
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from devices.lazy import lazy_names

if TYPE_CHECKING:  # pragma: no cover
    from crossbar.config import ADCConfig, CostConfig, CrossbarConfig, DACConfig
    from crossbar.core import Crossbar
    from crossbar.cost import COMPONENTS, CostReport, matrix_cost

__all__ = [
    "Crossbar",
    "CrossbarConfig",
    "DACConfig",
    "ADCConfig",
    "CostConfig",
    "CostReport",
    "matrix_cost",
    "COMPONENTS",
]

# Name -> the module that defines it, imported when the name is first used (PEP 562), so
# that ``import crossbar`` stays cheap (no torch) for a program that needs only a part of it.
_LAZY = {
    "ADCConfig": "crossbar.config",
    "CostConfig": "crossbar.config",
    "CrossbarConfig": "crossbar.config",
    "DACConfig": "crossbar.config",
    "Crossbar": "crossbar.core",
    "COMPONENTS": "crossbar.cost",
    "CostReport": "crossbar.cost",
    "matrix_cost": "crossbar.cost",
}


__getattr__, __dir__ = lazy_names(__name__, _LAZY)
