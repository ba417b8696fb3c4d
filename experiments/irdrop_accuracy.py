"""Accuracy with and without exact IR drop (issue 12, item 6): the aimc targets, read one day after programming.

For each workload and device, the analog target is run twice with the same seed (the same
programming and read noise): ``crossbar.ir_drop="none"`` and ``"exact"`` (1 Ω per wire
segment, 256×256 tiles, 1T1R: every other setting the target's default). Prints a table and
writes JSON.

    OMP_NUM_THREADS=1 python experiments/irdrop_accuracy.py [--test-limit 1000] [--repeats 2]
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from pathlib import Path

import torch

from neuro.targets.base import make_target
from neuro.workloads import get


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workloads", nargs="+", default=["mlp-fmnist", "cnn-fmnist"])
    p.add_argument("--devices", nargs="+", default=["reram", "pcm"])
    p.add_argument("--modes", nargs="+", default=["none", "exact"])
    p.add_argument("--tiles", type=int, nargs="+", default=[256], help="tile rows = columns")
    p.add_argument("--test-limit", type=int, default=1000)
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="out/irdrop_accuracy.json")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    rows = []
    for wl in args.workloads:
        workload = get(wl)
        for dev, n, mode in itertools.product(args.devices, args.tiles, args.modes):
            xc = {"crossbar.ir_drop": mode, "crossbar.tile_rows": n, "crossbar.tile_cols": n}
            target = make_target(
                f"aimc:{dev}", repeats=args.repeats, test_limit=args.test_limit,
                times_s=(86400.0,), **xc,
            )  # fmt: skip
            c0, w0 = time.process_time(), time.perf_counter()
            r = target.evaluate(workload, seed=args.seed)
            row = dict(
                workload=wl, target=target.name, ir_drop=mode, tile=n,
                accuracy=r.accuracy, accuracy_std=r.accuracy_std,
                fp32_accuracy=r.extra["fp32_accuracy"],
                read_time_s=r.extra["accuracy_read_time_s"],
                ir_drop_criterion=r.extra["ir_drop_criterion"],
                cpu_s=time.process_time() - c0, wall_s=time.perf_counter() - w0,
            )  # fmt: skip
            rows.append(row)
            print(
                f"{wl:<11} {target.name:<11} {n:>3} {mode:<5} acc {100 * row['accuracy']:6.2f} "
                f"± {100 * row['accuracy_std']:4.2f} (FP32 {100 * row['fp32_accuracy']:.2f}) "
                f"κ {row['ir_drop_criterion']:.2f}  {row['cpu_s']:.0f} s CPU",
                flush=True,
            )
    result = dict(test_limit=args.test_limit, repeats=args.repeats, seed=args.seed,
                  torch_threads=1, rows=rows)  # fmt: skip
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
