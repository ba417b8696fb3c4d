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


# -- one writer per file, whatever its name ---------------------------------------------------
@pytest.mark.parametrize("alias", ["symlink", "hardlink", "dotdot", "symlinked-folder"])
def test_second_writer_through_another_name_is_refused(tmp_path, alias):
    path = tmp_path / "a.h5"
    with Archive(path, mode="a") as ar:
        ar.append(_result())
    (tmp_path / "sub").mkdir()
    other = {
        "symlink": tmp_path / "link.h5",
        "hardlink": tmp_path / "hard.h5",
        "dotdot": tmp_path / "sub" / ".." / "a.h5",
        "symlinked-folder": tmp_path / "dirlink" / "a.h5",
    }[alias]
    if alias == "symlink":
        other.symlink_to(path)
    elif alias == "hardlink":
        os.link(path, other)
    elif alias == "symlinked-folder":
        (tmp_path / "dirlink").symlink_to(tmp_path)
    with Archive(path, mode="a"):
        # (through a hard link the lock file, named after the path, cannot name the holder)
        holder = "another process" if alias == "hardlink" else f"pid {os.getpid()}"
        with pytest.raises(ArchiveLockedError, match=f"being written by {holder}"):
            Archive(other, mode="a")
    with Archive(other, mode="a") as ar:  # released: the alias writes the same file
        ar.append(_result(1))
    assert sorted(Archive(path).table()["seed"]) == [0, 1]


def test_writer_creates_and_keeps_one_inode(tmp_path):
    path = tmp_path / "new" / "a.h5"
    with Archive(path, mode="a") as ar:
        ino = path.stat().st_ino
        ar.append(_result())
    assert path.stat().st_ino == ino  # the lock sits on the inode: it must never change
    assert Archive(path).runs() == ["r000001"]
    assert (tmp_path / "new" / "a.h5.lock").read_text() == f"pid {os.getpid()}"


def test_lock_file_symlink_is_refused_and_not_followed(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    (tmp_path / "a.h5.lock").symlink_to(victim)
    with pytest.raises(ArchiveError, match="lock file is a symlink; refusing to follow it"):
        Archive(tmp_path / "a.h5", mode="a")
    assert victim.read_text() == "keep me"
    assert not (tmp_path / "a.h5").exists()  # the writer that failed to start left nothing


def test_writer_refuses_a_fifo(tmp_path):
    fifo = tmp_path / "a.h5"
    os.mkfifo(fifo)
    with pytest.raises(ArchiveError, match="not a regular file"):
        Archive(fifo, mode="a")


def test_reader_waits_for_an_append_then_says_being_written(tmp_path, monkeypatch):
    import fcntl

    import neuro.archive as archive_module

    path = tmp_path / "a.h5"
    with Archive(path, mode="a") as ar:
        ar.append(_result())
    monkeypatch.setattr(archive_module, "READ_WAIT_S", 0.05)
    with open(tmp_path / "a.h5.lock") as fh:  # an append in progress holds it exclusively
        fcntl.flock(fh, fcntl.LOCK_EX)
        with pytest.raises(ArchiveError, match=r"archive is being written \(an append held it"):
            Archive(path).runs()
        fcntl.flock(fh, fcntl.LOCK_UN)
    assert Archive(path).runs() == ["r000001"]


def test_check_writable(tmp_path, monkeypatch):
    from neuro.archive import check_writable

    assert check_writable(tmp_path / "x" / "y" / "a.h5") == tmp_path / "x" / "y" / "a.h5"
    assert not (tmp_path / "x").exists()  # the check creates nothing
    (tmp_path / "f").write_text("x")
    with pytest.raises(ArchiveError, match=r"--out '.*f/a.h5': .*/f is a file, not a folder"):
        check_writable(tmp_path / "f" / "a.h5")
    with pytest.raises(ArchiveError, match="--out must be a file; got the directory"):
        check_writable(tmp_path)
    (tmp_path / "dead").symlink_to(tmp_path / "nowhere")
    with pytest.raises(ArchiveError, match="is a symlink to nothing"):
        check_writable(tmp_path / "dead")
    with pytest.raises(ArchiveError, match=r"dead is a symlink to nothing"):
        check_writable(tmp_path / "dead" / "a.h5")
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(ArchiveError, match="is not a regular file"):
        check_writable(tmp_path / "fifo")
    with pytest.raises(ArchiveError, match=r"cannot create files in /proc"):
        check_writable("/proc/neuro-test.h5")
    import neuro.archive as archive_module

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(archive_module.os, "open", refuse)
    with pytest.raises(
        ArchiveError, match=r"--output '.*f' cannot be written \(Permission denied\)"
    ):
        check_writable(tmp_path / "f", what="--output")


# -- damaged archives are read defensively ----------------------------------------------------
def test_damaged_run_is_named_skipped_and_not_resumed(tmp_path):
    path = tmp_path / "a.h5"
    with Archive(path, mode="a") as ar:
        for i in range(3):
            ar.append(_result(i), run_key=f"k{i}")
    with h5py.File(path, "a") as f:
        m = f["runs/r000002/metrics"]
        del m["accuracy"]
        m.create_dataset("accuracy", data="high")
    with pytest.raises(
        ArchiveError, match="run r000002 is damaged: metric 'accuracy' is not a number"
    ):
        Archive(path).get("r000002")
    with pytest.warns(UserWarning, match=r"skipped 1 damaged run\(s\): r000002 \(metric"):
        assert Archive(path).runs() == ["r000001", "r000003"]
    with Archive(path, mode="a") as ar, pytest.warns(UserWarning, match="r000002"):
        assert ar.run_keys() == {"k0", "k2"}


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda f: f.attrs.__delitem__("schema_version"), "no schema_version"),
        (lambda f: f.attrs.__setitem__("schema_version", "x"), "bad schema_version 'x'"),
        (lambda f: f.attrs.__setitem__("schema_version", -1), "bad schema_version -1"),
        (lambda f: f.__delitem__("runs"), r"damaged archive \(no /runs group\)"),
    ],
)
def test_damaged_file_is_one_line(tmp_path, damage, message):
    path = tmp_path / "a.h5"
    with Archive(path, mode="a") as ar:
        ar.append(_result())
    with h5py.File(path, "a") as f:
        damage(f)
    with pytest.raises(ArchiveError, match=message) as info:
        Archive(path).table()
    assert "\n" not in str(info.value)
    with pytest.raises(ArchiveError, match=message):
        Archive(path, mode="a")


def test_a_result_that_cannot_be_written_leaves_no_group(tmp_path):
    path = tmp_path / "a.h5"
    bad = _result()
    bad.extra = {"x": "not a number"}
    with Archive(path, mode="a") as ar:
        with pytest.raises(ValueError, match="could not convert string to float"):
            ar.append(bad)
        rid = ar.append(_result(1))
    with h5py.File(path, "r") as f:
        assert list(f["runs"]) == [rid]
