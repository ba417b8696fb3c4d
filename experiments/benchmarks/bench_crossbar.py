"""Crossbar forward against the ideal torch matmul of the same shape.

A 512x512 layer, batch 1024, PCM (aihwkit-style statistical model), 8-bit PWM DAC and 8-bit
calibrated ADC, programming and read noise, drift at 1 day with compensation: median time
per forward against ``x @ W.T``, with torch threads 1 and 2. Goal: at most 3x.

    python experiments/benchmarks/bench_crossbar.py [--out out/bench_crossbar.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch

import devices
from crossbar import Crossbar, CrossbarConfig


def median_time(fn, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="out/bench_crossbar.json")
    p.add_argument("--repeats", type=int, default=15)
    p.add_argument("--device", default="pcm")
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--batch", type=int, default=1024)
    args = p.parse_args(argv)
    gen = torch.Generator().manual_seed(0)
    w = torch.randn(args.size, args.size, generator=gen) / args.size**0.5
    x = torch.rand(args.batch, args.size, generator=gen)
    dev = devices.get(args.device)
    xbar = Crossbar(dev, CrossbarConfig()).program(w, gen).calibrate(x[:256])
    rows = []
    for threads in (1, 2):
        torch.set_num_threads(threads)
        with torch.no_grad():
            t_ideal = median_time(lambda: x @ w.t(), args.repeats)
            t_xbar = median_time(lambda: xbar.matvec(x, t=86400.0), args.repeats)
        rows.append(
            dict(threads=threads, ideal_s=t_ideal, crossbar_s=t_xbar, ratio=t_xbar / t_ideal)
        )
    print(f"{args.size}x{args.size}, batch {args.batch}, device {args.device}, 8-bit DAC/ADC")
    print(f"{'threads':>7} {'ideal ms':>9} {'crossbar ms':>12} {'ratio':>6}")
    for r in rows:
        print(
            f"{r['threads']:>7} {1e3 * r['ideal_s']:>9.2f} {1e3 * r['crossbar_s']:>12.2f} "
            f"{r['ratio']:>6.2f}"
        )
    result = dict(
        size=args.size, batch=args.batch, device=args.device, torch=torch.__version__, rows=rows
    )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
