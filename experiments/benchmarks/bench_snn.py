"""Wall time per training image of the Diehl & Cook network (C++ standalone).

For 100 and 400 excitatory neurons: build time (code generation and compilation, or the
re-use of a cached build), then wall milliseconds per training image over ``--images``
MNIST images (all of it: the binary, passing the state in and out, the intensity raises),
and the binary's own share. Prints a table and writes JSON to ``--out``.

BindsNET's Diehl & Cook per-image time is measured beside it when ``bindsnet`` imports
(``--bindsnet-python`` may point at a separate venv's python that has it).

    NEURO_DATA=/work/shared/data/mnist10k python -m experiments.benchmarks.bench_snn
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import brian2 as b2
import numpy as np

from snn import DiehlCook

_BINDSNET = r"""
import sys, time, torch
torch.set_num_threads(1)
from bindsnet.models import DiehlAndCook2015
from bindsnet.encoding import poisson
n_exc, n_img = int(sys.argv[1]), int(sys.argv[2])
net = DiehlAndCook2015(n_inpt=784, n_neurons=n_exc, exc=22.5, inh=17.5, dt=0.5, norm=78.4,
                       theta_plus=0.05, inpt_shape=(1, 28, 28))
g = torch.Generator().manual_seed(0)
imgs = torch.rand(n_img, 784, generator=g) * 255 * (torch.rand(n_img, 784, generator=g) < 0.2)
t0 = time.perf_counter()
for k in range(n_img):
    spikes = poisson(datum=imgs[k] / 4, time=350, dt=0.5)
    net.run(inputs={"X": spikes.view(700, 1, 1, 28, 28)}, time=350)
    net.reset_state_variables()
print((time.perf_counter() - t0) / n_img * 1e3)
"""


def _mnist(n: int) -> tuple[np.ndarray, str]:
    try:
        from neuro.data import load_dataset

        ds = load_dataset("mnist", allow_download=False, allow_fallback=False)
        return ds.x_train[:n].reshape(-1, 784).astype(float), ds.source
    except Exception as exc:  # no MNIST here: random sparse images of MNIST-like density
        rng = np.random.default_rng(0)
        x = rng.integers(0, 256, (n, 784)) * (rng.random((n, 784)) < 0.19)
        return x.astype(float), f"synthetic ({exc.__class__.__name__})"


def bench(n_exc: int, x: np.ndarray, chunk: int) -> dict:
    t0 = time.perf_counter()
    net = DiehlCook(n_exc, chunk=chunk, seed=0)
    net.train(x[:chunk])  # warm-up: builds (or re-uses) the binary, first chunk
    first_s = time.perf_counter() - t0
    runs0 = b2.device.timers.get("run_binary", 0.0)
    binary_s = 0.0
    t1 = time.perf_counter()
    ev0 = net.train_events.presentations
    for start in range(chunk, len(x), chunk):
        net.train(x[start : start + chunk])
        binary_s += b2.device.timers.get("run_binary", 0.0)
    wall = time.perf_counter() - t1
    n = len(x) - chunk
    pres = net.train_events.presentations - ev0
    _ = runs0
    return {
        "n_exc": n_exc,
        "build_s": net.build_time_s,
        "first_chunk_s": first_s,
        "images": n,
        "presentations": pres,
        "ms_per_image": 1e3 * wall / n,
        "ms_per_presentation": 1e3 * wall / pres,
        "binary_ms_per_presentation": 1e3 * binary_s / pres,
    }


def bindsnet_ms(python: str, n_exc: int, n_img: int) -> float | str:
    try:
        out = subprocess.run([python, "-c", _BINDSNET, str(n_exc), str(n_img)],
                             capture_output=True, text=True, timeout=1800)  # fmt: skip
        if out.returncode:
            return f"failed: {out.stderr.strip().splitlines()[-1] if out.stderr else '?'}"
        return float(out.stdout.strip().splitlines()[-1])
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        return f"failed: {exc}"


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=600, help="images per size (incl. warm-up)")
    ap.add_argument("--chunk", type=int, default=100)
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 400])
    ap.add_argument("--bindsnet-python", default=None)
    ap.add_argument("--bindsnet-images", type=int, default=20)
    ap.add_argument("--out", default="out/bench_snn.json")
    args = ap.parse_args(argv)
    x, source = _mnist(args.images)
    rows = [bench(n, x, args.chunk) for n in args.sizes]
    result = {
        "benchmark": "Diehl & Cook training, wall ms per image (C++ standalone, no OpenMP)",
        "data": source,
        "host": platform.node(),
        "cpus": os.cpu_count(),
        "brian2": b2.__version__,
        "rows": rows,
    }
    if args.bindsnet_python:
        result["bindsnet_ms_per_image"] = {
            n: bindsnet_ms(args.bindsnet_python, n, args.bindsnet_images) for n in args.sizes
        }
    else:
        result["bindsnet_ms_per_image"] = "not measured (no --bindsnet-python)"
    print(f"{'n_exc':>6} {'build s':>8} {'ms/image':>9} {'ms/pres.':>9} {'binary ms/pres.':>16}")
    for r in rows:
        print(f"{r['n_exc']:>6} {r['build_s'] or 0:>8.1f} {r['ms_per_image']:>9.2f} "
              f"{r['ms_per_presentation']:>9.2f} {r['binary_ms_per_presentation']:>16.2f}")  # fmt: skip
    print("BindsNET:", result["bindsnet_ms_per_image"])
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
