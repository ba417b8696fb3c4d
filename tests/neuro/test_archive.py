"""The HDF5 archive: round trip, table, lock, and surviving a SIGKILL between runs."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import textwrap
import time

import h5py
import numpy as np
import pytest

from neuro.archive import SCHEMA_VERSION, Archive, ArchiveError, ArchiveLockedError
from neuro.result import Curve, Result


def _result(i: int = 0) -> Result:
    return Result(
        workload="mlp-digits",
        target="aimc:pcm",
        seed=i,
        ops_per_inference=4736.0,
        accuracy=0.9 + i / 1000,
        accuracy_std=0.01,
        energy_per_inference=3e-9,
        latency=1e-6,
        throughput=1e6,
        area=2e-8,
        energy_breakdown={"cell_read": 1e-9, "adc": 2e-9},
        layers=[
            {
                "name": "1",
                "kind": "linear",
                "macs": 2048,
                "shape": [64, 32],
                "bias": True,
                "x": None,
            },
            {
                "name": "3",
                "kind": "linear",
                "macs": 320,
                "shape": [32, 10],
                "bias": False,
                "x": 1.5,
            },
        ],
        curves={"accuracy_vs_time": Curve([1, 3600], [0.95, 0.9], "t_s", "accuracy", [0.01, 0.02])},
        config={"device": "pcm", "adc_bits": 8, "times_s": (1.0, 3600.0)},
        provenance={"started": "t0", "finished": "t1", "host": "h"},
        batch_size=16,
        extra={"cells": 2368.0},
    )


def test_round_trip(tmp_path):
    path = tmp_path / "a.h5"
    with Archive(path, mode="a") as ar:
        rid = ar.append(_result(), run_key="k0")
    back = Archive(path).get(rid)
    ref = _result()
    for name in ("workload", "target", "seed", "accuracy", "accuracy_std", "energy_per_inference",
                 "latency", "throughput", "area", "ops_per_inference", "batch_size", "extra",
                 "energy_breakdown", "layers", "provenance"):  # fmt: skip
        assert getattr(back, name) == getattr(ref, name), name
    assert back.config == {"device": "pcm", "adc_bits": 8, "times_s": [1.0, 3600.0]}
    c = back.curves["accuracy_vs_time"]
    np.testing.assert_array_equal(c.x, [1, 3600])
    np.testing.assert_array_equal(c.y_std, [0.01, 0.02])
    assert (c.x_label, c.y_label) == ("t_s", "accuracy")
    assert math.isclose(back.efficiency, 4736 / 3e-9)


def test_layout_is_plain_hdf5(tmp_path):
    path = tmp_path / "a.h5"
    with Archive(path, mode="a") as ar:
        ar.append(_result())
    with h5py.File(path, "r") as f:
        assert f.attrs["schema_version"] == SCHEMA_VERSION
        g = f["runs/r000001"]
        assert g.attrs["status"] == "complete"
        assert g["metrics/energy_per_inference"][()] == 3e-9
        assert g["metrics/energy_per_inference"].attrs["unit"] == "J"
        assert g["layers/macs"].dtype == np.int64
        assert list(g["curves/accuracy_vs_time/y"][()]) == [0.95, 0.9]


def test_table_has_one_row_per_run(tmp_path):
    path = tmp_path / "a.h5"
    with Archive(path, mode="a") as ar:
        for i in range(3):
            ar.append(_result(i), run_key=f"k{i}")
        ar.append_failure(workload="w", target="t", seed=9, error="boom")
    ar = Archive(path)
    table = ar.table()
    assert list(table["seed"]) == [0, 1, 2]
    assert {"workload", "target", "seed", "accuracy", "energy_per_inference", "efficiency",
            "energy_adc", "cells"} <= set(table.columns)  # fmt: skip
    assert table["efficiency"].iloc[0] == pytest.approx(4736 / 3e-9)
    assert ar.runs() == ["r000001", "r000002", "r000003"]
    assert len(ar.runs(include_failed=True)) == 4
    full = ar.table(include_failed=True)
    assert full["error"].iloc[3] == "boom"
    assert ar.run_keys() == {"k0", "k1", "k2"}


def test_none_metrics_stay_none(tmp_path):
    r = Result(workload="w", target="reference", seed=0, ops_per_inference=10.0, accuracy=0.5)
    with Archive(tmp_path / "a.h5", mode="a") as ar:
        rid = ar.append(r)
    back = Archive(tmp_path / "a.h5").get(rid)
    assert back.energy_per_inference is None and back.efficiency is None and back.area is None


def test_second_writer_is_refused(tmp_path):
    path = tmp_path / "a.h5"
    with Archive(path, mode="a"):
        code = f"from neuro.archive import Archive; Archive({str(path)!r}, mode='a')"
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert proc.returncode != 0
        assert (
            "ArchiveLockedError" in proc.stderr
            and f"being written by pid {os.getpid()}" in proc.stderr
        )
        with pytest.raises(ArchiveLockedError, match="is being written by pid"):
            Archive(path, mode="a")
        # readers are not blocked
        assert Archive(path).runs() == []
    with Archive(path, mode="a"):  # released
        pass


def test_reader_errors(tmp_path):
    with pytest.raises(ArchiveError, match="no such archive"):
        Archive(tmp_path / "missing.h5")
    (tmp_path / "junk.h5").write_bytes(b"not hdf5")
    with pytest.raises(ArchiveError, match="cannot open as HDF5"):
        Archive(tmp_path / "junk.h5")
    with h5py.File(tmp_path / "other.h5", "w"):
        pass
    with pytest.raises(ArchiveError, match="not a neuro-cosim archive"):
        Archive(tmp_path / "other.h5")
    with h5py.File(tmp_path / "future.h5", "w") as f:
        f.attrs["schema_version"] = SCHEMA_VERSION + 1
    with pytest.raises(ArchiveError, match="newer than this"):
        Archive(tmp_path / "future.h5")
    with pytest.raises(ValueError, match="Archive.mode must be 'r' or 'a'; got 'w'"):
        Archive(tmp_path / "x.h5", mode="w")
    with Archive(tmp_path / "ok.h5", mode="a") as ar:
        ar.append(_result())
    with pytest.raises(KeyError, match="no completed run 'r9'"):
        Archive(tmp_path / "ok.h5").get("r9")
    with pytest.raises(ArchiveError, match="opened for reading"):
        Archive(tmp_path / "ok.h5").append(_result())


def test_incomplete_group_is_invisible_and_replaced(tmp_path):
    path = tmp_path / "a.h5"
    with Archive(path, mode="a") as ar:
        ar.append(_result(0), run_key="k0")
    with h5py.File(path, "a") as f:  # a write cut short: a group without status
        f["runs"].create_group("r000002").attrs["run_key"] = "k1"
    ar = Archive(path)
    assert ar.runs() == ["r000001"] and len(ar.table()) == 1
    with Archive(path, mode="a") as ar:
        rid = ar.append(_result(1), run_key="k1")
    with h5py.File(path, "r") as f:
        assert sorted(f["runs"]) == ["r000001", rid]
    assert Archive(path).run_keys() == {"k0", "k1"}


WRITER = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, {tests!r})
    from test_archive import _result
    from neuro.archive import Archive
    with Archive({path!r}, mode="a") as ar:
        for i in range(1000):
            ar.append(_result(i), run_key=f"k{{i}}")
            print(i, flush=True)
            time.sleep(0.05)
    """
)


def test_sigkill_between_runs_keeps_every_completed_run(tmp_path):
    path = tmp_path / "killed.h5"
    code = WRITER.format(tests=os.path.dirname(__file__), path=str(path))
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    written = []
    deadline = time.monotonic() + 60
    while len(written) < 5 and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        written.append(int(line))
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert len(written) == 5, "writer did not report 5 runs"
    ar = Archive(path)
    table = ar.table()
    # Every run reported as written is there; at most one more may have completed.
    assert set(range(5)) <= set(table["seed"])
    assert len(table) in (5, 6)
    for rid in ar.runs():
        ar.get(rid)  # every completed run reads back in full
    with Archive(path, mode="a") as ar2:  # the kernel released the dead writer's lock
        ar2.append(_result(99))
    assert 99 in set(Archive(path).table()["seed"])
