"""Fast (torch fixed-point) against exact (scipy.sparse nodal) IR-drop solver: speed and error.

One 1T1R tile of 64x64 and 256x256 cells with conductances uniform in the HfOx ReRAM window
(9–88 µS, REFERENCES.md), 16 random inputs in [0, 0.2] V, several wire resistances per
segment. Errors are max |I_fast − I_exact| / max |I_exact| over the column currents; the
"ideal" column is the same figure for the wire-free ``V·G`` (the size of the IR drop).

    python experiments/benchmarks/bench_irdrop.py [--out out/bench_irdrop.json]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from crossbar.irdrop import solve_exact, solve_fast


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="out/bench_irdrop.json")
    p.add_argument("--sizes", type=int, nargs="+", default=[64, 256])
    p.add_argument("--r-wire", type=float, nargs="+", default=[0.1, 0.5, 1.0, 2.5, 5.0])
    p.add_argument("--iterations", type=int, nargs="+", default=[8, 16])
    p.add_argument("--batch", type=int, default=16)
    args = p.parse_args(argv)
    rng = np.random.default_rng(0)
    rows = []
    solve_fast(torch.ones(1, 4, 4), torch.ones(1, 2, 4), 1.0, 1.0)  # warm-up (torch init)
    for n in args.sizes:
        g = rng.uniform(9e-6, 88e-6, (n, n))
        v = rng.uniform(0.0, 0.2, (args.batch, n))
        gt, vt = torch.tensor(g)[None], torch.tensor(v)[None]
        for r in args.r_wire:
            t0 = time.perf_counter()
            exact = solve_exact(g, v, r, r).column_currents
            t_exact = time.perf_counter() - t0
            scale = np.abs(exact).max()
            for it in args.iterations:
                t0 = time.perf_counter()
                fast = solve_fast(gt, vt, r, r, "1T1R", it)[0].numpy()
                t_fast = time.perf_counter() - t0
                rows.append(
                    dict(
                        size=n,
                        r_wire_ohm=r,
                        iterations=it,
                        ideal_error=float(np.abs(v @ g - exact).max() / scale),
                        fast_error=float(np.abs(fast - exact).max() / scale),
                        exact_s=t_exact,
                        fast_s=t_fast,
                        speedup=t_exact / t_fast,
                    )  # fmt: skip
                )
    print(f"{'size':>5} {'r Ω':>5} {'iter':>4} {'ideal err':>10} {'fast err':>10} "
          f"{'exact s':>8} {'fast s':>8} {'speedup':>8}")  # fmt: skip
    for x in rows:
        print(
            f"{x['size']:>5} {x['r_wire_ohm']:>5g} {x['iterations']:>4} {x['ideal_error']:>10.2e} "
            f"{x['fast_error']:>10.2e} {x['exact_s']:>8.3f} {x['fast_s']:>8.4f} {x['speedup']:>8.1f}"
        )
    result = dict(batch=args.batch, g_range_S=[9e-6, 88e-6], rows=rows)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
