"""Where the paradigms meet: workloads, targets, metrics, roadmap, sweeps, archive, CLI.

>>> import neuro
>>> result = neuro.make_target("reference").evaluate(neuro.workloads.get("mlp-digits"), seed=0)  # doctest: +SKIP
"""

from devices.validation import ConfigError
from neuro import workloads
from neuro.archive import Archive, ArchiveError, ArchiveLockedError
from neuro.result import Curve, Result
from neuro.targets import Target, make_target, target_names
from neuro.workloads import Workload

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "Archive",
    "ArchiveError",
    "ArchiveLockedError",
    "Curve",
    "Result",
    "Target",
    "Workload",
    "make_target",
    "target_names",
    "workloads",
]
