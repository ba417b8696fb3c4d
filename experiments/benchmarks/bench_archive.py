"""Archive append time against archive size: an append must cost the same at 10,000 runs as at 10.

Appends ``--sizes[-1]`` runs of a small but complete result (metrics, energy breakdown,
two layers, one curve) to a fresh archive with one writer, and reports the median wall
time, and the median CPU time of this process (robust on a loaded machine, where wall
times mostly measure waiting), of the appends made while the archive held about each size
in ``--sizes`` (the ``--window`` appends that bring it up to that size), plus the time to
open a writer on the full archive, to read the run keys (what a resumed sweep does once)
and the table back. Prints a table and writes JSON (``--out``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from neuro.archive import Archive
from neuro.result import Curve, Result


def small_result(i: int) -> Result:
    """A result shaped like a real analog run, distinct per ``i``."""
    return Result(
        workload="mlp-digits", target="aimc:pcm", seed=i, ops_per_inference=4736.0,
        accuracy=0.9, accuracy_std=0.01, energy_per_inference=3e-9, latency=1e-6,
        throughput=1e6, area=2e-8, energy_breakdown={"cell_read": 1e-9, "adc": 2e-9},
        layers=[{"name": "1", "kind": "linear", "macs": 2048},
                {"name": "3", "kind": "linear", "macs": 320}],
        curves={"accuracy_vs_time": Curve([1, 3600], [0.95, 0.9], "t_s", "accuracy")},
        config={"device": "pcm", "i": i}, provenance={"started": "t0", "finished": "t1"},
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--sizes", type=int, nargs="+", default=[10, 1000, 10000])
    p.add_argument("--window", type=int, default=100, help="appends timed at each size")
    p.add_argument("--no-read", action="store_true", help="skip the run_keys and table timings")
    p.add_argument("--out", default="out/bench_archive.json")
    args = p.parse_args(argv)
    sizes = sorted(args.sizes)
    times: list[float] = []
    cpu: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.h5"
        t_start = time.perf_counter()
        with Archive(path, mode="a") as ar:
            for i in range(sizes[-1]):
                t0, c0 = time.perf_counter(), time.process_time()
                ar.append(small_result(i), run_key=f"k{i}")
                times.append(time.perf_counter() - t0)
                cpu.append(time.process_time() - c0)
        total_s = time.perf_counter() - t_start
        t0 = time.perf_counter()
        with Archive(path, mode="a") as ar:
            open_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            n_keys = len(ar.run_keys()) if not args.no_read else sizes[-1]
            keys_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        n_rows = len(Archive(path).table()) if not args.no_read else sizes[-1]
        table_s = time.perf_counter() - t0
        size_MB = path.stat().st_size / 1e6
    assert n_keys == n_rows == sizes[-1]
    rows = {}
    for n in sizes:
        lo = max(0, n - args.window)
        rows[str(n)] = {
            "median_ms": 1e3 * statistics.median(times[lo:n]),
            "median_cpu_ms": 1e3 * statistics.median(cpu[lo:n]),
            "appends": n - lo,
        }
    print(f"{'runs in archive':>16} {'append wall (median ms)':>24} {'append CPU (median ms)':>23}")
    for n, r in rows.items():
        print(f"{n:>16} {r['median_ms']:>24.2f} {r['median_cpu_ms']:>23.2f}")
    print(
        f"{sizes[-1]} appends in {total_s:.1f} s; writer open on the full archive {open_s:.3f} s, "
        f"run_keys {keys_s:.2f} s, table {table_s:.2f} s; file {size_MB:.1f} MB"
    )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "append_ms_at": rows, "total_s": total_s, "writer_open_s": open_s,
        "run_keys_s": keys_s, "table_s": table_s, "file_MB": size_MB,
    }  # fmt: skip
    out.write_text(json.dumps(report, indent=1))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
