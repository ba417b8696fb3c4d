"""Sweep throughput: the adc_sweep experiment run serially and on a Dask LocalCluster of 2.

The spec is ``experiments/adc_sweep.toml`` reduced so one run takes seconds (``--test-limit``
images, one repeat, two read times). Serial runs use 1 and then 2 torch threads; the Dask
workers are 2 processes of 1 thread each. Every variant writes its own archive, and the
figure is runs per second (median over ``--repeats`` sweeps). Prints a table and writes JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import tomllib
from pathlib import Path

import torch

from neuro.experiments import parse_spec, run_experiment
from neuro.workloads import get, trained_model

SPEC = Path(__file__).resolve().parents[1] / "adc_sweep.toml"


def reduced_spec(test_limit: int, bits: list[int]):
    data = tomllib.loads(SPEC.read_text())
    data["options"]["aimc"].update(test_limit=test_limit, repeats=1, times_s=[1.0, 86400.0])
    data["grid"]["aimc"]["crossbar.adc.bits"] = bits
    return parse_spec(data)


def timed_sweep(spec, workers: int | None) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        summary = run_experiment(spec, Path(tmp) / "sweep.h5", workers=workers)
        elapsed = time.perf_counter() - t0
    assert summary.failed == 0, summary
    return elapsed


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--test-limit", type=int, default=300)
    p.add_argument("--bits", type=int, nargs="+", default=[4, 6, 8, 10])
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument(
        "--variants", nargs="+", default=["serial1", "serial2", "dask2"],
        choices=["serial1", "serial2", "dask2"],
        help="serial with 1 or 2 torch threads, Dask with 2 single-threaded workers",
    )  # fmt: skip
    p.add_argument("--out", default="out/bench_sweep.json")
    args = p.parse_args(argv)
    spec = reduced_spec(args.test_limit, args.bits)
    n_runs = len(spec.runs())
    trained_model(get("mlp-fmnist"))  # train once, outside the timings
    rows = {}
    variants = {
        "serial1": ("serial, 1 thread", 1, None),
        "serial2": ("serial, 2 threads", 2, None),
        "dask2": ("dask, 2 workers x 1 thread", 1, 2),
    }
    for key in args.variants:
        label, threads, workers = variants[key]
        torch.set_num_threads(threads)
        times = [timed_sweep(spec, workers) for _ in range(args.repeats)]
        rows[label] = {"median_s": statistics.median(times), "times_s": times,
                       "runs_per_s": n_runs / statistics.median(times)}  # fmt: skip
    base = next(iter(rows.values()))["median_s"]
    print(f"adc_sweep reduced: {n_runs} runs, test_limit {args.test_limit}, bits {args.bits}")
    print(f"{'variant':30s} {'median s':>9s} {'runs/s':>8s} {'vs first':>9s}")
    for label, r in rows.items():
        print(
            f"{label:30s} {r['median_s']:9.2f} {r['runs_per_s']:8.3f} {base / r['median_s']:9.2f}"
        )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"n_runs": n_runs, "test_limit": args.test_limit, "bits": args.bits,
                               "results": rows}, indent=1))  # fmt: skip
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
