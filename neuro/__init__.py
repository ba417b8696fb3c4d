"""Where the paradigms meet: workloads, targets, metrics, roadmap, sweeps, archive, CLI.

>>> import neuro
>>> result = neuro.make_target("reference").evaluate(neuro.workloads.get("mlp-digits"), seed=0)  # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from devices.lazy import lazy_names
from devices.validation import ConfigError

if TYPE_CHECKING:  # pragma: no cover
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

# Name -> the module that defines it, imported when the name is first used (PEP 562): the
# targets pull in torch, the archive h5py and pandas, so ``import neuro`` (and ``neuro
# --help``) would otherwise take seconds.
_LAZY = {
    "workloads": "neuro.workloads",
    "Archive": "neuro.archive",
    "ArchiveError": "neuro.archive",
    "ArchiveLockedError": "neuro.archive",
    "Curve": "neuro.result",
    "Result": "neuro.result",
    "Target": "neuro.targets",
    "make_target": "neuro.targets",
    "target_names": "neuro.targets",
    "Workload": "neuro.workloads",
}


__getattr__, __dir__ = lazy_names(__name__, _LAZY)
