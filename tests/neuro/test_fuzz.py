"""Fuzz: malformed inputs across the CLI, specs, archives, IDX files, device CSVs and
environment variables are refused in one line, with exit status 2, writing nothing.

Every case runs in this process (``neuro.cli.main(argv)`` or the library call), in a fresh
folder, and checks:

* CLI cases: exit status 2, exactly one line on standard error starting ``error:``, no
  traceback; library cases: the documented error type with a one-line message;
* no file created, changed or removed in the case's folder, Brian 2 not imported and no
  foreign ``sys.excepthook`` installed (Brian 2's writes ``brian_*`` files to the temporary
  folder);
* bounded memory: the peak of Python allocations stays under :data:`MEMORY_LIMIT_B`
  (the gzip bomb and the huge-header IDX files would otherwise take gigabytes).

``python tests/neuro/test_fuzz.py`` runs the same cases and prints the counts (inputs,
one-line errors, tracebacks, files written). The crash test at the end (marked slow)
SIGKILLs sweeps at random moments, including two writers through a symlink, and checks
that nothing completed is lost or duplicated.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gzip
import hashlib
import io
import os
import random
import select
import signal
import struct
import subprocess
import sys
import tempfile
import textwrap
import time
import traceback
import tracemalloc
import zlib
from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np
import pytest

from devices.tabulated import Tabulated
from devices.validation import ConfigError
from neuro.archive import Archive, ArchiveError
from neuro.cli import main
from neuro.data import DataError, read_idx, write_idx
from neuro.result import Curve, Result

#: Peak Python allocation allowed for one case (bytes).
MEMORY_LIMIT_B = 64 << 20


def _result(i: int = 0) -> Result:
    return Result(
        workload="mlp-digits", target="reference", seed=i, ops_per_inference=4736.0,
        accuracy=0.9, accuracy_std=0.0, energy_per_inference=None, latency=1e-6,
        throughput=1e6, layers=[{"name": "1", "kind": "linear", "macs": 2048}],
        curves={"c": Curve([1, 2], [0.5, 0.6], "t_s", "accuracy")},
        config={"i": i}, provenance={"started": "t0", "finished": "t1"},
    )  # fmt: skip


# -- fixtures every case may use ------------------------------------------------------------
def _archive(path: Path, n: int = 2) -> Path:
    with Archive(path, mode="a") as ar:
        for i in range(n):
            ar.append(_result(i), run_key=f"k{i}")
    return path


def _damage(path: Path, how: Callable[[h5py.File], None]) -> None:
    with h5py.File(path, "a", locking=False) as f:
        how(f)


def _set(obj, name, value):
    obj[name] = value


def _spec_text(body: str) -> str:
    return textwrap.dedent(body).lstrip()


GOOD_SPEC = _spec_text(
    """
    name = "t"
    workloads = ["mlp-digits"]
    targets = ["reference"]
    seeds = [0]
    """
)


def _spec_variant(**changes: str) -> str:
    """GOOD_SPEC with top-level lines replaced or added (value given as TOML)."""
    lines = {ln.split(" = ")[0]: ln for ln in GOOD_SPEC.splitlines()}
    for key, value in changes.items():
        lines[key] = f"{key} = {value}"
    return "\n".join(lines.values()) + "\n"


def _idx_header(type_code: int, dims: tuple[int, ...]) -> bytes:
    return struct.pack(">HBB", 0, type_code, len(dims)) + struct.pack(f">{len(dims)}I", *dims)


def _gzip_bomb(header: bytes, n_zeros: int) -> bytes:
    """gzip of ``header`` then ``n_zeros`` zero bytes, compressed piecewise (200 MB -> 200 kB)."""
    z = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31: the gzip container
    out = [z.compress(header)]
    chunk = bytes(1 << 20)
    for _ in range(n_zeros >> 20):
        out.append(z.compress(chunk))
    out.append(z.flush())
    return b"".join(out)


def _fmnist_folder(d: Path, *, n_train=20, n_test=5, images=None, labels=None, gz=False):
    """A Fashion-MNIST-style folder; ``images``/``labels`` replace the training files' bytes."""
    rng = np.random.default_rng(0)
    ext = ".gz" if gz else ""
    x = rng.integers(0, 256, size=(n_train + n_test, 28, 28), dtype=np.uint8)
    y = (np.arange(n_train + n_test) % 10).astype(np.uint8)
    write_idx(d / f"train-images-idx3-ubyte{ext}", x[:n_train])
    write_idx(d / f"train-labels-idx1-ubyte{ext}", y[:n_train])
    write_idx(d / f"t10k-images-idx3-ubyte{ext}", x[n_train:])
    write_idx(d / f"t10k-labels-idx1-ubyte{ext}", y[n_train:])
    if images is not None:
        (d / f"train-images-idx3-ubyte{ext}").write_bytes(images)
    if labels is not None:
        (d / f"train-labels-idx1-ubyte{ext}").write_bytes(labels)


PULSE_HEAD = "cycle,direction,pulse,conductance_S\n"
GOOD_PULSES = PULSE_HEAD + "".join(
    f"{c},{d},{k},{(1 + k if d == 'up' else 4 - k) * 1e-6}\n"
    for c in (0, 1)
    for d in ("up", "down")
    for k in range(4)
)


@dataclasses.dataclass
class Case:
    """One malformed input.

    ``argv`` (CLI, ``{d}`` is the case's folder) or ``call`` (library, takes the folder);
    ``setup`` writes the files the case needs; ``env`` sets environment variables;
    ``match`` must appear in the one-line message.
    """

    id: str
    argv: list[str] | None = None
    call: Callable[[Path], object] | None = None
    setup: Callable[[Path], None] | None = None
    env: dict[str, str] = dataclasses.field(default_factory=dict)
    match: str = ""


CASES: list[Case] = []


def cli(id, argv, match="", setup=None, env=None):
    CASES.append(Case(id, argv=argv, setup=setup, env=env or {}, match=match))


def api(id, call, match="", setup=None, env=None):
    CASES.append(Case(id, call=call, setup=setup, env=env or {}, match=match))


def w(name: str, content: str | bytes) -> Callable[[Path], None]:
    """A setup that writes ``name`` (text or bytes) in the case folder."""

    def setup(d: Path) -> None:
        p = d / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(content if isinstance(content, bytes) else content.encode())

    return setup


def chain(*setups: Callable[[Path], None]) -> Callable[[Path], None]:
    def setup(d: Path) -> None:
        for s in setups:
            s(d)

    return setup


def ok_archive(d: Path) -> None:
    _archive(d / "ok.h5")


def damaged(how: Callable[[h5py.File], None]) -> Callable[[Path], None]:
    def setup(d: Path) -> None:
        _archive(d / "bad.h5")
        _damage(d / "bad.h5", how)

    return setup


# -- the CLI: arguments ---------------------------------------------------------------------
CMP = ["compare", "--workload", "mlp-digits", "--targets", "reference"]
OUT = ["--out", "{d}/o.h5"]
# (a bare ``neuro`` prints the help and exits 2: more than one line, so tested in test_cli)
cli("no-subcommand-archive-file", ["archive", "nope.h5"], "invalid choice")
cli("set-unknown-key", [*CMP, "--set", "bogus=1", *OUT], "target 'reference' has no option 'bogus'")
cli(
    "set-dotted-unknown",
    [*CMP, "--set", "crossbar.adc.bits=6", *OUT],
    "has no option 'crossbar.adc.bits'",
)
cli("set-no-equals", [*CMP, "--set", "bits", *OUT], "--set expects key=value; got 'bits'")
cli("set-empty-key", [*CMP, "--set", "=3", *OUT], "--set expects key=value")
cli("set-not-finite", [*CMP, "--set", "x=nan", *OUT], "value must be finite")
cli("set-bad-value", ["compare", "--workload", "mlp-digits", "--targets", "aimc:pcm",
                      "--set", "crossbar.adc.bits=0", *OUT], "ADCConfig.bits must be")  # fmt: skip
cli("unknown-subcommand", ["bogus"], "invalid choice")
cli("unknown-flag", ["--bogus", "roadmap"], "unrecognized arguments")
cli("compare-extra-arg", [*CMP, *OUT, "extra"], "unrecognized arguments")
cli("workload-unknown", ["compare", "--workload", "nope", *OUT], "unknown workload 'nope'")
cli("workload-empty", ["compare", "--workload", "", *OUT], "unknown workload ''")
cli("workload-spaces", ["compare", "--workload", "mlp digits", *OUT], "unknown workload")
cli("targets-empty-string", ["compare", "--targets", "", *OUT], "--targets names no target")
cli("targets-only-commas", ["compare", "--targets", ",,", *OUT], "--targets names no target")
cli("targets-blank", ["compare", "--targets", " ", *OUT], "--targets names no target")
cli("target-unknown", [*CMP[:3], "--targets", "aimc:nope", *OUT], "unknown target 'aimc:nope'")
cli("target-family-only-colon", [*CMP[:3], "--targets", "snn:", *OUT], "target")
cli("target-unknown-family", [*CMP[:3], "--targets", "warp:9", *OUT], "warp:9")
cli("target-mixed-bad", [*CMP[:3], "--targets", "reference,nope", *OUT], "nope")
for seed, msg in [("-1", "--seed must be an integer in [0, 4294967295]; got -1"),
                  ("4294967296", "got 4294967296"), ("99999999999999999999999", "--seed"),
                  ("abc", "invalid int value: 'abc'"), ("1.5", "invalid int value"),
                  ("1e3", "invalid int value"), ("", "invalid int value"),
                  ("nan", "invalid int value")]:  # fmt: skip
    cli(f"seed-{seed or 'empty'}"[:40], [*CMP, "--seed", seed, *OUT], msg)
for t, msg in [("0", "got 0"), ("-1", "got -1"), ("1000000", "got 1000000"),
               ("abc", "invalid int value"), ("", "invalid int value"),
               ("2.5", "invalid int value")]:  # fmt: skip
    cli(f"threads-{t or 'empty'}", ["--threads", t, "roadmap"], msg)
for t in ("abc", "0", "-4", "", " ", "1e3", "999999", "1.5", "two"):
    cli(f"env-NEURO_THREADS-{t.strip() or repr(t)}", ["roadmap"], "$NEURO_THREADS must be an integer",
        env={"NEURO_THREADS": t})  # fmt: skip
for a in ("nan", "1.5", "-0.1", "0", "inf"):
    cli(f"iso-accuracy-{a}", [*CMP, "--iso-accuracy", a, *OUT], "--iso-accuracy must be a fraction")
cli("iso-accuracy-word", [*CMP, "--iso-accuracy", "high", *OUT], "invalid float value")
cli("metrics-unknown", [*CMP, "--metrics", "flops", *OUT], "invalid choice")
cli(
    "validate-json-missing-folder", ["validate", "--json", "{d}/no/v.json"], "folder does not exist"
)
cli("validate-json-directory", ["validate", "--json", "{d}"], "got the directory")
cli("validate-paradigm-unknown", ["validate", "--paradigm", "quantum"], "invalid choice")
# -- the CLI: output paths ------------------------------------------------------------------
cli("out-not-h5", [*CMP, "--out", "{d}/o.txt"], "must be an HDF5 file ending in .h5")
cli("out-no-suffix", [*CMP, "--out", "{d}/o"], "must be an HDF5 file")
cli("out-is-directory", [*CMP, "--out", "{d}/dir.h5"], "got the directory",
    setup=lambda d: (d / "dir.h5").mkdir())  # fmt: skip
cli("out-under-a-file", [*CMP, "--out", "{d}/f/o.h5"], "is a file, not a folder",
    setup=w("f", "x"))  # fmt: skip
cli("out-deep-under-a-file", [*CMP, "--out", "{d}/f/a/b/o.h5"], "is a file, not a folder",
    setup=w("f", "x"))  # fmt: skip
cli("out-figures-folder-is-file", [*CMP, *OUT], "(for the figures) is a file, not a folder",
    setup=w("o-figures", "x"))  # fmt: skip
cli("out-fifo", [*CMP, "--out", "{d}/fifo.h5"], "is not a regular file",
    setup=lambda d: os.mkfifo(d / "fifo.h5"))  # fmt: skip
cli("out-parent-dangling-symlink", [*CMP, "--out", "{d}/dead/o.h5"], "is a symlink to nothing",
    setup=lambda d: (d / "dead").symlink_to(d / "nowhere"))  # fmt: skip
api("archive-writer-lock-symlink-new-file", lambda d: Archive(d / "n.h5", mode="a"),
    "lock file is a symlink", setup=lambda d: (d / "n.h5.lock").symlink_to(d / "victim"))  # fmt: skip
cli("out-in-proc", [*CMP, "--out", "/proc/neuro-fuzz/o.h5"], "cannot create files in")
cli("out-dangling-symlink", [*CMP, "--out", "{d}/dangling.h5"], "symlink to nothing",
    setup=lambda d: (d / "dangling.h5").symlink_to(d / "nowhere" / "x.h5"))  # fmt: skip
cli("out-junk", [*CMP, "--out", "{d}/junk.h5"], "cannot open as HDF5", setup=w("junk.h5", "junk"))
cli("out-empty-file", [*CMP, "--out", "{d}/e.h5"], "empty file", setup=w("e.h5", b""))
cli("out-foreign-hdf5", [*CMP, "--out", "{d}/h.h5"], "not a neuro-cosim archive",
    setup=lambda d: h5py.File(d / "h.h5", "w").close())  # fmt: skip
cli("out-newer-schema", [*CMP, *OUT], "newer than this",
    setup=chain(lambda d: _archive(d / "o.h5"),
                lambda d: _damage(d / "o.h5", lambda f: f.attrs.__setitem__("schema_version", 99))))  # fmt: skip
cli("out-lock-is-symlink", [*CMP, *OUT], "lock file is a symlink",
    setup=chain(lambda d: _archive(d / "o.h5"),
                lambda d: (d / "o.h5.lock").unlink(),
                lambda d: (d / "o.h5.lock").symlink_to(d / "victim")))  # fmt: skip
cli("out-lock-is-directory", [*CMP, *OUT], "lock file",
    setup=chain(lambda d: _archive(d / "o.h5"), lambda d: (d / "o.h5.lock").unlink(),
                lambda d: (d / "o.h5.lock").mkdir()))  # fmt: skip
# -- the CLI: run and specs -----------------------------------------------------------------
RUN = ["run", "{d}/s.toml", "--out", "{d}/o.h5"]
cli("spec-missing", RUN, "does not exist")
cli("spec-is-directory", RUN, "is a folder", setup=lambda d: (d / "s.toml").mkdir())
cli("spec-empty", RUN, "spec.name must be a non-empty string", setup=w("s.toml", ""))
cli("spec-not-utf8", RUN, "not UTF-8", setup=w("s.toml", b'name = "\xff\xfe"\n'))
cli("spec-binary", RUN, "spec file", setup=w("s.toml", bytes(range(256))))
cli("spec-invalid-toml", RUN, "invalid TOML", setup=w("s.toml", "name = \n"))
cli("spec-unclosed-table", RUN, "invalid TOML", setup=w("s.toml", "[grid\n"))
cli("spec-huge", RUN, "a spec is at most", setup=w("s.toml", "#" * (2 << 20)))
SPEC_CASES = {
    "unknown-key": (_spec_variant(colour='"red"'), "spec key 'colour' is unknown"),
    "name-int": (_spec_variant(name="3"), "spec.name must be a non-empty string"),
    "name-empty": (_spec_variant(name='""'), "spec.name must be a non-empty string"),
    "description-int": (_spec_variant(description="1"), "spec.description must be a string"),
    "workloads-string": (_spec_variant(workloads='"mlp-digits"'), "spec.workloads must be"),
    "workloads-empty": (_spec_variant(workloads="[]"), "spec.workloads must be"),
    "workloads-int": (_spec_variant(workloads="[1]"), "spec.workloads must be"),
    "workloads-unknown": (_spec_variant(workloads='["nope"]'), "unknown workload 'nope'"),
    "workloads-duplicate": (
        _spec_variant(workloads='["mlp-digits", "mlp-digits"]'),
        "spec.workloads lists 'mlp-digits' twice",
    ),
    "targets-empty": (_spec_variant(targets="[]"), "spec.targets must be"),
    "targets-unknown": (_spec_variant(targets='["aimc:nope"]'), "unknown target 'aimc:nope'"),
    "targets-duplicate": (
        _spec_variant(targets='["reference", "reference"]'),
        "spec.targets lists 'reference' twice",
    ),
    "seeds-negative-int": (_spec_variant(seeds="-1"), "spec.seeds must be"),
    "seeds-zero": (_spec_variant(seeds="0"), "spec.seeds must be"),
    "seeds-empty": (_spec_variant(seeds="[]"), "spec.seeds must be"),
    "seeds-negative": (_spec_variant(seeds="[-1]"), "spec.seeds must be"),
    "seeds-too-big": (_spec_variant(seeds="[4294967296]"), "spec.seeds must be an integer in"),
    "seeds-duplicate": (_spec_variant(seeds="[1, 2, 1]"), "spec.seeds lists 1 twice"),
    "seeds-float": (_spec_variant(seeds="[1.5]"), "spec.seeds must be"),
    "seeds-bool": (_spec_variant(seeds="true"), "spec.seeds must be"),
    "seeds-string": (_spec_variant(seeds='"3"'), "spec.seeds must be"),
    "seeds-over-limit": (_spec_variant(seeds="1000000000000"), "more than the limit"),
    "quick-string": (_spec_variant(quick='"yes"'), "spec.quick must be true or false"),
    "options-not-table": (_spec_variant(options="3"), "spec.options must be a table"),
    "options-wrong-scope": (GOOD_SPEC + "[options.npu]\nbatch_size = 2\n", "names no target"),
    "options-unknown": (GOOD_SPEC + "[options.reference]\nnope = 1\n", "has no option 'nope'"),
    "options-bad-value": (
        GOOD_SPEC + "[options.reference]\nbatch_size = 0\n",
        "ReferenceConfig.batch_size must be",
    ),
    "grid-not-list": (GOOD_SPEC + "[grid.reference]\nbatch_size = 8\n", "must be a non-empty list"),
    "grid-empty-list": (GOOD_SPEC + "[grid.reference]\nbatch_size = []\n", "non-empty list"),
    "grid-duplicate": (
        GOOD_SPEC + "[grid.reference]\nbatch_size = [8, 16, 8]\n",
        "spec.grid.reference.batch_size lists 8 twice",
    ),
    "grid-bad-value": (GOOD_SPEC + "[grid.reference]\nbatch_size = [0]\n", "batch_size must be"),
    "grid-inf": (GOOD_SPEC + "[grid.reference]\nbatch_size = [inf]\n", "batch_size must be"),
    "grid-nan": (GOOD_SPEC + "[grid.reference]\nbatch_size = [nan]\n", "batch_size must be"),
    "grid-over-limit": (
        GOOD_SPEC.replace("seeds = [0]", "seeds = 1000")
        + "[grid.reference]\nbatch_size = ["
        + ", ".join(str(i) for i in range(1, 201))
        + "]\n",
        "expands to 200,000 runs, more than the limit of 100,000",
    ),
    "aimc-times-inf": (
        _spec_variant(targets='["aimc:pcm"]') + "[options.aimc]\ntimes_s = [inf]\n",
        "AnalogConfig.times_s must be",
    ),
    "aimc-times-negative": (
        _spec_variant(targets='["aimc:pcm"]') + "[options.aimc]\ntimes_s = [-1.0]\n",
        "AnalogConfig.times_s must be",
    ),
    "aimc-times-string": (
        _spec_variant(targets='["aimc:pcm"]') + '[options.aimc]\ntimes_s = "abc"\n',
        "AnalogConfig.times_s must be",
    ),
    "aimc-crossbar-int": (
        _spec_variant(targets='["aimc:pcm"]') + "[options.aimc]\ncrossbar = 5\n",
        "AnalogConfig.crossbar must be a CrossbarConfig",
    ),
    "aimc-adc-bits-zero": (
        _spec_variant(targets='["aimc:pcm"]') + '[options.aimc]\n"crossbar.adc.bits" = 0\n',
        "bits",
    ),
    "snn-steps-inf": (
        _spec_variant(targets='["snn:loihi"]') + "[options.snn]\nsteps = inf\n",
        "SpikingConfig.steps must be",
    ),
    "snn-backend-bad": (
        _spec_variant(targets='["snn:loihi"]') + '[options.snn]\nbackend = "gpu"\n',
        "SpikingConfig.backend must be one of",
    ),
    "npu-batch-negative": (
        _spec_variant(targets='["npu:ab9"]') + "[options.npu]\nbatch_size = -3\n",
        "batch_size must be",
    ),
}
for key, (text, msg) in SPEC_CASES.items():
    cli(f"spec-{key}", RUN, msg, setup=w("s.toml", text))
cli("run-workers-zero", [*RUN, "--workers", "0"], "--workers must be an integer from 1 to",
    setup=w("s.toml", GOOD_SPEC))  # fmt: skip
cli("run-workers-negative", [*RUN, "--workers", "-2"], "--workers must be",
    setup=w("s.toml", GOOD_SPEC))  # fmt: skip
cli("run-workers-huge", [*RUN, "--workers", "100000"], "--workers must be",
    setup=w("s.toml", GOOD_SPEC))  # fmt: skip
cli("run-workers-and-scheduler", [*RUN, "--workers", "2", "--scheduler", "tcp://h:1"],
    "not both", setup=w("s.toml", GOOD_SPEC))  # fmt: skip
for addr in ("nope", "tcp://host", "tcp://h:99999", "http://h:80", "", "tcp://:8786",
             "tcp://h:port", "h o:1"):  # fmt: skip
    cli(f"run-scheduler-{addr or 'empty'}"[:40], [*RUN, "--scheduler", addr],
        "--scheduler must be", setup=w("s.toml", GOOD_SPEC))  # fmt: skip
cli("run-dashboard-without-workers", [*RUN, "--dashboard", "127.0.0.1:8787"],
    "--dashboard needs --workers", setup=w("s.toml", GOOD_SPEC))  # fmt: skip
cli("run-max-runs-zero", [*RUN, "--max-runs", "0"], "max_runs must be an integer >= 1",
    setup=w("s.toml", GOOD_SPEC))  # fmt: skip
cli("run-max-runs-exceeded", [*RUN, "--max-runs", "1"], "more than the limit of 1",
    setup=w("s.toml", _spec_variant(seeds="[0, 1]")))  # fmt: skip
cli("run-out-directory", ["run", "{d}/s.toml", "--out", "{d}/dir.h5"], "got the directory",
    setup=chain(w("s.toml", GOOD_SPEC), lambda d: (d / "dir.h5").mkdir()))  # fmt: skip
cli("run-out-junk", ["run", "{d}/s.toml", "--out", "{d}/j.h5"], "cannot open as HDF5",
    setup=chain(w("s.toml", GOOD_SPEC), w("j.h5", "junk")))  # fmt: skip
# -- the CLI: archives ----------------------------------------------------------------------
for sub in ("ls", "export", "plot"):
    cli(f"archive-{sub}-missing", ["archive", sub, "{d}/none.h5"], "no such archive")
    cli(f"archive-{sub}-directory", ["archive", sub, "{d}"], "is a directory")
    cli(f"archive-{sub}-junk", ["archive", sub, "{d}/j.h5"], "cannot open as HDF5",
        setup=w("j.h5", b"\x89HDF\r\n\x1a\n" + b"\x00" * 50))  # fmt: skip
    cli(f"archive-{sub}-empty", ["archive", sub, "{d}/e.h5"], "empty file", setup=w("e.h5", b""))
ARCHIVE_DAMAGE = {
    "no-schema": (lambda f: f.attrs.__delitem__("schema_version"), "no schema_version"),
    "schema-string": (lambda f: _set(f.attrs, "schema_version", "one"), "bad schema_version"),
    "schema-zero": (lambda f: _set(f.attrs, "schema_version", 0), "bad schema_version 0"),
    "schema-array": (lambda f: _set(f.attrs, "schema_version", [1, 2]), "bad schema_version"),
    "schema-newer": (lambda f: _set(f.attrs, "schema_version", 2), "newer than this"),
    "no-runs": (lambda f: f.__delitem__("runs"), "no /runs group"),
    "runs-is-dataset": (
        lambda f: (f.__delitem__("runs"), f.create_dataset("runs", data=1)),
        "no /runs group",
    ),
}
for key, (how, msg) in ARCHIVE_DAMAGE.items():
    for sub in ("ls", "show"):
        argv = ["archive", sub, "{d}/bad.h5"] + (["r000001"] if sub == "show" else [])
        cli(f"archive-{sub}-{key}", argv, msg, setup=damaged(how))
RUN_DAMAGE = {
    "config-not-json": (lambda f: _set(f["runs/r000001"].attrs, "config", "{oops"), "config"),
    "workload-missing": (lambda f: f["runs/r000001"].attrs.__delitem__("workload"), "workload"),
    "seed-string": (lambda f: _set(f["runs/r000001"].attrs, "seed", "zero"), "'seed'"),
    "metric-string": (
        lambda f: (
            f["runs/r000001/metrics"].__delitem__("accuracy"),
            f["runs/r000001/metrics"].create_dataset("accuracy", data="high"),
        ),
        "metric 'accuracy' is not a number",
    ),  # fmt: skip
    "metric-array": (
        lambda f: (
            f["runs/r000001/metrics"].__delitem__("latency"),
            f["runs/r000001/metrics"].create_dataset("latency", data=[1.0, 2.0]),
        ),
        "metric 'latency' is not a number",
    ),  # fmt: skip
    "metrics-missing": (lambda f: f["runs/r000001"].__delitem__("metrics"), "no metrics group"),
    "layers-bad-columns": (
        lambda f: _set(f["runs/r000001/layers"].attrs, "columns", "[not json"),
        "unreadable",
    ),
    "layers-missing-column": (
        lambda f: f["runs/r000001/layers"].__delitem__("macs"),
        "unreadable",
    ),
    "curve-lengths": (
        lambda f: (
            f["runs/r000001/curves/c"].__delitem__("y"),
            f["runs/r000001/curves/c"].create_dataset("y", data=[1.0, 2.0, 3.0]),
        ),
        "curve 'c'",
    ),  # fmt: skip
    "provenance-not-json": (
        lambda f: _set(f["runs/r000001"].attrs, "provenance", "]"),
        "unreadable",
    ),
    "extra-array": (
        lambda f: (
            f["runs/r000001"].create_group("extra").create_dataset("x", data=[1.0, 2.0])
            if "extra" not in f["runs/r000001"]
            else f["runs/r000001/extra"].create_dataset("x", data=[1.0, 2.0])
        ),
        "extra/x is not a number",
    ),
    "group-is-dataset": (
        lambda f: (f["runs"].__delitem__("r000001"), f["runs"].create_dataset("r000001", data=3)),
        "no completed run 'r000001'",
    ),  # fmt: skip
}
for key, (how, msg) in RUN_DAMAGE.items():
    cli(f"archive-show-run-{key}", ["archive", "show", "{d}/bad.h5", "r000001"], msg,
        setup=damaged(how))  # fmt: skip
cli("archive-show-unknown-run", ["archive", "show", "{d}/ok.h5", "r9"], "no completed run 'r9'",
    setup=ok_archive)  # fmt: skip
cli("archive-show-run-empty-id", ["archive", "show", "{d}/ok.h5", ""], "no completed run ''",
    setup=ok_archive)  # fmt: skip
cli("archive-export-wrong-suffix", ["archive", "export", "{d}/ok.h5", "-o", "{d}/x.json"],
    "--output must end in .csv", setup=ok_archive)  # fmt: skip
cli("archive-export-to-directory", ["archive", "export", "{d}/ok.h5", "-o", "{d}/dir.csv"],
    "got the directory", setup=chain(ok_archive, lambda d: (d / "dir.csv").mkdir()))  # fmt: skip
cli("archive-export-under-a-file", ["archive", "export", "{d}/ok.h5", "-o", "{d}/f/x.csv"],
    "is a file, not a folder", setup=chain(ok_archive, w("f", "x")))  # fmt: skip
cli("archive-export-bad-format", ["archive", "export", "{d}/ok.h5", "--format", "xml"],
    "invalid choice", setup=ok_archive)  # fmt: skip
cli("archive-plot-out-dir-is-file", ["archive", "plot", "{d}/ok.h5", "--out-dir", "{d}/f"],
    "is not a folder", setup=chain(ok_archive, w("f", "x")))  # fmt: skip
cli("archive-ls-lock-symlink", ["archive", "ls", "{d}/ok.h5"], "lock file is a symlink",
    setup=chain(ok_archive, lambda d: (d / "ok.h5.lock").unlink(),
                lambda d: (d / "ok.h5.lock").symlink_to("/etc/hostname")))  # fmt: skip
# -- IDX files and data folders, through the command and NEURO_DATA -------------------------
FM = ["compare", "--workload", "mlp-fmnist", "--targets", "reference", *OUT]
IMG = 2051
IDX_CASES = {
    "empty": (b"", "truncated IDX header (0 bytes)"),
    "short-header": (b"\x00\x00", "truncated IDX header"),
    "bad-magic": (b"\x01\x02\x03\x04" + b"\x00" * 20, "not an IDX file"),
    "bad-type": (struct.pack(">HBB", 0, 0x07, 3) + b"\x00" * 12, "not an IDX file"),
    "zero-dims": (struct.pack(">HBB", 0, 0x08, 0), "not an IDX file"),
    "label-magic": (_idx_header(0x08, (20,)) + bytes(20), "where 2051 was expected"),
    "dims-cut": (_idx_header(0x08, (20, 28, 28))[:10], "truncated IDX header"),
    "overflow": (_idx_header(0x08, (2**32 - 1,) * 3), "bytes an IDX file may hold"),
    "huge-claim": (_idx_header(0x08, (6_000_000, 28, 28)), "bytes an IDX file may hold"),
    "truncated": (_idx_header(0x08, (20, 28, 28)) + bytes(100), "truncated: header says"),
    "too-long": (_idx_header(0x08, (20, 28, 28)) + bytes(20 * 784 + 5), "too long"),
    "gzip-truncated": (
        gzip.compress(_idx_header(0x08, (20, 28, 28)) + bytes(20 * 784))[:40],
        "cannot read IDX file",
    ),  # fmt: skip
    "gzip-garbage": (b"\x1f\x8b" + b"\xff" * 64, "cannot read IDX file"),
    "gzip-bomb": (lambda: _gzip_bomb(_idx_header(0x08, (20, 28, 28)), 200 << 20), "too long"),
    "gzip-short": (gzip.compress(_idx_header(0x08, (20, 28, 28)) + bytes(50)), "truncated"),
    "float-images": (_idx_header(0x0D, (20, 28, 28)) + bytes(20 * 784 * 4), "where 2051"),
    "wrong-shape": (
        _idx_header(0x08, (20, 8, 8)) + bytes(20 * 64),
        "images must be uint8 of shape (N, 28, 28)",
    ),  # fmt: skip
    "count-mismatch": (_idx_header(0x08, (19, 28, 28)) + bytes(19 * 784), "19 images but"),
}
for key, (payload, msg) in IDX_CASES.items():
    gz = key.startswith("gzip")
    cli(f"idx-{key}", FM, msg, env={"NEURO_DATA": "{d}/data"},
        setup=lambda d, p=payload, gz=gz: (d / "data").mkdir() or _fmnist_folder(
            d / "data", images=p() if callable(p) else p, gz=gz))  # fmt: skip
cli("data-labels-out-of-range", FM, "labels must be 0 to 9", env={"NEURO_DATA": "{d}/data"},
    setup=lambda d: (d / "data").mkdir() or _fmnist_folder(
        d / "data", labels=_idx_header(0x08, (20,)) + bytes([200] * 20)))  # fmt: skip
cli("data-too-small", FM, "too small to train on", env={"NEURO_DATA": "{d}/data"},
    setup=lambda d: (d / "data").mkdir() or _fmnist_folder(d / "data", n_train=3))  # fmt: skip
cli("data-one-class", FM, "one class only", env={"NEURO_DATA": "{d}/data"},
    setup=lambda d: (d / "data").mkdir() or _fmnist_folder(
        d / "data", labels=_idx_header(0x08, (20,)) + bytes(20)))  # fmt: skip
cli("data-no-test-images", FM, "too small to train on", env={"NEURO_DATA": "{d}/data"},
    setup=lambda d: (d / "data").mkdir() or _fmnist_folder(d / "data", n_test=0))  # fmt: skip
cli("env-NEURO_CACHE-is-file", FM, "weight cache", env={"NEURO_CACHE": "{d}/cache",
    "NEURO_DATA": "{d}/data"}, setup=chain(w("cache", "x"), lambda d: (d / "data").mkdir()
    or _fmnist_folder(d / "data")))  # fmt: skip
cli("env-NEURO_CACHE-under-file", FM, "weight cache", env={"NEURO_CACHE": "{d}/cache/x",
    "NEURO_DATA": "{d}/data"}, setup=chain(w("cache", "x"), lambda d: (d / "data").mkdir()
    or _fmnist_folder(d / "data")))  # fmt: skip
# -- library calls: read_idx and device CSVs ------------------------------------------------
api("read-idx-directory", lambda d: read_idx(d), "cannot read IDX file")
api("read-idx-missing", lambda d: read_idx(d / "none"), "cannot read IDX file")
api("read-idx-labels-as-images", lambda d: read_idx(d / "l", expected_magic=IMG),
    "where 2051", setup=w("l", _idx_header(0x08, (3,)) + bytes(3)))  # fmt: skip
CSV_CASES = {
    "missing": (None, "does not exist"),
    "empty": ("", "matches no accepted CSV format"),
    "header-only": (PULSE_HEAD, "missing column 'cycle'; has []"),
    "not-utf8": (b"cycle,direction,pulse,conductance_S\n0,up,0,\xff\xfe\n", "not UTF-8"),
    "latin1-header": ("cycle,dir\u00e9ction,pulse,conductance_S\n".encode("latin-1"), "not UTF-8"),
    "nul-bytes": (b"cycle,direction,pulse,conductance_S\n0,up,0,1e-6\x00\n", "must be numeric"),
    "inf": (GOOD_PULSES.replace("2e-06", "inf", 1), "infinite value at line"),
    "minus-inf": (GOOD_PULSES.replace("2e-06", "-inf", 1), "infinite value"),
    "nan": (GOOD_PULSES.replace("2e-06", "nan", 1), "NaN/empty"),
    "negative": (GOOD_PULSES.replace("2e-06", "-2e-06", 1), "must be in [0, 1] S"),
    "absurd": (GOOD_PULSES.replace("2e-06", "3e5", 1), "must be in [0, 1] S"),
    "text-value": (GOOD_PULSES.replace("2e-06", "two", 1), "must be numeric"),
    "negative-pulse": (GOOD_PULSES.replace("0,up,1,", "0,up,-1,", 1), "'pulse' must be >= 0"),
    "pulse-inf": (GOOD_PULSES.replace("0,up,1,", "0,up,inf,", 1), "infinite value"),
    "bad-direction": (GOOD_PULSES.replace("up", "sideways", 1), "'up' or 'down'"),
    "one-pulse": (PULSE_HEAD + "0,up,0,1e-6\n0,down,0,2e-6\n", "at least 2 pulses"),
    "pulse-gap": (GOOD_PULSES.replace("0,up,2,", "0,up,7,", 1), "must count 0, 1, 2"),
    "prog-inf": ("target_S,mean_S,std_S\n1e-6,inf,0\n2e-6,2e-6,0\n", "infinite value"),
    "prog-negative-std": ("target_S,mean_S,std_S\n1e-6,1e-6,-1\n2e-6,2e-6,0\n", "must be >= 0"),
    "prog-absurd-F": ("target_F,mean_F,std_F\n1e-15,1,0\n2e-15,2e-15,0\n", "[0, 1e-06] F"),
    "prog-decreasing": ("target_S,mean_S,std_S\n2e-6,2e-6,0\n1e-6,1e-6,0\n", "strictly"),
}
for key, (content, msg) in CSV_CASES.items():
    api(f"device-csv-{key}", lambda d: Tabulated.from_csv(d / "dev.csv"), msg,
        setup=None if content is None else w("dev.csv", content))  # fmt: skip
api("device-csv-directory", lambda d: Tabulated.from_csv(d), "is a folder, not a CSV file")


def _sparse(name: str, size: int) -> Callable[[Path], None]:
    """A setup writing a CSV header, then a hole up to ``size`` bytes (no disk used)."""

    def setup(d: Path) -> None:
        with open(d / name, "wb") as fh:
            fh.write(PULSE_HEAD.encode())
            fh.seek(size)
            fh.write(b"\n")

    return setup


api("device-csv-huge", lambda d: Tabulated.from_csv(d / "dev.csv"), "a device table is at most",
    setup=_sparse("dev.csv", 65 << 20))  # fmt: skip
# -- archives through the library: second writer, reader of a half-created file -------------
api("archive-second-writer-symlink", lambda d: _two_writers(d, "link.h5"), "being written by pid",
    setup=chain(ok_archive, lambda d: (d / "link.h5").symlink_to(d / "ok.h5")))  # fmt: skip
api("archive-second-writer-hardlink", lambda d: _two_writers(d, "hard.h5"), "being written by",
    setup=chain(ok_archive, lambda d: os.link(d / "ok.h5", d / "hard.h5")))  # fmt: skip
api("archive-second-writer-relative", lambda d: _two_writers(d, "sub/../ok.h5"),
    "being written by", setup=chain(ok_archive, lambda d: (d / "sub").mkdir()))  # fmt: skip
api("archive-writer-on-directory", lambda d: Archive(d / "dir.h5", mode="a"), "Is a directory",
    setup=lambda d: (d / "dir.h5").mkdir())  # fmt: skip


def _two_writers(d: Path, other: str):
    with Archive(d / "ok.h5", mode="a"):
        Archive(d / other, mode="a")


# -- running one case -----------------------------------------------------------------------
@dataclasses.dataclass
class Outcome:
    code: int | None  # exit status (CLI) or None (library)
    message: str  # standard error (CLI) or the exception's text (library)
    error: BaseException | None
    traceback: bool
    written: list[str]
    peak_B: int


def _snapshot(root: Path) -> dict[str, str]:
    out = {}
    for p in sorted(root.rglob("*")):
        rel = str(p.relative_to(root))
        if p.is_symlink():
            out[rel] = "link:" + os.readlink(p)
        elif p.is_dir():
            out[rel] = "dir"
        elif not p.is_file():  # a FIFO: reading it would block
            out[rel] = "special"
        else:
            out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def _foreign() -> list[str]:
    """Brian 2 imported or a third-party excepthook (neither belongs to a refused input)."""
    out = ["brian2 imported"] if "brian2" in sys.modules else []
    return out + (
        [f"excepthook {sys.excepthook!r}"] if sys.excepthook is not sys.__excepthook__ else []
    )


@contextlib.contextmanager
def _env(values: dict[str, str], root: Path):
    old = {k: os.environ.get(k) for k in values}
    os.environ.update({k: v.replace("{d}", str(root)) for k, v in values.items()})
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def run_case(case: Case, root: Path) -> Outcome:
    """Set the case up in ``root``, run it, and say what happened."""
    if case.setup is not None:
        case.setup(root)
    before = _snapshot(root)
    foreign_before = _foreign()  # an earlier test in this process may have imported brian2
    err = io.StringIO()
    code, error, tb = None, None, False
    tracemalloc.start()
    try:
        with _env(case.env, root):
            if case.argv is not None:
                argv = [a.replace("{d}", str(root)) for a in case.argv]
                with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
                    try:
                        code = main(argv)
                    except SystemExit as exc:  # argparse --help and the like
                        code = exc.code if isinstance(exc.code, int) else 1
                message = err.getvalue()
                tb = "Traceback" in message
            else:
                try:
                    case.call(root)
                    message = ""
                except (ConfigError, DataError, ArchiveError) as exc:
                    error, message = exc, str(exc)
                except Exception as exc:  # noqa: BLE001 - counted as a traceback
                    error, message, tb = exc, traceback.format_exc(), True
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    after = _snapshot(root)
    written = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    written += [f for f in _foreign() if f not in foreign_before]
    return Outcome(code, message, error, tb, written, peak)


def _one_line(o: Outcome, case: Case) -> bool:
    lines = o.message.strip().splitlines()
    if case.argv is not None:
        return o.code == 2 and len(lines) == 1 and lines[0].startswith("error: ")
    return o.error is not None and not o.traceback and len(lines) == 1


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_malformed_input_refused_in_one_line(case, tmp_path):
    root = tmp_path / "w"
    root.mkdir()
    o = run_case(case, root)
    assert not o.traceback, o.message
    if case.argv is not None:
        assert o.code == 2, o.message
    else:
        assert o.error is not None, "accepted"
    lines = o.message.strip().splitlines()
    assert len(lines) == 1, o.message
    assert case.match in lines[0]
    assert o.written == [], o.written
    assert o.peak_B < MEMORY_LIMIT_B, f"peak {o.peak_B / 1e6:.0f} MB"


def test_enough_cases():
    assert len(CASES) >= 150
    assert len({c.id for c in CASES}) == len(CASES)


def test_unexpected_error_is_one_line_with_a_hint(monkeypatch, capsys):
    import neuro.cli as cli_module

    def boom(args):
        raise RuntimeError("kaput\nsecond line")

    parser = cli_module.build_parser

    def patched():
        p = parser()
        p._subparsers._group_actions[0].choices["roadmap"].set_defaults(func=boom)
        return p

    monkeypatch.setattr(cli_module, "build_parser", patched)
    assert main(["roadmap"]) == 1
    err = capsys.readouterr().err
    assert err == "error: unexpected RuntimeError: kaput (run with -v for the traceback)\n"
    assert main(["roadmap", "-v"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and err.strip().splitlines()[-1].endswith("-v for the traceback)")


def test_no_third_party_excepthook_and_no_brian2_at_start():
    code = (
        "import sys\n"
        "from neuro.cli import main\n"
        "main(['roadmap'])\n"
        "assert 'brian2' not in sys.modules, 'brian2 imported'\n"
        "assert sys.excepthook is sys.__excepthook__, sys.excepthook\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_damaged_runs_are_skipped_with_a_warning_and_rerun_on_resume(tmp_path, capsys):
    path = _archive(tmp_path / "a.h5", n=3)
    _damage(path, lambda f: _set(f["runs/r000002"].attrs, "config", "{oops"))
    with pytest.warns(
        UserWarning, match=r"skipped 1 damaged run\(s\): r000002 \(attribute 'config'"
    ):
        assert list(Archive(path).table()["run_id"]) == ["r000001", "r000003"]
    with pytest.warns(UserWarning, match="r000002"):
        assert Archive(path).run_keys() == {"k0", "k2"}  # k1 runs again on resume
    assert main(["archive", "ls", str(path)]) == 0
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and captured.err.startswith("warning: ")
    assert "r000003" in captured.out and "r000002" not in captured.out


@pytest.mark.parametrize("seed", range(30))
def test_scribbled_archive_is_read_or_refused_in_one_line(tmp_path, seed):
    """64-byte scribbles at 4 random places of an archive: every reader either works
    (warning about the damaged runs it skips) or says what is wrong in one line."""
    path = _archive(tmp_path / "a.h5", n=3)
    data = bytearray(path.read_bytes())
    rng = random.Random(seed)
    for _ in range(4):
        off = rng.randrange(len(data) - 64)
        data[off : off + 64] = rng.randbytes(64)
    path.write_bytes(bytes(data))
    for argv in (["ls"], ["show", "r000002"], ["export"]):
        argv = ["archive", argv[0], str(path), *argv[1:]]
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = main(argv)
        lines = err.getvalue().strip().splitlines()
        assert code in (0, 2), err.getvalue()
        assert all(ln.startswith(("error: ", "warning: ")) for ln in lines), err.getvalue()
        assert sum(ln.startswith("error: ") for ln in lines) == (code == 2)
        assert "unexpected" not in err.getvalue()


def test_half_written_groups_are_deleted_by_the_next_writer(tmp_path):
    path = _archive(tmp_path / "a.h5", n=1)
    with h5py.File(path, "a", locking=False) as f:
        for i in range(2, 5):
            f["runs"].create_group(f"r{i:06d}").attrs["run_key"] = f"half{i}"
    with Archive(path, mode="a") as ar:
        rid = ar.append(_result(9), run_key="k9")
    with h5py.File(path, "r") as f:
        assert sorted(f["runs"]) == ["r000001", rid]
    assert rid == "r000005"  # ids are never reused


def test_lock_file_of_another_is_not_truncated(tmp_path):
    path = tmp_path / "a.h5"
    precious = tmp_path / "precious.txt"
    precious.write_text("x" * 1000)
    os.link(precious, tmp_path / "a.h5.lock")  # a hard link planted where the lock goes
    with Archive(path, mode="a") as ar:
        ar.append(_result())
    assert precious.read_text() == "x" * 1000
    (tmp_path / "b.h5.lock").write_text("mine")  # a small file of someone else's
    with Archive(tmp_path / "b.h5", mode="a") as ar:
        ar.append(_result())
    assert (tmp_path / "b.h5.lock").read_text() == "mine"


def test_reader_sees_whole_runs_while_a_writer_appends(tmp_path):
    """Readers during appends: every read gives a consistent count, never a raw error."""
    path = tmp_path / "a.h5"
    code = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {os.path.dirname(__file__)!r})
        from test_fuzz import _result
        from neuro.archive import Archive
        with Archive({str(path)!r}, mode="a") as ar:
            print("open", flush=True)
            for i in range(40):
                ar.append(_result(i), run_key=f"k{{i}}")
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "open"
    counts = []
    while proc.poll() is None:
        runs = Archive(path).runs()
        assert runs == [f"r{i:06d}" for i in range(1, len(runs) + 1)]
        counts.append(len(runs))
        time.sleep(0.005)
    proc.wait()
    assert proc.returncode == 0
    assert counts == sorted(counts) and len(Archive(path).runs()) == 40


# -- crash test -----------------------------------------------------------------------------
SWEEPER = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, {tests!r})
    from test_fuzz import _result
    from neuro.archive import Archive, ArchiveLockedError
    keys = [f"k{{i}}" for i in range({n})]
    while True:
        try:
            ar = Archive(sys.argv[1], mode="a")
            break
        except ArchiveLockedError:
            time.sleep(0.01)
    with ar:
        print("open", flush=True)
        done = ar.run_keys()
        for i, key in enumerate(keys):
            if key in done:
                continue
            ar.append(_result(i), run_key=key)
            print(key, flush=True)
            time.sleep(0.01)
    print("done", flush=True)
    """
)


@pytest.mark.slow
def test_sigkill_at_random_moments_loses_and_duplicates_nothing(tmp_path):
    """Sweeps of N runs killed at random moments, two writers at once (one through a
    symlink), resumed until done: every run once, every reported run kept."""
    rounds_wanted = int(os.environ.get("NEURO_CRASH_ROUNDS", "4"))
    n = 15 * rounds_wanted
    real = tmp_path / "real.h5"
    link = tmp_path / "link.h5"
    link.symlink_to(real)
    script = tmp_path / "sweeper.py"
    script.write_text(SWEEPER.format(tests=os.path.dirname(__file__), n=n))
    rng = random.Random(17)
    reported: set[str] = set()
    kills = rounds = 0
    t_end = time.monotonic() + 15 * rounds_wanted
    finished = False
    while not finished and rounds < rounds_wanted and time.monotonic() < t_end:
        rounds += 1
        procs = [
            subprocess.Popen(
                [sys.executable, str(script), str(p)], stdout=subprocess.PIPE, text=True
            )  # fmt: skip
            for p in rng.sample([real, link], 2)
        ]
        outs = {p: [] for p in procs}
        # wait for the first sign of life (python start-up is seconds on a loaded machine)
        ready, _, _ = select.select([p.stdout for p in procs], [], [], 60)
        for p in procs:
            if p.stdout in ready:
                outs[p].append(p.stdout.readline().strip())
        for p in procs:  # then kill each at a random moment of its sweep
            time.sleep(rng.uniform(0.0, 0.4))
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
                kills += 1
        for p in procs:
            out, _ = p.communicate()
            lines = outs[p] + out.split()
            reported |= {ln for ln in lines if ln.startswith("k")}
            finished |= "done" in lines
    # finish the sweep without kills
    for p in (real, link):
        subprocess.run([sys.executable, str(script), str(p)], check=True, capture_output=True)
    table = Archive(real).table()
    keys = Archive(real).run_keys()
    seeds = list(table["seed"])
    lost = reported - keys
    duplicates = len(seeds) - len(set(seeds))
    print(f"crash test: {rounds} rounds, {kills} kills, {len(reported)} runs reported before "
          f"a kill, {len(lost)} lost, {duplicates} duplicated, {len(seeds)} runs in the end")  # fmt: skip
    assert kills >= 2
    assert lost == set()
    assert duplicates == 0
    assert sorted(seeds) == list(range(n))
    for rid in Archive(real).runs():
        Archive(real).get(rid)


if __name__ == "__main__":  # the counts for the closing note
    counts = {"inputs": 0, "one-line errors": 0, "tracebacks": 0, "files written": 0,
              "accepted": 0, "over memory": 0}  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        for i, case in enumerate(CASES):
            root = Path(tmp) / str(i)
            root.mkdir()
            o = run_case(case, root)
            counts["inputs"] += 1
            counts["one-line errors"] += _one_line(o, case) and case.match in o.message
            counts["tracebacks"] += o.traceback
            counts["files written"] += bool(o.written)
            counts["accepted"] += case.argv is None and o.error is None
            counts["over memory"] += o.peak_B >= MEMORY_LIMIT_B
            if not (_one_line(o, case) and case.match in o.message) or o.written:
                print(f"{case.id}: code {o.code}, written {o.written}: {o.message.strip()[:300]}")
    print(counts)
