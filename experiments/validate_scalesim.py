"""Validate the NPU cycle model against SCALE-Sim, layer by layer.

For each conv and linear layer of the chosen workloads, the model's compute cycles
(:func:`npu.fold`) are compared with SCALE-Sim's ``Total Cycles`` (``COMPUTE_REPORT.csv``)
for the same array and dataflow. SCALE-Sim (PyPI ``scalesim``) runs in GEMM mode on
topology and config files written to ``.cache/scalesim/``, with SRAM large enough and its
bandwidth in ``CALC`` mode so that it reports no stalls (compute cycles only).

    python experiments/validate_scalesim.py --array 32 --dataflow os ws \\
        --workloads mlp-fmnist resnet18 yolov2 --out out/validate_scalesim

Writes ``<out>.json`` and ``<out>.md`` and prints the markdown table.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import npu
from neuro import workloads
from neuro.targets.npu import to_ops
from npu.scalesim_ref import scalesim_cycles

ROOT = Path(__file__).resolve().parents[1]


def gemm_layers(workload: str) -> list[tuple[str, int, int, int]]:
    """``(name, M, K, N)`` of the workload's conv and linear layers (batch 1, groups 1)."""
    out = []
    for op in to_ops(workloads.get(workload)):
        if op.is_gemm:
            out.append((op.name, op.m, op.k, op.n))
    return out


def run_scalesim(
    tag: str, layers: list[tuple[str, int, int, int]], rows: int, cols: int, dataflow: str
) -> tuple[list[int], float]:
    """SCALE-Sim ``Total Cycles`` per layer and its wall time (s)."""
    folder = ROOT / ".cache" / "scalesim" / f"{tag}-{rows}x{cols}-{dataflow}"
    return scalesim_cycles(layers, rows, cols, dataflow, folder)


def _job(args: tuple) -> dict:
    workload, rows, cols, dataflow = args
    layers = gemm_layers(workload)
    ss, wall = run_scalesim(workload, layers, rows, cols, dataflow)
    out = []
    for (name, m, k, n), c_ss in zip(layers, ss):
        ours = npu.fold(m, k, n, rows, cols, dataflow).cycles
        out.append({"layer": name, "M": m, "K": k, "N": n, "model_cycles": ours,
                    "scalesim_cycles": c_ss, "rel_error": (ours - c_ss) / c_ss})  # fmt: skip
    return {"workload": workload, "array": f"{rows}x{cols}", "dataflow": dataflow,
            "scalesim_wall_s": wall, "layers": out}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workloads", nargs="+", default=["mlp-fmnist", "resnet18", "yolov2"])
    p.add_argument("--dataflow", nargs="+", default=["os", "ws"], choices=["os", "ws"])
    p.add_argument(
        "--array",
        type=int,
        nargs="+",
        default=[32],
        help="square array sizes (default 32: SCALE-Sim simulates cycle by cycle)",
    )
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--out", default="out/validate_scalesim")
    a = p.parse_args(argv)
    try:
        import scalesim  # noqa: F401
    except ImportError:
        print("scalesim is not installed (pip install scalesim --no-deps); nothing to compare")
        return 1
    jobs = [(w, s, s, d) for w in a.workloads for s in a.array for d in a.dataflow]
    with ProcessPoolExecutor(a.workers) as pool:
        results = list(pool.map(_job, jobs))
    lines = ["| workload | array | dataflow | layers | max abs rel. error | median rel. error | "
             "model cycles | SCALE-Sim cycles | SCALE-Sim wall s |",
             "|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for r in results:
        errs = [abs(x["rel_error"]) for x in r["layers"]]
        tot_m = sum(x["model_cycles"] for x in r["layers"])
        tot_s = sum(x["scalesim_cycles"] for x in r["layers"])
        r["max_abs_rel_error"] = max(errs)
        lines.append(
            f"| {r['workload']} | {r['array']} | {r['dataflow']} | {len(errs)} | "
            f"{max(errs):.2e} | {statistics.median(x['rel_error'] for x in r['layers']):.2e} | "
            f"{tot_m} | {tot_s} | {r['scalesim_wall_s']:.1f} |"
        )
    table = "\n".join(lines)
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(results, indent=1))
    out.with_suffix(".md").write_text(table + "\n")
    print(table)
    ok = all(r["max_abs_rel_error"] <= 0.05 for r in results)
    print("all layers within 5 %" if ok else "SOME LAYERS OUTSIDE 5 %")
    return 0 if ok else 2


if __name__ == "__main__":
    sys.exit(main())
