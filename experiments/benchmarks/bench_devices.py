"""Time to program and read 1M cells for each registered device on the CPU.

Median of ``--repeats`` runs of ``program`` (with a generator: noise, faults) and of
``read`` at t = 1 h (with a generator), with 1 and 2 torch threads. Prints a table and
writes JSON to ``--out``.

Run: ``python experiments/benchmarks/bench_devices.py --out out/bench_devices.json``
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import torch

import devices


def bench(name: str, n: int, repeats: int) -> dict[str, float]:
    dev = devices.get(name)
    x = torch.linspace(dev.g_min, dev.g_max, n)
    g = torch.Generator().manual_seed(0)
    dev.program(x[:1000], g)  # warm-up (tables, caches)
    prog, read = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        st = dev.program(x, g)
        t1 = time.perf_counter()
        dev.read(st, 3600.0, g)
        t2 = time.perf_counter()
        prog.append(t1 - t0)
        read.append(t2 - t1)
    return {"program_s": statistics.median(prog), "read_s": statistics.median(read)}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("out/bench_devices.json"))
    ap.add_argument("--cells", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args(argv)
    results = []
    for threads in (1, 2):
        torch.set_num_threads(threads)
        print(f"torch threads: {torch.get_num_threads()}  cells: {args.cells:,}")
        print(f"{'device':<20}{'program (ms)':>14}{'read 1h (ms)':>14}")
        for name in devices.names():
            r = bench(name, args.cells, args.repeats)
            results.append({"device": name, "threads": threads, "cells": args.cells, **r})
            print(f"{name:<20}{r['program_s'] * 1e3:>14.1f}{r['read_s'] * 1e3:>14.1f}")
    meta = {
        "torch": torch.__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "repeats": args.repeats,
        "statistic": "median",
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"meta": meta, "results": results}, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
