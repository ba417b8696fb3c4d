"""The command line starts without the heavy libraries and behaves: bare ``neuro``, help with
defaults, ``-q``/``-v`` logging, ``--set`` target options, lazy package names.

Whether a library is imported is checked in a fresh interpreter (``sys.modules``), never by
timing (experiments/benchmarks/bench_cli.py times the start).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import pytest

from neuro.cli import DEFAULT_WORKLOAD, build_parser, main, parse_set

HEAVY = ("torch", "pandas", "matplotlib", "brian2", "scipy", "h5py")


def _imported(code: str, tmp_path) -> dict[str, bool]:
    """Run ``code`` in a fresh interpreter; which of :data:`HEAVY` it imported."""
    probe = (
        f"{code}\nimport json, sys\nprint(json.dumps({{m: m in sys.modules for m in {HEAVY!r}}}))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path,
        env={"NEURO_HOME": str(tmp_path / "home"), "PATH": "", "OMP_NUM_THREADS": "1"},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_import_neuro_imports_no_heavy_library(tmp_path):
    assert _imported("import neuro, devices, crossbar, npu, snn", tmp_path) == dict.fromkeys(
        HEAVY, False
    )


def test_help_imports_no_heavy_library(tmp_path):
    code = (
        "import contextlib, io\nfrom neuro.cli import main\n"
        "for argv in (['--help'], ['compare', '--help'], ['archive', 'ls', '--help'], []):\n"
        "    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):\n"
        "        try:\n            main(argv)\n        except SystemExit:\n            pass"
    )
    assert _imported(code, tmp_path) == dict.fromkeys(HEAVY, False)


def test_archive_ls_imports_neither_torch_nor_pandas(tmp_path):
    from neuro.archive import Archive
    from neuro.result import Result

    path = tmp_path / "a.h5"
    with Archive(path, mode="a") as ar:
        ar.append(Result(workload="w", target="reference", seed=0, ops_per_inference=1.0))
    code = f"from neuro.cli import main\nassert main(['archive', 'ls', {str(path)!r}]) == 0"
    imported = _imported(code, tmp_path)
    assert imported["h5py"]  # it reads the file
    assert not any(imported[m] for m in ("torch", "pandas", "matplotlib", "brian2", "scipy"))


def test_lazy_package_names_keep_the_public_api():
    import crossbar
    import devices
    import neuro
    import npu

    assert {"get", "names", "PCM", "REGISTRY"} <= set(dir(devices))
    from crossbar import Crossbar, CrossbarConfig  # noqa: F401
    from devices import PCM, ConfigError

    assert isinstance(devices.get("pcm"), PCM)
    assert devices.REGISTRY is devices.catalog.REGISTRY
    assert neuro.ConfigError is ConfigError and neuro.Archive.__name__ == "Archive"
    assert "ab9" in npu.presets.names("target") and crossbar.COMPONENTS
    # every public name, caching and unknown names: tests/devices/test_lazy.py


def test_lazy_module_proxy_imports_on_first_use():
    from neuro._lazy import lazy_module

    mod = lazy_module("json")
    assert "not imported yet" in repr(mod)
    assert mod.dumps([1]) == "[1]" and "(imported)" in repr(mod)


def test_default_workload_is_the_compare_one():
    from neuro.compare import DEFAULT_TARGETS
    from neuro.compare import DEFAULT_WORKLOAD as COMPARE_DEFAULT

    assert DEFAULT_WORKLOAD == COMPARE_DEFAULT
    flat = " ".join(_subparser(build_parser(), "compare").format_help().split())
    assert f"(default: {DEFAULT_WORKLOAD})" in flat
    assert all(t in flat for t in DEFAULT_TARGETS)  # the default targets, named in --targets


# -- bare neuro ------------------------------------------------------------------------------
@pytest.mark.parametrize("argv, listed", [([], "workloads"), (["archive"], "export")])
def test_bare_command_prints_the_help_on_stderr_and_exits_2(argv, listed, capsys, tmp_path):
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("usage: neuro") and listed in err
    assert err.strip().splitlines()[-1].startswith("error: neuro")
    assert "no command given" in err
    assert list(tmp_path.iterdir()) == []


# -- defaults in every help ------------------------------------------------------------------
def _subparser(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action.choices[name]
    raise KeyError(name)


def _all_parsers(parser: argparse.ArgumentParser):
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _all_parsers(sub)


def test_every_option_help_states_its_default():
    missing = []
    for parser in _all_parsers(build_parser()):
        formatter = parser._get_formatter()
        for action in parser._actions:
            if not action.option_strings or action.required:
                continue
            if isinstance(action, (argparse._HelpAction,)) or action.dest == "help":
                continue
            if action.option_strings == ["--version"]:
                continue
            text = formatter._get_help_string(action) or ""
            if "default" not in text:
                missing.append(f"{parser.prog} {action.option_strings[0]}")
        parser.format_help()  # every help renders (no stray % in a help string)
    assert not missing, missing


def test_help_shows_defaults(capsys):
    with pytest.raises(SystemExit) as info:
        main(["archive", "export", "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "(default: csv)" in out and "(default: standard output)" in out
    with pytest.raises(SystemExit):
        main(["compare", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "(default: results/compare.h5)" in out and "(default: 0)" in out


# -- logging ---------------------------------------------------------------------------------
def _archive(tmp_path):
    from neuro.archive import Archive
    from neuro.result import Result

    path = tmp_path / "a.h5"
    with Archive(path, mode="a") as ar:
        ar.append(Result(workload="w", target="reference", seed=0, ops_per_inference=1.0))
    return path


def test_quiet_hides_progress_and_keeps_results(tmp_path, capsys):
    path = _archive(tmp_path)
    csv = tmp_path / "t.csv"
    assert main(["archive", "export", str(path), "-o", str(csv)]) == 0
    out, err = capsys.readouterr()
    assert out == "" and err == f"wrote 1 runs to {csv}\n"  # progress: the log, on stderr
    assert main(["archive", "export", str(path), "-o", str(csv), "-q"]) == 0
    assert capsys.readouterr() == ("", "")
    assert main(["-q", "archive", "ls", str(path)]) == 0
    out, err = capsys.readouterr()
    assert "r000001" in out and err == ""  # results stay on stdout with -q


def test_quiet_keeps_errors_and_warnings(tmp_path, capsys):
    assert main(["-q", "archive", "ls", str(tmp_path / "missing.h5")]) == 2
    assert capsys.readouterr().err == f"error: {tmp_path / 'missing.h5'}: no such archive\n"
    import warnings

    import neuro.cli as cli_module

    def warn(args):
        warnings.warn("careful\nsecond line", UserWarning, stacklevel=1)
        return 0

    parser = cli_module.build_parser

    def patched():
        p = parser()
        _subparser(p, "roadmap").set_defaults(func=warn)
        return p

    cli_module.build_parser = patched
    try:
        assert main(["roadmap", "-q"]) == 0
    finally:
        cli_module.build_parser = parser
    assert capsys.readouterr().err == "warning: careful\n"


def test_verbose_logs_debug(capsys):
    import logging

    assert main(["-v", "roadmap"]) == 0
    assert logging.getLogger("neuro").level == logging.DEBUG
    assert main(["roadmap"]) == 0
    assert logging.getLogger("neuro").level == logging.INFO


# -- --set -----------------------------------------------------------------------------------
def test_parse_set_types():
    got = parse_set(["a=1", "b=2.5", "c=true", "d=FALSE", "e=text", "f=1e-9", "g = 3 ", "a=7"])
    assert got == {"a": 7, "b": 2.5, "c": True, "d": False, "e": "text", "f": 1e-9, "g": 3}
    assert type(got["a"]) is int and type(got["f"]) is float
    assert parse_set(None) == {} and parse_set(["x="]) == {"x": ""}
    assert parse_set(["crossbar.adc.bits=6"]) == {"crossbar.adc.bits": 6}


@pytest.mark.parametrize(
    "item, message",
    [("bits", "--set expects key=value; got 'bits'"), ("=3", "--set expects key=value"),
     ("x=inf", "value must be finite; got 'inf'")],
)  # fmt: skip
def test_parse_set_refuses(item, message):
    from neuro.cli import UsageError

    with pytest.raises(UsageError, match=message):
        parse_set([item])


def test_set_reaches_every_target(tmp_path, capsys, monkeypatch):
    import neuro.compare

    seen = {}

    def fake_compare(workload, targets, **kw):
        seen.update(kw, targets=targets)
        return [], []

    monkeypatch.setattr(neuro.compare, "compare", fake_compare)
    out = tmp_path / "o.h5"
    argv = ["compare", "--workload", "mlp-digits", "--targets", "npu:ab9", "reference",
            "--set", "test_limit=50", "--set", "repeats=2", "--out", str(out)]  # fmt: skip
    monkeypatch.setattr(
        neuro.compare, "build_targets", _recording(neuro.compare.build_targets, seen)
    )
    assert main(argv) == 2  # reference takes repeats, npu:ab9 does not
    assert capsys.readouterr().err == "error: target 'npu:ab9' has no option 'repeats'\n"
    assert not out.exists() and "targets" not in seen
    argv = argv[: argv.index("repeats=2") - 1] + argv[argv.index("repeats=2") + 1 :]
    assert main(argv) == 0
    assert seen["options"] == {"test_limit": 50} and seen["targets"] == ["npu:ab9", "reference"]
    built = seen["built"]
    assert [t.config()["test_limit"] for t in built] == [50, 50]


def _recording(build_targets, seen):
    def wrapper(names, **kw):
        seen["built"] = build_targets(names, **kw)
        return seen["built"]

    return wrapper


def test_archive_ls_rows_are_the_tables_rows(tmp_path):
    """``archive ls`` reads the rows without pandas; they must be :meth:`Archive.table`'s."""
    import math

    from neuro.archive import Archive
    from neuro.result import Result

    path = tmp_path / "a.h5"
    with Archive(path, mode="a") as ar:
        for seed in range(3):
            ar.append(Result(workload="w", target="reference", seed=seed, ops_per_inference=1.0,
                             accuracy=0.5 + seed / 10, energy_per_inference=1e-9, latency=1e-6,
                             energy_breakdown={"mac": 1e-9},
                             provenance={"started": "2026-01-02T03:04:04.000+00:00",
                                         "finished": "2026-01-02T03:04:05.000+00:00"}))  # fmt: skip
        ar.append_failure(workload="w", target="npu:ab9", seed=0, config={}, error="boom")
    archive = Archive(path)
    table = archive.table(include_failed=True)
    rows = archive.summary()
    assert len(rows) == len(table) == 4
    for row, (_, expected) in zip(rows, table.iterrows()):
        for key in ("run_id", "workload", "target", "seed", "status", "accuracy",
                    "energy_per_inference", "latency", "finished"):  # fmt: skip
            a, b = row[key], expected[key]
            if key == "finished" and not isinstance(b, str):  # the table's datetime64
                import pandas as pd

                a = pd.Timestamp(a, tz="UTC") if a else pd.NaT
            same = (a is None or (isinstance(a, float) and math.isnan(a))) and (b is None or b != b)
            assert same or str(a) == str(b) or a == b, (key, a, b)
