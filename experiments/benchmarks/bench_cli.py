"""Start-up time of the command line: ``neuro --help``, ``neuro archive ls``, ``import neuro``.

Each command runs in a fresh subprocess ``--repeats`` times (interleaved, so a change in the
machine's load hits all of them alike); the median wall time is reported. ``archive ls``
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


def _wall(cmd: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    dt = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr[-500:]}")
    return dt


def _importtime(env: dict[str, str]) -> dict:
    """Cumulative import time of ``neuro`` (s) and which heavy libraries it pulled in."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import neuro"],
        capture_output=True, text=True, env=env, check=True,
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


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--out", default="out/bench_cli.json")
    args = p.parse_args(argv)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    times: dict[str, list[float]] = {name: [] for name in GOALS_S}
    with tempfile.TemporaryDirectory() as tmp:
        archive = _small_archive(Path(tmp))
        env["NEURO_HOME"] = str(Path(tmp) / "home")  # no user presets: the built-ins only
        cmds = {
            "neuro --help": [*_neuro(), "--help"],
            "neuro archive ls": [*_neuro(), "archive", "ls", str(archive)],
            "import neuro": [sys.executable, "-c", "import neuro"],
        }
        for name, cmd in cmds.items():  # one untimed run each: file caches warm
            _wall(cmd, env)
        for _ in range(args.repeats):
            for name, cmd in cmds.items():
                times[name].append(_wall(cmd, env))
        imports = _importtime(env)
    rows = {
        name: {
            "median_s": statistics.median(t),
            "min_s": min(t),
            "max_s": max(t),
            "goal_s": GOALS_S[name],
            "times_s": t,
        }
        for name, t in times.items()
    }
    out = {
        "benchmark": "cli_startup",
        "repeats": args.repeats,
        "python": sys.version.split()[0],
        "cpu_count": os.cpu_count(),
        "load_avg_1min": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "commands": rows,
        "import_neuro": imports,
    }
    print(f"{'command':20s} {'median':>8s} {'min':>8s} {'max':>8s} {'goal':>6s}")
    for name, r in rows.items():
        print(
            f"{name:20s} {r['median_s']:7.3f}s {r['min_s']:7.3f}s {r['max_s']:7.3f}s "
            f"{r['goal_s']:5.1f}s"
        )
    heavy = [lib for lib, yes in imports["heavy_imported"].items() if yes]
    print(
        f"import neuro (-X importtime): {imports['neuro_cumulative_s']:.3f} s cumulative; "
        f"heavy libraries imported: {', '.join(heavy) or 'none'}"
    )
    print(f"load average (1 min): {out['load_avg_1min']}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
