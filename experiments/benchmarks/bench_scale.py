"""How the analog forward's cost grows with the work: layer size x batch, time per MAC.

Square layers of 256 ... 4096 and batches of 1 ... 4096 on the default config (PCM, 8-bit
DAC and ADC per 256x256 tile, programming, read and output noise, drift at 1 day with
compensation; one read per read time). For each pair: the median time per forward of the
crossbar and of the ideal ``x @ W.T`` (interleaved), the time per multiply-accumulate
(``batch·size²`` MACs) of each, their ratio, the ratio of the fastest runs and that of
the CPU times (steadier than wall times on a loaded machine). At batch 1 the fixed cost of
a call (a few dozen small torch ops) dominates; from a few hundred vectors on the cost per
MAC is that of the matmul plus the per-tile conversions (one output-noise draw, one ADC
rounding per tile output: ``1/256`` of the MACs). Pairs over ``--max-macs`` (default 2^33:
the 4096x4096 layer at batch 1024 and above, 2048x2048 at 4096) are skipped and listed, to
keep the run near a minute on a small machine. Also the NPU model's own run time on all of
YOLOv2 (goal: under 5 ms; issue 15, item 5).

    python experiments/benchmarks/bench_scale.py [--out out/bench_scale.json] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import torch

import devices
from crossbar import Crossbar, CrossbarConfig

DAY_S = 86400.0
SIZES = (256, 512, 1024, 2048, 4096)
BATCHES = (1, 16, 256, 1024, 4096)
YOLO_GOAL_S = 5e-3


def timed(fns: dict, min_repeats: int, budget_s: float) -> dict[str, float]:
    """Median seconds of each function, run interleaved after a warm-up, at least
    ``min_repeats`` rounds and until ``budget_s`` has passed: wall (``name``), fastest wall
    (``name_min``) and process CPU time (``name_cpu``: with one torch thread, the work
    alone, steadier than the wall time on a shared machine)."""
    for fn in fns.values():
        fn()
    times: dict[str, list[float]] = {k: [] for k in fns}
    cpu: dict[str, list[float]] = {k: [] for k in fns}
    start = time.perf_counter()
    n = 0
    while n < min_repeats or (time.perf_counter() - start < budget_s and n < 200):
        for k, fn in fns.items():
            c0, t0 = time.process_time(), time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - t0)
            cpu[k].append(time.process_time() - c0)
        n += 1
    out = {k: statistics.median(v) for k, v in times.items()}
    out.update({f"{k}_min": min(v) for k, v in times.items()})
    out.update({f"{k}_cpu": statistics.median(v) for k, v in cpu.items()})
    return out


def yolov2_npu(repeats: int) -> dict:
    """The NPU model's run time on all of YOLOv2 (both dataflows), median of ``repeats``."""
    import npu
    from neuro import workloads
    from neuro.targets.npu import to_ops

    ops = to_ops(workloads.get("yolov2"))
    rows = []
    for dataflow in ("os", "ws"):
        cfg = npu.presets.get("ab9").replace(dataflow=dataflow)
        npu.simulate(ops, cfg)
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            npu.simulate(ops, cfg)
            times.append(time.perf_counter() - t0)
        med = statistics.median(times)
        rows.append(dict(dataflow=dataflow, layers=len(ops), median_s=med, min_s=min(times)))
    return dict(goal_s=YOLO_GOAL_S, met=all(r["median_s"] < YOLO_GOAL_S for r in rows), rows=rows)


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="out/bench_scale.json")
    p.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    p.add_argument("--batches", type=int, nargs="+", default=list(BATCHES))
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--max-macs", type=float, default=2.0**33, help="skip larger pairs")
    p.add_argument("--budget-s", type=float, default=0.5, help="timing time per pair")
    p.add_argument("--no-npu", action="store_true", help="skip the YOLOv2 NPU timing")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    load_before = os.getloadavg()
    t_start = time.perf_counter()
    rows, skipped = [], []
    for size in args.sizes:
        gen = torch.Generator().manual_seed(size)
        w = torch.randn(size, size, generator=gen) / size**0.5
        big = [b for b in args.batches if b * size * size <= args.max_macs]
        skipped += [
            dict(size=size, batch=b, macs=b * size * size, reason="over --max-macs")
            for b in args.batches
            if b not in big
        ]
        if not big:
            continue
        t0 = time.perf_counter()
        xcal = torch.rand(256, size, generator=gen)
        xbar = Crossbar(devices.get("pcm"), CrossbarConfig()).program(w, gen).calibrate(xcal)
        with torch.no_grad():
            xbar.matvec(xcal[:1], t=DAY_S)  # the read at 1 day and its drift compensation
        setup_s = time.perf_counter() - t0
        for b in big:
            x = torch.rand(b, size, generator=gen)
            macs = b * size * size
            with torch.no_grad():
                fns = {
                    "ideal": lambda x=x, w=w: x @ w.t(),
                    "crossbar": lambda x=x, xb=xbar: xb.matvec(x, t=DAY_S),
                }
                med = timed(
                    fns,
                    min_repeats=3,
                    budget_s=args.budget_s,
                )
            rows.append(
                dict(
                    size=size, batch=b, macs=macs, setup_s=setup_s,
                    ideal_s=med["ideal"], crossbar_s=med["crossbar"],
                    ideal_ps_per_mac=1e12 * med["ideal"] / macs,
                    crossbar_ps_per_mac=1e12 * med["crossbar"] / macs,
                    ratio=med["crossbar"] / med["ideal"],
                    ratio_min=med["crossbar_min"] / med["ideal_min"],
                    ideal_cpu_s=med["ideal_cpu"], crossbar_cpu_s=med["crossbar_cpu"],
                    ratio_cpu=med["crossbar_cpu"] / max(med["ideal_cpu"], 1e-9),
                )
            )  # fmt: skip
    npu_row = None if args.no_npu else yolov2_npu(repeats=7)
    wall_s = time.perf_counter() - t_start
    load_after = os.getloadavg()
    print(
        f"analog forward, default PCM config at 1 day; {args.threads} torch thread(s); "
        f"load {load_before[0]:.2f} -> {load_after[0]:.2f} on {os.cpu_count()} CPUs"
    )
    print(
        f"{'size':>5} {'batch':>5} {'ideal ps/MAC':>12} {'ours ps/MAC':>11} {'ratio':>6} "
        f"{'of mins':>7} {'CPU ratio':>9}"
    )
    for r in rows:
        print(
            f"{r['size']:>5} {r['batch']:>5} {r['ideal_ps_per_mac']:>12.2f} "
            f"{r['crossbar_ps_per_mac']:>11.2f} {r['ratio']:>6.2f} {r['ratio_min']:>7.2f} "
            f"{r['ratio_cpu']:>9.2f}"
        )
    for s in skipped:
        print(f"skipped {s['size']}x{s['size']} batch {s['batch']}: {s['macs']:.2e} MACs")
    if npu_row is not None:
        for r in npu_row["rows"]:
            print(
                f"NPU model, all of YOLOv2 ({r['layers']} layers, {r['dataflow']}): "
                f"median {1e3 * r['median_s']:.2f} ms (goal < {1e3 * YOLO_GOAL_S:.0f} ms)"
            )
    print(f"wall {wall_s:.1f} s")
    result = dict(
        threads=args.threads, torch=torch.__version__, cpus=os.cpu_count(),
        load_before=load_before, load_after=load_after, max_macs=args.max_macs,
        t_s=DAY_S, wall_s=wall_s, rows=rows, skipped=skipped, npu_yolov2=npu_row,
    )  # fmt: skip
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
