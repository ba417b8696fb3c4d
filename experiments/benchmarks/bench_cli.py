"""Start-up time of the command line: ``neuro --help``, ``neuro archive ls``, ``import neuro``.

Each command runs in a fresh subprocess ``--repeats`` times (interleaved, so a change in the
machine's load hits all of them alike); the median wall time is reported, and the median
CPU time (user + system) of the subprocess, which a loaded machine inflates much less.
``--baseline DIR`` runs the same commands, interleaved, on another checkout of the project
(``git worktree add DIR <commit>``; put first on ``PYTHONPATH``), for a before/after in one
run. ``archive ls``
reads a small archive of three runs written by this script in a temporary folder. Also
records, from ``python -X importtime -c "import neuro"``, the cumulative import time of
``neuro`` and whether the heavy libraries (torch, h5py, pandas, matplotlib, brian2, scipy)
were imported at all. Goals (issue 15 item 4): ``neuro --help`` and ``neuro archive ls``
<= 0.5 s, ``import neuro`` <= 1 s. Prints a table and writes JSON (``--out``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEAVY = ("torch", "h5py", "pandas", "matplotlib", "brian2", "scipy")
GOALS_S = {"neuro --help": 0.5, "neuro archive ls": 0.5, "import neuro": 1.0}


def _neuro() -> list[str]:
    """The installed ``neuro`` script beside this interpreter, else ``python -m neuro``."""
    script = Path(sys.executable).with_name("neuro")
    if script.is_file():
        return [str(script)]
    found = shutil.which("neuro")
    return [found] if found else [sys.executable, "-m", "neuro"]


def _small_archive(folder: Path) -> Path:
    from neuro.archive import Archive
    from neuro.result import Result

    path = folder / "small.h5"
    with Archive(path, mode="a") as ar:
        for seed in range(3):
            ar.append(
                Result(workload="mlp-digits", target="reference", seed=seed,
                       ops_per_inference=4736.0, accuracy=0.9, energy_per_inference=3e-9,
                       latency=1e-6)
            )  # fmt: skip
    return path


def _cpu_children() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _wall(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one run of ``cmd``."""
    c0, t0 = _cpu_children(), time.perf_counter()
    # in a neutral folder: the current one would come first on sys.path, before PYTHONPATH
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=env["NEURO_HOME"])
    dt, cpu = time.perf_counter() - t0, _cpu_children() - c0
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr[-500:]}")
    return dt, cpu


def _importtime(env: dict[str, str]) -> dict:
    """Cumulative import time of ``neuro`` (s) and which heavy libraries it pulled in."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import neuro"],
        capture_output=True, text=True, env=env, check=True, cwd=env["NEURO_HOME"],
    )  # fmt: skip
    cumulative: dict[str, float] = {}
    for line in proc.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+)\s+\|\s+(\d+)\s+\|(\s*)(\S+)", line)
        if m:
            cumulative[m.group(4)] = int(m.group(2)) * 1e-6
    return {
        "neuro_cumulative_s": cumulative.get("neuro"),
        "heavy_imported": {lib: lib in cumulative for lib in HEAVY},
    }


def _summary(t: list[tuple[float, float]], goal: float) -> dict:
    wall = [w for w, _ in t]
    cpu = [c for _, c in t]
    return {
        "median_s": statistics.median(wall),
        "min_s": min(wall),
        "max_s": max(wall),
        "median_cpu_s": statistics.median(cpu),
        "goal_s": goal,
        "times_s": wall,
        "cpu_s": cpu,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--baseline", help="another checkout to time beside this one (before)")
    p.add_argument("--out", default="out/bench_cli.json")
    args = p.parse_args(argv)
    base_env = {**os.environ, "OMP_NUM_THREADS": "1"}
    variants = {"this checkout": dict(base_env)}
    if args.baseline:
        root = str(Path(args.baseline).resolve())
        variants["baseline"] = {**base_env, "PYTHONPATH": root}
    times: dict[tuple[str, str], list[tuple[float, float]]] = {
        (v, name): [] for v in variants for name in GOALS_S
    }
    # ``python -m neuro`` resolves the package through PYTHONPATH (the installed script
    # would import this checkout's neuro.cli whatever the path says)
    neuro = [sys.executable, "-m", "neuro"] if args.baseline else _neuro()
    with tempfile.TemporaryDirectory() as tmp:
        archive = _small_archive(Path(tmp))
        home = Path(tmp) / "home"  # no user presets: the built-ins only
        home.mkdir()
        for env in variants.values():
            env["NEURO_HOME"] = str(home)
        cmds = {
            "neuro --help": [*neuro, "--help"],
            "neuro archive ls": [*neuro, "archive", "ls", str(archive)],
            "import neuro": [sys.executable, "-c", "import neuro"],
        }
        for env in variants.values():  # one untimed run each: file caches warm
            for cmd in cmds.values():
                _wall(cmd, env)
        for _ in range(args.repeats):
            for name, cmd in cmds.items():
                for v, env in variants.items():
                    times[(v, name)].append(_wall(cmd, env))
        imports = {v: _importtime(env) for v, env in variants.items()}
    rows = {
        v: {name: _summary(times[(v, name)], GOALS_S[name]) for name in GOALS_S} for v in variants
    }
    out = {
        "benchmark": "cli_startup",
        "repeats": args.repeats,
        "python": sys.version.split()[0],
        "cpu_count": os.cpu_count(),
        "load_avg_1min": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "baseline": args.baseline,
        "commands": rows["this checkout"],
        "import_neuro": imports["this checkout"],
        "variants": {v: {"commands": rows[v], "import_neuro": imports[v]} for v in variants},
    }
    print(f"{'command':20s} {'variant':14s} {'median':>8s} {'cpu':>7s} {'min':>7s} {'goal':>5s}")
    for name in GOALS_S:
        for v in variants:
            r = rows[v][name]
            print(
                f"{name:20s} {v:14s} {r['median_s']:7.3f}s {r['median_cpu_s']:6.3f}s "
                f"{r['min_s']:6.3f}s {r['goal_s']:4.1f}s"
            )
    for v in variants:
        imp = imports[v]
        heavy = [lib for lib, yes in imp["heavy_imported"].items() if yes]
        print(
            f"import neuro ({v}, -X importtime): {imp['neuro_cumulative_s']:.3f} s cumulative; "
            f"heavy libraries imported: {', '.join(heavy) or 'none'}"
        )
    print(f"load average (1 min): {out['load_avg_1min']}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
