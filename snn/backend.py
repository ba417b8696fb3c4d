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

import hashlib
import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import brian2 as b2
import numpy as np
from brian2.devices.cpp_standalone.device import CPPStandaloneDevice
from brian2.devices.device import all_devices
from filelock import FileLock, Timeout

from devices.validation import ConfigError

__all__ = ["BACKENDS", "cache_root", "shape_key", "StandaloneProject", "use_runtime"]

#: ``"standalone"``: C++ standalone, compiled once per shape. ``"numpy"``: Brian2's runtime
#: mode with the numpy target (no compiler; slow; for tests and tiny networks).
BACKENDS = ("standalone", "numpy")


def check_backend(backend: str) -> None:
    """Raise ConfigError unless ``backend`` is one of :data:`BACKENDS`."""
    if backend not in BACKENDS:
        raise ConfigError(f"backend must be one of {BACKENDS!r}; got {backend!r}")


def check_run_inputs(
    x: Any, n_inputs: int, steps: Any, checkpoints: Any
) -> tuple[np.ndarray, list[int], int]:
    """Validate a network run's inputs, steps and checkpoints (one-line ConfigErrors).

    Returns
    -------
    xs : numpy.ndarray
        ``(N, n_inputs)`` float inputs.
    checkpoints : list of int
        The checkpoints (default: powers of two up to ``steps``), ``steps`` last included.
    stride : int
        Their greatest common divisor: the run reads its counters every ``stride`` steps.
    """
    xs = np.asarray(x, dtype=float).reshape(len(x), -1)
    if xs.shape[1] != n_inputs:
        raise ConfigError(f"run: inputs must have {n_inputs} values; got {xs.shape[1]}")
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ConfigError(f"run: steps must be an integer >= 1; got {steps!r}")
    cps = list(checkpoints or [s for s in (2**k for k in range(20)) if s <= steps])
    if not all(isinstance(c, int | np.integer) and 1 <= c <= steps for c in cps):
        raise ConfigError(f"run: checkpoints must be integers in [1, {steps}]; got {cps}")
    if steps not in cps:
        cps = [*cps, steps]
    return xs, cps, int(np.gcd.reduce(np.asarray(cps, dtype=int)))


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

#: Brian2 preferences a project may set for its own build (restored afterwards).
_FLAG_PREFS = (
    "codegen.cpp.extra_compile_args_gcc",
    "codegen.cpp.extra_link_args",
    "devices.cpp_standalone.extra_make_args_unix",
)


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

    def __init__(
        self,
        name: str,
        spec: dict[str, Any],
        construct: Callable[[], dict],
        *,
        compile_args: list[str] | None = None,
        link_args: list[str] | None = None,
    ) -> None:
        self.compile_args = None if compile_args is None else list(compile_args)
        self.link_args = [] if link_args is None else list(link_args)
        spec = dict(spec, patches=PATCHES)
        if compile_args is not None or link_args:
            spec = dict(spec, compile_args=self.compile_args, link_args=self.link_args)
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
        saved = {k: b2.prefs[k] for k in _FLAG_PREFS}
        try:
            if self.compile_args is not None:
                b2.prefs["codegen.cpp.extra_compile_args_gcc"] = self.compile_args
            b2.prefs["codegen.cpp.extra_link_args"] = (
                saved["codegen.cpp.extra_link_args"] + self.link_args
            )
            # Brian2's default ``make -j`` starts one compiler per source file (about 40)
            # at once; as many as there are cores is as fast and kinder to a shared machine.
            b2.prefs["devices.cpp_standalone.extra_make_args_unix"] = [f"-j{os.cpu_count() or 1}"]
            standalone.generate_network_source = _network_source(standalone)
            consumers: dict[str, bool] = {}  # code objects reading a spike queue: patched?
            standalone.generate_codeobj_source = _codeobj_source(standalone, consumers)
            standalone.generate_synapses_classes_source = _synapses_classes_source(standalone)
            standalone.copy_source_files = _copy_source_files(standalone, consumers)
            b2.device.build(directory=str(self.directory), compile=True, run=False,
                            with_output=False)  # fmt: skip
        finally:
            del standalone.generate_network_source
            del standalone.copy_source_files
            del standalone.generate_codeobj_source
            del standalone.generate_synapses_classes_source
            for k, v in saved.items():
                b2.prefs[k] = v
        self.build_time_s = time.perf_counter() - t0
        _OWNER[0] = self
        return self.handles

    def _claim_slot(self) -> Path:
        base = cache_root() / self.key
        base.mkdir(parents=True, exist_ok=True)
        for slot in range(64):
            # held for the process; a slot held by another build (any process) is skipped.
            # filelock: flock on POSIX, LockFileEx on Windows
            lock = FileLock(base / f"slot-{slot}.lock", timeout=0)
            try:
                lock.acquire()
            except Timeout:
                continue
            self._lock = lock
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


#: Brian2's network loop reads the process CPU clock after every time step (for
#: ``maximum_run_time``), a system call: 0.56 us of CPU on the development machine,
#: 0.5 ms per Diehl & Cook image. Without a maximum run time it is read once, after the
#: loop (the value only feeds ``Network._last_run_time``).
_PER_STEP_CLOCK = re.compile(
    r"\n[ \t]*current = std::clock\(\);\n[ \t]*elapsed_realtime = ([^\n]*);\n"
)
_AFTER_LOOP = "    Network::_globally_running = false;\n"


def _network_source(device: CPPStandaloneDevice) -> Callable:
    """``device.generate_network_source`` without the per-step clock read (when the
    template has the expected form; otherwise Brian2's own)."""
    original = type(device).generate_network_source

    def generate(writer, compiler):
        if device._maximum_run_time is not None:
            return original(device, writer, compiler)
        tmp = device.code_object_class().templater.network(None, None, maximum_run_time=None)
        cpp = tmp.cpp_file
        found = _PER_STEP_CLOCK.search(cpp)
        if found is None or cpp.count(_AFTER_LOOP) != 1:
            return original(device, writer, compiler)
        cpp = cpp[: found.start()] + "\n" + cpp[found.end() :]
        cpp = cpp.replace(
            _AFTER_LOOP,
            f"    current = std::clock();\n    elapsed_realtime = {found.group(1)};\n"
            + _AFTER_LOOP,
        )
        writer.write("network.cpp", cpp)
        writer.write("network.h", tmp.h_file)

    return generate


#: Brian2's spike queue picks the slot of each delayed synaptic event with an integer
#: division, ``(offset + delay) % queue.size()``, once per synapse of every spike (0.9 M
#: times per Diehl & Cook image). ``offset < size`` and ``delay < size``, so one
#: conditional subtraction gives the same slot.
_QUEUE_MODULO = "                    queue[(offset+delay)%queue.size()].push_back(synaptic_index);"
_QUEUE_SLOT = (
    "                    const int _slot = offset + delay;\n"
    "                    queue[_slot < _qsize ? _slot : _slot - _qsize]"
    ".push_back(synaptic_index);"
)
_QUEUE_LOOP = "            int * __restrict rdelays = delays-openmp_padding;"
#: Blocks of equal delay: when a source's synapses are stored in runs of equal delay
#: (``snn.dc_network`` sorts each input's synapses by delay), a spike's synapses go into
#: the queue one run at a time (a block copy) instead of one ``push_back`` each. The runs
#: are found in ``prepare``; they are used when they average at least 4 synapses, so a
#: network without sorted delays keeps Brian2's loop. Each slot receives the same
#: synapses in the same order either way (by source, then by position in its list).
_QUEUE_MEMBERS = "    vector< vector<int> > synapses;\n"
_QUEUE_RUN_MEMBERS = (
    _QUEUE_MEMBERS
    + "    vector< vector<int> > run_starts;  // per source: start of each run, then the end\n"
    "    vector< vector<int> > run_delays;  // per source: delay of each run (steps)\n"
    "    bool use_runs = false;\n"
    "    bool pair_runs = false;  // push a run as (~first, end): see _PEEK_RUNS\n"
    "    vector<int32_t> run_flat;  // pair_runs: (delay, first, end) of every run\n"
    "    vector<int> run_off;  // pair_runs: runs of source s from run_off[s]\n"
    "    vector<int32_t*> _tail;  // pair_runs: where push writes next, per slot\n"
)
_QUEUE_PREPARED = "        scalar_delay = (min_delay == max_delay);\n"
_QUEUE_FIND_RUNS = (
    _QUEUE_PREPARED
    + """\
        run_starts.assign(synapses.size(), vector<int>());
        run_delays.assign(synapses.size(), vector<int>());
        size_t _n_runs = 0;
        if (!scalar_delay)
        {
            for (size_t _s=0; _s<synapses.size(); _s++)
            {
                const vector<int> &_syn = synapses[_s];
                for (size_t _k=0; _k<_syn.size(); _k++)
                {
                    const int _d = delays[_syn[_k] - openmp_padding];
                    if (_k == 0 || _d != run_delays[_s].back())
                    {
                        run_starts[_s].push_back((int)_k);
                        run_delays[_s].push_back(_d);
                        _n_runs++;
                    }
                }
                run_starts[_s].push_back((int)_syn.size());
            }
        }
        use_runs = !scalar_delay && 4 * _n_runs <= (size_t)n_synapses;
        pair_runs = use_runs && PAIR_RUNS_OK;  // and every source's indices consecutive
        for (size_t _s=0; pair_runs && _s<synapses.size(); _s++)
            for (size_t _k=1; _k<synapses[_s].size(); _k++)
                if (synapses[_s][_k] != synapses[_s][_k-1] + 1)
                {
                    pair_runs = false;
                    break;
                }
        run_flat.clear();
        run_off.assign(1, 0);
        for (size_t _s=0; pair_runs && _s<synapses.size(); _s++)
        {
            for (size_t _r=0; _r<run_delays[_s].size(); _r++)
            {
                run_flat.push_back(run_delays[_s][_r]);
                run_flat.push_back(synapses[_s][run_starts[_s][_r]]);
                run_flat.push_back(synapses[_s][run_starts[_s][_r+1] - 1] + 1);
            }
            run_off.push_back(run_off.back() + run_delays[_s].size());
        }
        if (pair_runs && run_flat.empty())
            run_flat.push_back(0);  // &run_flat[0] valid
"""
)
_QUEUE_ELSE = "        } else // (!scalar_delay)\n"
_QUEUE_PUSH_RUNS = (
    """\
        } else if (pair_runs)
        {
            // each spike adds at most one run (two numbers) to each slot: grow every slot
            // once, write through pointers, then trim
            const int _qsize = queue.size();
            const size_t _most = 2 * (size_t)(stop - start);
            if (_most == 0) return;
            _tail.resize(_qsize);
            for (int _k=0; _k<_qsize; _k++)
            {
                const size_t _n = queue[_k].size();
                queue[_k].resize(_n + _most);
                _tail[_k] = &queue[_k][_n];
            }
            for(int idx_spike=start; idx_spike<stop; idx_spike++)
            {
                const int idx_neuron = rspikes[idx_spike] - source_start;
                const int32_t* __restrict _run = &run_flat[0] + 3 * run_off[idx_neuron];
                const int32_t* const _run_stop = &run_flat[0] + 3 * run_off[idx_neuron + 1];
                for(; _run<_run_stop; _run+=3)
                {
                    const int _slot = offset + _run[0];
                    int32_t* &_t = _tail[_slot < _qsize ? _slot : _slot - _qsize];
                    if (_run[2] - _run[1] == 1)
                        *_t++ = _run[1];
                    else
                    {
                        _t[0] = ~_run[1];
                        _t[1] = _run[2];
                        _t += 2;
                    }
                }
            }
            for (int _k=0; _k<_qsize; _k++)
                queue[_k].resize(_tail[_k] - &queue[_k][0]);
        } else if (use_runs)
        {
            const int _qsize = queue.size();
            for(int idx_spike=start; idx_spike<stop; idx_spike++)
            {
                const int idx_neuron = rspikes[idx_spike] - source_start;
                const vector<int> &_delays = run_delays[idx_neuron];
                const int _nr = _delays.size();
                if(_nr==0) continue;
                const int* __restrict _starts = &(run_starts[idx_neuron][0]);
                const int* __restrict cur_indices = &(synapses[idx_neuron][0]);
                for(int _r=0; _r<_nr; _r++)
                {
                    const int _slot = offset + _delays[_r];
                    vector<int32_t> &_q = queue[_slot < _qsize ? _slot : _slot - _qsize];
                    _q.insert(_q.end(), cur_indices + _starts[_r], cur_indices + _starts[_r+1]);
                }
            }
"""
    + _QUEUE_ELSE
)
#: The loop of Brian2's ``synapses.cpp`` template over the synapses a pathway's queue
#: delivers this step (one index each). Patched (:func:`_codeobj_source`) to also read a
#: run of consecutive synapses pushed as two numbers, ``~first`` (negative) and ``end``:
#: the same synapses in the same order, without copying 20 indices per run into the
#: queue, and the loop's body then reads and writes adjacent synapses.
_PEEK_LOOP = re.compile(
    r"(?P<indent>[ \t]*)for\(int _spiking_synapse_idx=0;\n"
    r"[ \t]*_spiking_synapse_idx<_num_spiking_synapses;\n"
    r"[ \t]*_spiking_synapse_idx\+\+\)\n"
    r"[ \t]*\{\n"
    r"[ \t]*const size_t _idx = \(\*_spiking_synapses\)\[_spiking_synapse_idx\];\n"
)
_PEEK_RUNS = """\
{i}const int32_t* const _queued = _num_spiking_synapses ? &(*_spiking_synapses)[0] : 0;
{i}for(int _spiking_synapse_idx=0;
{i}    _spiking_synapse_idx<_num_spiking_synapses;
{i}    _spiking_synapse_idx++)
{i}{{
{i}    int32_t _first = _queued[_spiking_synapse_idx], _end = _first + 1;
{i}    if (_spiking_synapse_idx + _PREFETCH_AHEAD < _num_spiking_synapses)
{i}    {{  // the synapses of a run a few runs ahead: their cache lines on the way
{i}        int32_t _ahead = _queued[_spiking_synapse_idx + _PREFETCH_AHEAD];
{i}        _ahead = _ahead < 0 ? ~_ahead : _ahead;
{prefetch}
{i}    }}
{i}    if (_first < 0)  // a run of consecutive synapses: ~first, end
{i}    {{
{i}        _first = ~_first;
{i}        _end = _queued[++_spiking_synapse_idx];
{i}    }}
{i}    for(int32_t _run_idx=_first; _run_idx<_end; _run_idx++)
{i}    {{
{i}    const size_t _idx = _run_idx;
"""


#: How far ahead (in numbers of the queue's slot, two per run) the loop prefetches.
_PREFETCH_AHEAD = 8


def _read_runs(code: str) -> str | None:
    """A code object's source with its queue loop reading runs (None: not of the form)."""
    found = list(_PEEK_LOOP.finditer(code))
    if len(found) != 1:
        return None
    m = found[0]
    depth, pos = 1, m.end()
    while depth and pos < len(code):  # the loop's closing brace
        depth += {"{": 1, "}": -1}.get(code[pos], 0)
        pos += 1
    if depth:
        return None
    close = pos - 1
    indent = m.group("indent")
    arrays = sorted(set(re.findall(r"(_ptr_array_\w+)\[_idx\]", code[m.end() : close])))
    prefetch = "\n".join(
        f"{indent}        __builtin_prefetch(&{a}[_ahead]);\n"
        f"{indent}        __builtin_prefetch((const char*)&{a}[_ahead] + 64);"
        for a in arrays
    )  # fmt: skip
    head = _PEEK_RUNS.format(i=indent, prefetch=prefetch)
    head = f"{indent}const int _PREFETCH_AHEAD = {_PREFETCH_AHEAD};\n" + head
    return code[: m.start()] + head + code[m.end() : close] + "}\n" + indent + code[close:]


#: The loop of Brian2's ``threshold.cpp`` template: every neuron's condition, then its
#: index appended to the spike space when it holds.
_THRESHOLD_LOOP = re.compile(
    r"(?P<indent>[ \t]*)long _count = 0;\n"
    r"[ \t]*for\(size_t _idx=0; _idx<N; _idx\+\+\)\n"
    r"[ \t]*\{\n"
    r"[ \t]*const size_t _vectorisation_idx = _idx;\n"
    r"(?P<cond>.*?)\n[ \t]*if\(_cond\) \{\n",
    re.S,
)
#: Neurons per block of the patched threshold loop.
_THRESHOLD_BLOCK = 64


def _blocked_threshold(code: str) -> str | None:
    """A threshold code object's source that tests blocks of neurons first (None: not
    of the form, or the condition is not a pure expression of the neurons' state).

    Spikes are rare, so the conditions of a block are first evaluated in a loop that
    only ORs them (it vectorises), and the block's neurons are visited one by one only
    when one of them crossed: the same spikes in the same order.
    """
    found = list(_THRESHOLD_LOOP.finditer(code))
    if len(found) != 1:
        return None
    m = found[0]
    cond = m.group("cond")
    if re.search(r"rand|_vectorisation_idx|\w+\s*\(\s*_idx|\+\+|\[_idx\]\s*=[^=]", cond):
        return None  # random numbers, calls or writes: evaluated once per neuron only
    i = m.group("indent")
    head = (
        f"{i}long _count = 0;\n"
        f"{i}for(size_t _block=0; _block<N; _block+={_THRESHOLD_BLOCK})\n"
        f"{i}{{\n"
        f"{i}const size_t _block_end = _block + {_THRESHOLD_BLOCK} < N ? "
        f"_block + {_THRESHOLD_BLOCK} : N;\n"
        f"{i}char _any = 0;\n"
        f"{i}for(size_t _idx=_block; _idx<_block_end; _idx++)\n"
        f"{i}{{\n{cond}\n{i}    _any |= _cond;\n{i}}}\n"
        f"{i}if(!_any) continue;\n"
        f"{i}for(size_t _idx=_block; _idx<_block_end; _idx++)\n"
        f"{i}{{\n"
        f"{i}    const size_t _vectorisation_idx = _idx;\n"
        f"{cond}\n{i}    if(_cond) {{\n"
    )
    depth, pos = 2, m.end()
    while depth > 1 and pos < len(code):  # the end of the per-neuron loop
        depth += {"{": 1, "}": -1}.get(code[pos], 0)
        pos += 1
    if depth > 1:
        return None
    return code[: m.start()] + head + code[m.end() : pos] + f"\n{i}}}" + code[pos:]


class _PatchingWriter:
    """Brian2's ``CPPWriter`` that hands some files' contents to a patch first."""

    def __init__(self, writer, patch: Callable[[str, str], str]) -> None:
        self._writer, self._patch = writer, patch

    def write(self, filename: str, contents) -> None:
        if filename.endswith(".*"):
            self.write(f"{filename[:-1]}cpp", contents.cpp_file)
            self.write(f"{filename[:-1]}h", contents.h_file)
            return
        self._writer.write(filename, self._patch(filename, contents))

    def __getattr__(self, name: str):
        return getattr(self._writer, name)


def _codeobj_source(device: CPPStandaloneDevice, consumers: dict[str, bool]) -> Callable:
    """``device.generate_codeobj_source`` with every code object that reads a spike queue
    patched to read runs (:data:`_PEEK_LOOP`); ``consumers`` records which were."""
    original = type(device).generate_codeobj_source

    def patch(filename: str, code: str) -> str:
        if re.search(r"_thresholder_codeobject(_\d+)?\.cpp$", filename):  # names get _1, _2
            return _blocked_threshold(code) or code
        if not filename.endswith(".cpp") or ".peek();" not in code:
            return code
        new = _read_runs(code)
        consumers[filename] = new is not None
        return code if new is None else new

    def generate(writer):
        return original(device, _PatchingWriter(writer, patch))

    return generate


#: ``SynapticPathway::peek`` copies the queue's current slot into a second vector every
#: time step, for the OpenMP threads' queues; with one thread, the slot itself is read.
_PEEK_COPY = re.compile(r"vector<int32_t>\* peek\(\)\n[ \t]*\{\n")


def _synapses_classes_source(device: CPPStandaloneDevice) -> Callable:
    """``device.generate_synapses_classes_source`` without the copy in ``peek`` when
    there is one thread."""
    original = type(device).generate_synapses_classes_source

    def patch(filename: str, code: str) -> str:
        found = list(_PEEK_COPY.finditer(code))
        if len(found) != 1 or "_nb_threads" not in code:
            return code
        at = found[0].end()
        return code[:at] + "        if (_nb_threads == 1) return queue[0]->peek();\n" + code[at:]

    def generate(writer):
        return original(device, _PatchingWriter(writer, patch))

    return generate


#: Part of every project's spec (a change of the patches must not meet old objects).
PATCHES = "network-clock-1,queue-slot-1,queue-runs-1,queue-pairs-2,peek-1,threshold-blocks-3"


def _copy_source_files(device: CPPStandaloneDevice, consumers: dict[str, bool]) -> Callable:
    """``device.copy_source_files`` with the spike queue's slot computed without a
    division and pushes by runs of equal delay (when the file has the expected form;
    otherwise Brian2's own); runs go in as pairs only if every code object that reads a
    queue (``consumers``, filled by :func:`_codeobj_source` before this runs) was
    patched to read them. The patched
    header keeps the original's modification time (Brian2 copies it with ``copy2`` on
    every build), so a cached rebuild recompiles nothing."""
    original = type(device).copy_source_files

    def copy(writer, directory):
        pairs = "true" if consumers and all(consumers.values()) else "false"
        original(device, writer, directory)
        path = Path(directory) / "brianlib" / "spikequeue.h"
        text = path.read_text()
        anchors = (_QUEUE_MODULO, _QUEUE_LOOP, _QUEUE_MEMBERS, _QUEUE_PREPARED, _QUEUE_ELSE)
        if any(text.count(a) != 1 for a in anchors):
            return
        stat = path.stat()
        text = text.replace(_QUEUE_MODULO, _QUEUE_SLOT).replace(
            _QUEUE_LOOP, _QUEUE_LOOP + "\n            const int _qsize = queue.size();"
        )
        text = text.replace(_QUEUE_MEMBERS, _QUEUE_RUN_MEMBERS)
        text = text.replace(_QUEUE_PREPARED, _QUEUE_FIND_RUNS.replace("PAIR_RUNS_OK", pairs))
        text = text.replace(_QUEUE_ELSE, _QUEUE_PUSH_RUNS)
        path.write_text(text)
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))

    return copy


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
