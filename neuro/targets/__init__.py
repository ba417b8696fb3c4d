"""Adapters that turn a workload into a :class:`~neuro.result.Result`, one per paradigm.

``make_target("aimc:pcm")`` builds a target by its command-line name;
``target_names()`` lists them all. Each adapter module registers its family on import.
"""

from neuro.targets import analog as _analog  # noqa: F401  (registers "aimc")
from neuro.targets import npu as _npu  # noqa: F401  (registers "npu")
from neuro.targets import reference  # noqa: F401  (registers "reference")
from neuro.targets import spiking as _spiking  # noqa: F401  (registers "snn")
from neuro.targets.base import FAMILIES, Family, Target, make_target, register_family, target_names
from neuro.targets.reference import Reference, ReferenceConfig

__all__ = [
    "Target",
    "Family",
    "FAMILIES",
    "register_family",
    "make_target",
    "target_names",
    "Reference",
    "ReferenceConfig",
]
