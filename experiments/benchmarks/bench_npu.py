"""Benchmark: the NPU model's own run time on all of YOLOv2 and ResNet-18 (and SCALE-Sim's).

    python experiments/benchmarks/bench_npu.py [--repeats 7] [--scalesim] [--fp16 [--yolo]]
        [--out out/bench_npu.json]

Times :func:`npu.simulate` (all layers: folding, traffic, roofline, energy) per workload and
dataflow, median of ``--repeats`` runs after one warm-up. With ``--scalesim`` (and scalesim
installed) it also times SCALE-Sim on the same conv/linear layers (32 x 32 array: SCALE-Sim
simulates cycle by cycle), through ``experiments/validate_scalesim.py``.

With ``--fp16`` it times the bit-true FP16 GEMM (:func:`npu.gemm_fast`, AB9's FP16
accumulator) on one thread: the C kernel against the torch loop (``NEURO_COSIM_NO_CEXT=1``)
and an FP32 ``torch.matmul`` on a few GEMM shapes, and :func:`npu.run_fp16` per image on
resnet-fmnist (``--fp16-batch`` images a pass; untrained weights: the time does not depend
on them) against its FP32
forward; ``--yolo`` adds one YOLOv2 416x416 image (14.7 GMAC; about a minute on the torch
loop, which ``--yolo-torch`` times too).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from functools import partial
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


#: GEMM shapes (M, K, N) for --fp16: a resnet-fmnist 3x3 conv at batch 32, a YOLOv2 3x3 conv
#: (26x26, 256 -> 512 channels, 128 of the 512 outputs), a classifier head.
FP16_SHAPES = ((6272, 144, 16), (676, 2304, 128), (64, 512, 10))


def _best(fn, repeats: int, warmup: bool = True) -> float:
    """Fastest of ``repeats`` calls (after one untimed call with ``warmup``), in seconds."""
    if warmup:
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def _torch_loop():
    """Context in which gemm_fast runs its torch loop (the C kernel disabled)."""
    import contextlib
    import os

    from devices.cext import ENV_DISABLE

    @contextlib.contextmanager
    def off():
        old = os.environ.get(ENV_DISABLE)
        os.environ[ENV_DISABLE] = "1"
        try:
            yield
        finally:
            if old is None:
                del os.environ[ENV_DISABLE]
            else:
                os.environ[ENV_DISABLE] = old

    return off()


def time_fp16(repeats: int, batch: int, yolo: bool, yolo_torch: bool) -> dict:
    import torch

    from npu.fp16 import kernel_isa

    torch.set_num_threads(1)
    g = torch.Generator().manual_seed(0)
    out: dict = {"isa": kernel_isa(), "threads": 1, "gemm": [], "network": []}
    for m, k, n in FP16_SHAPES:
        x = torch.randn((m, k), generator=g)
        w = torch.randn((k, n), generator=g) / k**0.5
        row = {"shape": [m, k, n], "macs": m * k * n}
        row["kernel_s"] = _best(partial(npu.gemm_fast, x, w, accumulate="fp16"), repeats)
        with _torch_loop():
            row["torch_loop_s"] = _best(partial(npu.gemm_fast, x, w, accumulate="fp16"), 1, False)
        row["fp32_matmul_s"] = _best(partial(torch.matmul, x, w), repeats)
        out["gemm"].append(row)
        print(f"fp16 gemm {m}x{k}x{n}: kernel {row['kernel_s'] * 1e3:.2f} ms "
              f"({row['macs'] / row['kernel_s'] / 1e9:.2f} GMAC/s), torch loop "
              f"{row['torch_loop_s'] * 1e3:.2f} ms, fp32 matmul {row['fp32_matmul_s'] * 1e3:.2f} ms")  # fmt: skip
    nets = [("resnet-fmnist", batch, True)] + ([("yolov2", 1, yolo_torch)] if yolo else [])
    for name, batch, with_torch in nets:
        wl = workloads.get(name)
        torch.manual_seed(0)
        model = wl.build().eval()
        x = torch.rand((batch, *wl.input_shape), generator=g)
        reps = repeats if batch > 1 else 1
        row = {"workload": name, "images": batch, "macs_per_image": wl.macs}
        row["kernel_s_per_image"] = (
            _best(partial(npu.run_fp16, model, x, accumulate="fp16"), reps) / batch
        )
        if with_torch:
            with _torch_loop():
                row["torch_loop_s_per_image"] = _best(
                    partial(npu.run_fp16, model, x, accumulate="fp16"), 1, False
                )
                row["torch_loop_s_per_image"] /= batch
        with torch.no_grad():
            row["fp32_s_per_image"] = _best(partial(model, x), reps) / batch
        out["network"].append(row)
        loop = row.get("torch_loop_s_per_image")
        print(f"fp16 run_fp16 {name}: kernel {row['kernel_s_per_image'] * 1e3:.2f} ms/image, "
              f"torch loop {'-' if loop is None else f'{loop * 1e3:.2f}'} ms/image, "
              f"fp32 {row['fp32_s_per_image'] * 1e3:.2f} ms/image")  # fmt: skip
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--scalesim", action="store_true", help="also time SCALE-Sim (slow)")
    p.add_argument("--fp16", action="store_true", help="time the bit-true FP16 GEMM (1 thread)")
    p.add_argument("--fp16-batch", type=int, default=256, help="resnet-fmnist images per pass")
    p.add_argument("--yolo", action="store_true", help="with --fp16: one YOLOv2 416x416 image")
    p.add_argument("--yolo-torch", action="store_true", help="with --yolo: also the torch loop")
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
    if a.fp16:
        out["fp16"] = time_fp16(a.repeats, a.fp16_batch, a.yolo, a.yolo_torch)
    path = Path(a.out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
