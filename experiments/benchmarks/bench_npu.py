"""Benchmark: the NPU model's own run time on all of YOLOv2 and ResNet-18 (and SCALE-Sim's).

    python experiments/benchmarks/bench_npu.py [--repeats 7] [--scalesim] [--out out/bench_npu.json]

Times :func:`npu.simulate` (all layers: folding, traffic, roofline, energy) per workload and
dataflow, median of ``--repeats`` runs after one warm-up. With ``--scalesim`` (and scalesim
installed) it also times SCALE-Sim on the same conv/linear layers (32 x 32 array: SCALE-Sim
simulates cycle by cycle), through ``experiments/validate_scalesim.py``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "experiments"))

import npu  # noqa: E402
from neuro import workloads  # noqa: E402
from neuro.targets.npu import to_ops  # noqa: E402


def time_model(workload: str, dataflow: str, repeats: int) -> dict:
    ops = to_ops(workloads.get(workload))
    cfg = npu.presets.get("ab9").replace(dataflow=dataflow)
    npu.simulate(ops, cfg)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        perf = npu.simulate(ops, cfg)
        times.append(time.perf_counter() - t0)
    return {"workload": workload, "dataflow": dataflow, "layers": len(ops),
            "median_s": statistics.median(times), "min_s": min(times),
            "cycles": perf.cycles, "latency_s": perf.time_s}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--scalesim", action="store_true", help="also time SCALE-Sim (slow)")
    p.add_argument("--out", default="out/bench_npu.json")
    a = p.parse_args(argv)
    rows = [time_model(w, d, a.repeats) for w in ("yolov2", "resnet18") for d in ("os", "ws")]
    for r in rows:
        print(f"model  {r['workload']:9s} {r['dataflow']}  {r['layers']} layers  "
              f"median {r['median_s'] * 1e3:.2f} ms  (min {r['min_s'] * 1e3:.2f} ms)")  # fmt: skip
    out: dict = {"model": rows}
    if a.scalesim:
        import validate_scalesim as vs

        out["scalesim"] = []
        for w in ("yolov2", "resnet18"):
            layers = vs.gemm_layers(w)
            _, wall = vs.run_scalesim(f"bench-{w}", layers, 32, 32, "os")
            t0 = time.perf_counter()
            for _, m, k, n in layers:
                npu.fold(m, k, n, 32, 32, "os")
            ours = time.perf_counter() - t0
            out["scalesim"].append({"workload": w, "array": "32x32", "dataflow": "os",
                                    "scalesim_s": wall, "model_fold_s": ours})  # fmt: skip
            print(f"scalesim {w:9s} 32x32 os  {wall:.1f} s  (model folding: {ours * 1e3:.2f} ms)")
    path = Path(a.out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
