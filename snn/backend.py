"""Where Brian2 runs: C++ standalone (built once per network shape) or the numpy runtime.

Brian2's standalone device is one object per process: building a second network resets
it (``device.reinit``). :class:`StandaloneProject` keeps track of which project owns the
device and rebuilds its own when another one took the device in between; the compiler
does not recompile unchanged sources, so a rebuild of a cached shape is fast.

Build directories live under ``$NEURO_SNN_CACHE`` (default ``<checkout>/.cache/brian2``,
an ignored path), one per network shape (a hash of everything that changes the code) and
per concurrent process: a process takes the first free ``slot-N`` of its shape under an
exclusive ``flock`` held for its lifetime, so that two processes never rebuild or run the
same binary and results folder at once (each slot compiles once, then is re-used).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import brian2 as b2
from brian2.devices.cpp_standalone.device import CPPStandaloneDevice
from brian2.devices.device import all_devices

from devices.validation import ConfigError

__all__ = ["BACKENDS", "cache_root", "shape_key", "StandaloneProject", "use_runtime"]

#: ``"standalone"``: C++ standalone, compiled once per shape. ``"numpy"``: Brian2's runtime
#: mode with the numpy target (no compiler; slow; for tests and tiny networks).
BACKENDS = ("standalone", "numpy")


def check_backend(backend: str) -> None:
    """Raise ConfigError unless ``backend`` is one of :data:`BACKENDS`."""
    if backend not in BACKENDS:
        raise ConfigError(f"backend must be one of {BACKENDS!r}; got {backend!r}")


def cache_root() -> Path:
    """``$NEURO_SNN_CACHE`` or ``.cache/brian2`` in the checkout."""
    env = os.environ.get("NEURO_SNN_CACHE")
    return Path(env) if env else Path(__file__).resolve().parent.parent / ".cache" / "brian2"


def shape_key(spec: dict[str, Any]) -> str:
    """A short hash of a JSON-able description of a network shape and its code."""
    blob = json.dumps(spec, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def use_runtime() -> None:
    """Switch Brian2 to runtime mode with the numpy target (for tests, no compiler)."""
    b2.set_device("runtime")
    b2.prefs.codegen.target = "numpy"


_OWNER: list[object] = [None]


class StandaloneProject:
    """A C++ standalone project built once and re-run with ``run_args``.

    Parameters
    ----------
    name : str
        Kind of network (the cache folder's prefix).
    spec : dict
        Everything that changes the generated code (shapes, parameters, synapse model).
    construct : callable
        ``construct() -> handles`` creates the Brian2 objects and an explicit
        ``brian2.Network`` under ``handles["net"]``, and returns them; called with the
        standalone device active. It must call ``device.apply_run_args()`` (through
        :func:`insert_seed`) before ``net.run``.
    """

    def __init__(self, name: str, spec: dict[str, Any], construct: Callable[[], dict]) -> None:
        self.key = f"{name}-{shape_key(spec)}"
        self.directory: Path | None = None
        self._lock = None
        self._construct = construct
        self.handles: dict[str, Any] | None = None
        self.build_time_s: float | None = None

    def _ensure(self) -> dict[str, Any]:
        if self.handles is not None and _OWNER[0] is self:
            return self.handles
        import time

        # Reset the process's standalone device whether or not it is the active one: after
        # a numpy run in between, ``set_device`` would otherwise hand back the device of
        # the previous build (its run_args already applied).
        standalone = all_devices["cpp_standalone"]
        assert isinstance(standalone, CPPStandaloneDevice)
        standalone.reinit()
        b2.set_device("cpp_standalone", build_on_run=False)
        b2.prefs.devices.cpp_standalone.openmp_threads = 0  # OpenMP is slower on 2 cores
        t0 = time.perf_counter()
        self.handles = self._construct()
        if self.directory is None:
            self.directory = self._claim_slot()
        b2.device.build(directory=str(self.directory), compile=True, run=False,
                        with_output=False)  # fmt: skip
        self.build_time_s = time.perf_counter() - t0
        _OWNER[0] = self
        return self.handles

    def _claim_slot(self) -> Path:
        base = cache_root() / self.key
        base.mkdir(parents=True, exist_ok=True)
        for slot in range(64):
            fh = open(base / f"slot-{slot}.lock", "w")  # noqa: SIM115 (held for the process)
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                fh.close()
                continue
            self._lock = fh
            return base / f"slot-{slot}"
        raise RuntimeError(f"no free build slot under {base}")

    def run(self, run_args: dict) -> dict[str, Any]:
        """Run the compiled binary with ``run_args`` (VariableView/TimedArray → values)."""
        handles = self._ensure()
        b2.device.run(directory=str(self.directory), with_output=False, run_args=run_args)
        return handles

    def cleanup_run_args(self) -> None:
        """Delete the run-argument files of the last run (they accumulate otherwise)."""
        if _OWNER[0] is self:
            b2.device.delete(code=False, data=False, run_args=True, directory=False,
                             force=True)  # fmt: skip


def insert_seed(seed_group: b2.NeuronGroup) -> None:
    """Apply run_args, then seed every random generator from ``seed_group.run_seed[0]``.

    Brian2's ``seed()`` is fixed in the generated code; this reads the seed from a
    variable set per run through ``run_args``, so each run of the same binary draws its
    own reproducible random numbers.
    """
    b2.device.apply_run_args()
    name = b2.device.get_array_name(seed_group.variables["run_seed"])
    b2.device.insert_code(
        "main",
        f"for (int _i = 0; _i < 1; _i++) "
        f"brian::_random_generators[_i].seed((unsigned long) brian::{name}[0] + _i);",
    )
