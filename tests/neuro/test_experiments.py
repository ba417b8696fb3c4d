"""Experiment specs: validation, expansion, resume after SIGKILL, and Dask."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from devices.validation import ConfigError
from neuro.archive import Archive
from neuro.cli import main
from neuro.experiments import load_spec, parse_spec, run_experiment

SPEC = """
name = "t"
workloads = ["mlp-digits"]
targets = ["reference"]
seeds = 2
quick = true
[grid.reference]
batch_size = [8, 16]
"""


def _spec(tmp_path, text=SPEC):
    p = tmp_path / "s.toml"
    p.write_text(text)
    return p


def test_expansion_and_keys(tmp_path):
    spec = load_spec(_spec(tmp_path))
    runs = spec.runs()
    assert [(r.seed, r.options["batch_size"]) for r in runs] == [(0, 8), (1, 8), (0, 16), (1, 16)]
    assert all(r.options["repeats"] == 2 for r in runs)  # the quick options
    assert len({r.key for r in runs}) == 4
    assert [r.key for r in load_spec(_spec(tmp_path)).runs()] == [r.key for r in runs]


@pytest.mark.parametrize(
    "change, message",
    [
        ({"colour": "red"}, "spec key 'colour' is unknown; valid: name"),
        ({"name": 3}, "spec.name must be a non-empty string; got 3"),
        (
            {"targets": "reference"},
            "spec.targets must be a non-empty list of strings; got 'reference'",
        ),
        ({"workloads": ["nope"]}, "unknown workload 'nope'"),
        ({"targets": ["aimc:nope"]}, "unknown target 'aimc:nope'"),
        ({"seeds": -1}, "spec.seeds must be a positive integer or a non-empty list"),
        ({"quick": "yes"}, "spec.quick must be true or false; got 'yes'"),
        ({"grid": {"npu": {"x": [1]}}}, "spec.grid.npu names no target of this spec"),
        (
            {"grid": {"reference": {"batch_size": 8}}},
            "spec.grid.reference.batch_size must be a non-empty list",
        ),
        (
            {"grid": {"reference": {"nope": [1]}}},
            "spec 't': target 'reference' has no option 'nope'",
        ),
        (
            {"grid": {"reference": {"batch_size": [0]}}},
            "ReferenceConfig.batch_size must be an integer in",
        ),
    ],
)
def test_spec_errors_name_the_key(change, message):
    data = {"name": "t", "workloads": ["mlp-digits"], "targets": ["reference"], **change}
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_spec(data)


def test_cli_run_bad_spec_exits_2_and_writes_nothing(tmp_path, capsys):
    bad = _spec(tmp_path, SPEC.replace('targets = ["reference"]', 'targets = ["warp:9"]'))
    out = tmp_path / "o.h5"
    assert main(["run", str(bad), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "unknown target 'warp:9'" in err and len(err.strip().splitlines()) == 1
    assert not out.exists()
    assert main(["run", str(tmp_path / "missing.toml"), "--out", str(out)]) == 2
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "broken.toml").write_text("name = [")
    assert main(["run", str(tmp_path / "broken.toml"), "--out", str(out)]) == 2
    assert "invalid TOML" in capsys.readouterr().err
    assert main(["run", str(_spec(tmp_path)), "--out", str(out), "--workers", "0"]) == 2
    assert not out.exists()


def test_resume_runs_only_what_is_missing(tmp_path):
    spec = load_spec(_spec(tmp_path))
    out = tmp_path / "o.h5"
    first = run_experiment(spec, out)
    assert (first.total, first.skipped, first.completed) == (4, 0, 4)
    again = run_experiment(spec, out)
    assert (again.skipped, again.completed) == (4, 0)
    assert len(Archive(out).runs()) == 4


@pytest.mark.slow
def test_sigkill_mid_sweep_then_resume_without_duplicates(tmp_path):
    text = SPEC.replace("seeds = 2", "seeds = 6")
    spec_path = _spec(tmp_path, text)
    out = tmp_path / "o.h5"
    cmd = [sys.executable, "-m", "neuro", "run", str(spec_path), "--out", str(out)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    # each run's status is progress: a log line on stderr (the summary is on stdout)
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
                            env=env)  # fmt: skip
    seen = 0
    deadline = time.monotonic() + 120
    while seen < 3 and time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        seen += line.startswith("complete:")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert seen == 3
    done_before = len(Archive(out).runs())
    assert 3 <= done_before < 12
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert f"12 runs, {done_before} already in" in proc.stdout
    table = Archive(out).table()
    assert len(table) == 12
    assert Archive(out).run_keys() == {r.key for r in load_spec(spec_path).runs()}


@pytest.mark.slow
def test_dask_local_cluster_of_two_workers(tmp_path):
    pytest.importorskip("dask.distributed")
    spec = load_spec(_spec(tmp_path))
    serial, parallel = tmp_path / "serial.h5", tmp_path / "dask.h5"
    run_experiment(spec, serial)
    summary = run_experiment(spec, parallel, workers=2)
    assert summary.completed == 4 and summary.failed == 0
    a, b = Archive(serial).table(), Archive(parallel).table()
    key = ["seed", "batch_size"]
    a, b = a.sort_values(key).reset_index(drop=True), b.sort_values(key).reset_index(drop=True)
    assert list(a["accuracy"]) == list(b["accuracy"])  # same numbers wherever a run executes
    assert Archive(parallel).run_keys() == Archive(serial).run_keys()


def test_failed_runs_are_archived_and_retried(tmp_path, monkeypatch):
    from neuro.experiments import runner

    spec = load_spec(_spec(tmp_path))
    out = tmp_path / "o.h5"
    real = runner.execute
    calls = {"n": 0}

    def flaky(run):
        calls["n"] += 1
        if run.seed == 1:
            raise RuntimeError("device fault")
        return real(run)

    monkeypatch.setattr(runner, "execute", flaky)
    summary = run_experiment(spec, out)
    assert (summary.completed, summary.failed) == (2, 2)
    full = Archive(out).table(include_failed=True)
    assert "RuntimeError: device fault" in full[full["status"] == "failed"]["error"].iloc[0]
    monkeypatch.setattr(runner, "execute", real)
    summary = run_experiment(spec, out)
    assert (summary.skipped, summary.completed) == (2, 2)
    assert len(Archive(out).runs()) == 4


# -- bounded, duplicate-free sweeps -----------------------------------------------------------
BASE = {"name": "t", "workloads": ["mlp-digits"], "targets": ["reference"]}


@pytest.mark.parametrize(
    "change, message",
    [
        ({"seeds": [3, 1, 3]}, "spec.seeds lists 3 twice; give each value once"),
        ({"targets": ["reference", "reference"]}, "spec.targets lists 'reference' twice"),
        ({"workloads": ["mlp-digits"] * 2}, "spec.workloads lists 'mlp-digits' twice"),
        (
            {"grid": {"reference": {"batch_size": [8, 16, 8]}}},
            "spec.grid.reference.batch_size lists 8 twice",
        ),
        ({"seeds": [2**32]}, r"spec.seeds must be an integer in \[0, 4294967295\]; got 4294967296"),
        ({"seeds": 10**12}, "asks for 1000000000000 seeds, more than the limit of 100000 runs"),
        (
            {"seeds": 1000, "grid": {"reference": {"batch_size": list(range(1, 201))}}},
            "spec 't' expands to 200,000 runs, more than the limit of 100,000; split it",
        ),
    ],
)
def test_duplicates_and_oversized_specs_are_refused(change, message):
    with pytest.raises(ConfigError, match=message):
        parse_spec({**BASE, **change})


def test_run_count_before_expansion_and_configurable_limit():
    data = {**BASE, "seeds": 3, "grid": {"reference": {"batch_size": [8, 16]}}}
    spec = parse_spec(data)
    assert spec.count() == 6 == len(spec.runs())
    with pytest.raises(ConfigError, match="expands to 6 runs, more than the limit of 5"):
        parse_spec(data, max_runs=5)
    with pytest.raises(ConfigError, match="max_runs must be an integer >= 1; got 0"):
        parse_spec(data, max_runs=0)
    with pytest.raises(ConfigError, match="spec must be a table of keys; got list"):
        parse_spec([])  # type: ignore[arg-type]


def test_equal_configurations_are_one_run():
    with pytest.raises(ConfigError, match="spec.grid.reference.batch_size lists 8.0 twice"):
        parse_spec({**BASE, "grid": {"reference": {"batch_size": [8, 8.0]}}})
    data = {**BASE, "targets": ["aimc:pcm"], "grid": {"aimc": {"times_s": [[1], [1.0]]}}}
    spec = parse_spec(data)
    assert spec.count() == 2 and len(spec.runs()) == 1  # both build times_s = (1.0,)


def test_check_seed():
    from neuro.experiments.spec import MAX_SEED, check_seed

    assert check_seed(0) == 0 and check_seed(MAX_SEED) == MAX_SEED
    for bad in (-1, MAX_SEED + 1, 1.0, True, "3"):
        with pytest.raises(ConfigError, match=r"--seed must be an integer in \[0, 4294967295\]"):
            check_seed(bad, "--seed")


def test_spec_file_errors(tmp_path):
    (tmp_path / "d.toml").mkdir()
    with pytest.raises(ConfigError, match="is a folder, not a TOML file"):
        load_spec(tmp_path / "d.toml")
    (tmp_path / "b.toml").write_bytes(b'name = "\xff"\n')
    with pytest.raises(ConfigError, match=r"b.toml: not UTF-8 text \(byte 8"):
        load_spec(tmp_path / "b.toml")
    (tmp_path / "h.toml").write_text("#" * (1 << 20) + "\n")
    with pytest.raises(ConfigError, match="a spec is at most 1,048,576"):
        load_spec(tmp_path / "h.toml")


# -- distributed runs -------------------------------------------------------------------------
@pytest.mark.parametrize("address", ["tcp://127.0.0.1:8786", "127.0.0.1:8786", "tls://h.example:1"])
def test_scheduler_address_accepted(address):
    from neuro.experiments.runner import check_scheduler_address

    assert check_scheduler_address(address) == address


@pytest.mark.parametrize("address", ["nope", "tcp://host", "tcp://h:0", "http://h:80", "h o:1"])
def test_scheduler_address_refused(address):
    from neuro.experiments.runner import check_scheduler_address

    with pytest.raises(ConfigError, match=r"--scheduler must be \[tcp://\]host:port"):
        check_scheduler_address(address)


@pytest.mark.slow
def test_unreachable_scheduler_fails_fast_and_writes_nothing(tmp_path):
    pytest.importorskip("dask.distributed")
    spec = load_spec(_spec(tmp_path))
    out = tmp_path / "o.h5"
    with socket_closed_port() as port:
        t0 = time.monotonic()
        with pytest.raises(ConfigError, match=r"no Dask scheduler answered within 5 s"):
            run_experiment(spec, out, scheduler=f"tcp://127.0.0.1:{port}")
        assert time.monotonic() - t0 < 30
    assert not out.exists() and not (tmp_path / "o.h5.lock").exists()


def socket_closed_port():
    """A context manager giving a local TCP port nobody listens on."""
    import contextlib
    import socket

    @contextlib.contextmanager
    def cm():
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        yield port

    return cm()


def test_local_cluster_binds_to_localhost_without_dashboard(monkeypatch):
    pytest.importorskip("dask.distributed")
    import dask.distributed

    from neuro.experiments import runner

    seen = {}

    class FakeCluster:
        def __init__(self, **kwargs):
            seen.update(kwargs)

        def close(self):
            pass

    monkeypatch.setattr(dask.distributed, "LocalCluster", FakeCluster)
    monkeypatch.setattr(dask.distributed, "Client", lambda cluster: ("client", cluster))
    runner._client(2, None)
    assert seen["host"] == "127.0.0.1" and seen["dashboard_address"] is None
    runner._client(2, None, "127.0.0.1:8787")
    assert seen["dashboard_address"] == "127.0.0.1:8787"


def test_cli_run_states_the_run_count_first(tmp_path, capsys):
    out = tmp_path / "o.h5"
    assert main(["run", str(_spec(tmp_path)), "--out", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "t: 4 runs"
    assert lines[-1] == f"t: 4 runs, 0 already in {out}, 4 completed, 0 failed"
