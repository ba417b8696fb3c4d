"""The ``neuro`` command: happy paths, and bad input exits 2 having written nothing."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from neuro.archive import Archive
from neuro.cli import main


@pytest.fixture
def archive_path(tmp_path):
    return tmp_path / "runs" / "c.h5"


def test_compare_writes_archive_and_prints_table(archive_path, capsys):
    code = main(["compare", "--workload", "mlp-digits", "--targets", "reference", "--quick",
                 "--out", str(archive_path)])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    assert "reference" in out and "accuracy" in out and "TOPS/W" in out
    table = Archive(archive_path).table()
    assert list(table["target"]) == ["reference"] and table["accuracy"].iloc[0] > 0.9


def test_archive_ls_show_export(archive_path, tmp_path, capsys):
    main(
        [
            "compare",
            "--workload",
            "mlp-digits",
            "--targets",
            "reference",
            "--quick",
            "--out",
            str(archive_path),
        ]
    )
    capsys.readouterr()
    assert main(["archive", "ls", str(archive_path)]) == 0
    assert "r000001" in capsys.readouterr().out
    assert main(["archive", "show", str(archive_path), "r000001"]) == 0
    shown = capsys.readouterr().out
    assert "mlp-digits on reference" in shown and "ops_per_inference" in shown
    csv = tmp_path / "t.csv"
    assert main(["archive", "export", str(archive_path), "--format", "csv", "-o", str(csv)]) == 0
    assert pd.read_csv(csv)["workload"].tolist() == ["mlp-digits"]
    js = tmp_path / "t.json"
    assert main(["archive", "export", str(archive_path), "--format", "json", "-o", str(js)]) == 0
    assert json.loads(js.read_text())[0]["target"] == "reference"


@pytest.mark.parametrize(
    "argv, message",
    [
        (["compare", "--workload", "nope"], "unknown workload 'nope'; valid:"),
        (["compare", "--targets", "aimc:nope"], "unknown target 'aimc:nope'; valid:"),
        (["compare", "--out", "{tmp}/x.txt"], "--out must be an HDF5 file ending in .h5"),
        (["compare", "--seed", "abc"], "argument --seed: invalid int value: 'abc'"),
        (["bogus"], "invalid choice: 'bogus'"),
        (["--threads", "0", "workloads"], "--threads must be an integer from 1 to"),
        (["archive", "ls", "{tmp}/missing.h5"], "no such archive"),
        (["archive", "show", "{tmp}/ok.h5", "r99"], "no completed run 'r99'"),
        (
            ["archive", "export", "{tmp}/ok.h5", "--format", "csv", "-o", "{tmp}/x.json"],
            "--output must end in .csv",
        ),
    ],
)
def test_bad_input_exits_2_one_line_nothing_written(tmp_path, capsys, argv, message):
    with Archive(tmp_path / "ok.h5", mode="a"):
        pass
    before = sorted(p.name for p in tmp_path.rglob("*"))
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


def test_compare_refuses_a_non_archive_out(tmp_path, capsys):
    junk = tmp_path / "junk.h5"
    junk.write_bytes(b"junk")
    assert (
        main(["compare", "--workload", "mlp-digits", "--targets", "reference", "--out", str(junk)])
        == 2
    )
    assert "cannot open as HDF5" in capsys.readouterr().err
    assert junk.read_bytes() == b"junk"


def test_workloads_and_devices_listings(capsys):
    assert main(["workloads"]) == 0
    out = capsys.readouterr().out
    assert "yolov2" in out and "14.7 GMAC" in out and "1.81 GMAC" in out
    assert main(["devices"]) == 0
    assert "ideal" in capsys.readouterr().out


def test_python_dash_m_neuro():
    proc = subprocess.run([sys.executable, "-m", "neuro", "compare", "--workload", "nope"],
                          capture_output=True, text=True)  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "error: unknown workload 'nope'; valid: " + ", ".join(__import__("neuro").workloads.names())
    )


def test_threads_option_sets_torch_threads(capsys):
    import torch

    before = torch.get_num_threads()
    try:
        assert main(["--threads", "1", "roadmap"]) == 0
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_neuro_threads_is_read_when_used(monkeypatch, capsys):
    from neuro.cli import build_parser

    monkeypatch.setenv("NEURO_THREADS", "abc")
    build_parser()  # building the parser does not read it
    assert main(["--threads", "1", "roadmap"]) == 0  # the option wins
    capsys.readouterr()
    assert main(["roadmap"]) == 2
    assert capsys.readouterr().err == (
        f"error: neuro: $NEURO_THREADS must be an integer from 1 to "
        f"{4 * (__import__('os').cpu_count() or 1)}; got 'abc'\n"
    )


def test_verbose_is_accepted_after_the_subcommand(capsys):
    assert main(["roadmap", "-v"]) == 0
    assert main(["-v", "roadmap"]) == 0
    assert main(["roadmap", "--verbose"]) == 0


def test_targets_named_twice_run_once(archive_path, capsys):
    argv = ["compare", "--workload", "mlp-digits", "--targets", "reference,reference",
            "reference", "--quick", "--out", str(archive_path)]  # fmt: skip
    assert main(argv) == 0
    assert list(Archive(archive_path).table()["target"]) == ["reference"]


def test_os_error_is_one_line(tmp_path, capsys, monkeypatch):
    import neuro.cli as cli_module

    def unreadable(args):
        raise PermissionError(13, "Permission denied", str(tmp_path / "x"))

    monkeypatch.setattr(cli_module, "_cmd_roadmap", unreadable)
    assert main(["roadmap"]) == 2
    assert capsys.readouterr().err == f"error: {tmp_path / 'x'}: Permission denied\n"


def test_version_and_typed_packages(capsys):
    import importlib.resources

    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.startswith("neuro-cosim ")
    for package in ("neuro", "devices", "crossbar", "snn", "npu"):
        assert importlib.resources.files(package).joinpath("py.typed").is_file(), package
