"""Benchmark: wall time per test image of resnet-fmnist and vit-fmnist on each paradigm.

    python experiments/benchmarks/bench_real_workloads.py [--images 20] [--out out/bench_real_workloads.json]

One torch thread. For each workload and paradigm the functional path that measures the
accuracy runs one test image at a time (batch 1), ``--images`` images after one warm-up;
the median and the minimum per image are reported:

* ``reference``: the FP32 torch model;
* ``npu:ab9``: :func:`npu.run_fp16` (bit-true FP16, the chip's accumulator and fold);
* ``aimc:pcm``: the crossbar-converted model (:func:`crossbar.nn.convert`, calibrated,
  read at one day); ``aimc:pcm first digital`` the same with the first weight layer kept
  digital (the target's ``digital_layers=("first",)``);
* ``snn:loihi`` (resnet only, with ``--snn``): the converted network's Brian2 standalone run
  of ``--images`` images at ``--steps`` steps, divided by the images (one run, so a mean,
  not a median; the C++ build is excluded and reported apart).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch

import devices
import npu
from crossbar import CrossbarConfig
from crossbar.nn import calibrate, convert, set_time
from neuro import workloads
from neuro.targets.analog import digital_layer_names


def _per_image(fn, x: torch.Tensor) -> dict:
    fn(x[:1])
    times = []
    for i in range(len(x)):
        t0 = time.perf_counter()
        fn(x[i : i + 1])
        times.append(time.perf_counter() - t0)
    return {"median_s": statistics.median(times), "min_s": min(times), "images": len(x)}


@torch.no_grad()
def bench(name: str, images: int, snn_steps: int | None) -> dict:
    w = workloads.get(name)
    tm = workloads.trained_model(w)
    ds = workloads.dataset_for(w)
    x, _ = ds.tensors("test", limit=images)
    x_cal, _ = ds.tensors("train", limit=256)
    ab9 = npu.presets.get("ab9")
    fold = ab9.array_rows if ab9.dataflow == "ws" else None
    analog = convert(tm.model, CrossbarConfig(), device_model=devices.get("pcm"),
                     generator=torch.Generator().manual_seed(0))  # fmt: skip
    calibrate(analog, x_cal)
    set_time(analog, 86400.0)
    first = digital_layer_names(tm.model, ["first"])
    analog_first = convert(tm.model, CrossbarConfig(), device_model=devices.get("pcm"),
                           generator=torch.Generator().manual_seed(0), exclude=first)  # fmt: skip
    calibrate(analog_first, x_cal)
    set_time(analog_first, 86400.0)
    out = {
        "reference": _per_image(tm.model, x),
        "npu:ab9": _per_image(
            lambda xb: npu.run_fp16(tm.model, xb, accumulate=ab9.accumulate, fold_k=fold), x
        ),
        "aimc:pcm": _per_image(analog, x),
        "aimc:pcm first digital": _per_image(analog_first, x),
    }
    if snn_steps:
        from snn.convert import convert as snn_convert

        net = snn_convert(tm.model, x_cal)
        net.run(x, snn_steps)  # builds (C++), then runs
        t0 = time.perf_counter()
        net.run(x, snn_steps, seed=1)
        wall = time.perf_counter() - t0
        out["snn:loihi"] = {"mean_s": wall / len(x), "images": len(x), "steps": snn_steps,
                            "build_s": net.build_time_s}  # fmt: skip
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--images", type=int, default=20)
    p.add_argument("--snn", action="store_true", help="also time the spiking run (C++ build)")
    p.add_argument("--steps", type=int, default=256)
    p.add_argument("--out", default="out/bench_real_workloads.json")
    a = p.parse_args(argv)
    torch.set_num_threads(1)
    res = {
        "resnet-fmnist": bench("resnet-fmnist", a.images, a.steps if a.snn else None),
        "vit-fmnist": bench("vit-fmnist", a.images, None),
    }
    for wl, rows in res.items():
        for target, r in rows.items():
            t = r.get("median_s", r.get("mean_s"))
            print(f"{wl:14s} {target:22s} {t * 1e3:9.2f} ms/image  {json.dumps(r)}")
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
