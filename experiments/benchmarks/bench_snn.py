"""Wall time per training image of the Diehl & Cook network (C++ standalone).

For 100 and 400 excitatory neurons (``--sizes``):

* build time: a first build (code generation and compilation into an empty cache folder
  under ``.cache/``) and a cached rebuild (a new process re-using that folder: code
  generation, no compilation), each in its own process;
* training: after a warm-up chunk, ``--repeats`` training calls of ``--images`` distinct
  MNIST images each. Per call: wall milliseconds per image of the whole call
  (``DiehlCook.train``: passing the state in and out, every run of the binary, the
  intensity raises), the binary's own wall time summed over all its runs in the call,
  and CPU milliseconds per image of the binary (child processes) and of Python. The
  median over the calls is reported; on a shared machine the CPU figures are the steadier
  ones (the load average is printed with each call).

BindsNET's ``DiehlAndCook2015`` per-image time is measured beside it when
``--bindsnet-python`` points at a python that imports ``bindsnet`` (a separate venv:
BindsNET pins its own dependencies).

    NEURO_DATA=/work/shared/data/mnist10k python -m experiments.benchmarks.bench_snn \\
        --bindsnet-python .cache/bindsnet-venv/bin/python
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

#: BindsNET's Diehl & Cook network, timed per image: its ``DiehlAndCook2015`` model with
#: the paper's values where its constructor takes them (dt 0.5 ms, its paper-rule option
#: ``learning_rule=DiehlAndCook`` from ``bindsnet.learning.MCC_learning``, theta_plus
#: 0.05 mV, its defaults norm 78.4, exc 22.5, inh 17.5), Poisson input at pixel / 8 * 2 Hz
#: (the paper's starting intensity; ``poisson`` takes rates in Hz) for 350 ms, then
#: ``reset_state_variables`` (its examples' stand-in for the 150 ms rest, not simulated);
#: no intensity raise (its training example has none). One torch thread, like our binary.
#: torchvision is replaced by empty modules: BindsNET imports it only for plotting and
#: dataset helpers, and its PyPI wheels do not load against the CPU torch 2.13 here.
_BINDSNET = r"""
import json, sys, time, types
from importlib.metadata import version
import numpy as np
import torch
def _missing(name):
    if name.startswith("__"):
        raise AttributeError(name)
    return type(name, (), {})
tv = types.ModuleType("torchvision")
for sub in ("utils", "datasets", "transforms"):
    m = types.ModuleType("torchvision." + sub)
    m.__getattr__ = _missing
    setattr(tv, sub, m)
    sys.modules["torchvision." + sub] = m
sys.modules["torchvision"] = tv
torch.set_num_threads(1)
import bindsnet
from bindsnet.encoding import poisson
from bindsnet.learning.MCC_learning import DiehlAndCook
from bindsnet.models import DiehlAndCook2015
n_exc, path, n_warm = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
x = torch.from_numpy(np.load(path)).float()
torch.manual_seed(0)
net = DiehlAndCook2015(n_inpt=784, n_neurons=n_exc, dt=0.5, theta_plus=0.05,
                       learning_rule=DiehlAndCook, inpt_shape=(1, 28, 28))
times = []
for k in range(len(x)):
    t0 = time.perf_counter()
    spikes = poisson(datum=x[k] / 8 * 2, time=350, dt=0.5)
    net.run(inputs={"X": spikes.view(700, 1, 1, 28, 28)}, time=350)
    net.reset_state_variables()
    times.append(time.perf_counter() - t0)
rest = times[n_warm:]
print(json.dumps({"ms_per_image": 1e3 * sum(rest) / len(rest), "images": len(rest),
                  "bindsnet": version("bindsnet"),
                  "torch": torch.__version__, "threads": torch.get_num_threads()}))
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


def _cpu_s(who: int) -> float:
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def _threads() -> dict:
    import torch

    info: dict = {"torch": torch.get_num_threads(), "OMP_NUM_THREADS":
                  os.environ.get("OMP_NUM_THREADS")}  # fmt: skip
    try:
        from threadpoolctl import threadpool_info

        info["numpy_blas"] = [(p["internal_api"], p["num_threads"]) for p in threadpool_info()]
    except ImportError:
        info["numpy_blas"] = "threadpoolctl not installed"
    info["brian2_openmp_threads"] = 0  # snn.backend switches OpenMP off
    return info


def worker(n_exc: int, images: int, repeats: int, chunk: int, build_only: bool) -> dict:
    """One process: build (or re-use) the binary for ``n_exc``; optionally time training."""
    from snn import DiehlCook
    from snn import backend as snn_backend

    runs = {"wall_s": 0.0, "n": 0}
    original = snn_backend.StandaloneProject.run

    def timed_run(self, run_args):
        t0 = time.perf_counter()
        try:
            return original(self, run_args)
        finally:
            runs["wall_s"] += time.perf_counter() - t0
            runs["n"] += 1

    snn_backend.StandaloneProject.run = timed_run  # type: ignore[method-assign]
    x, source = _mnist(chunk + repeats * images)
    net = DiehlCook(n_exc, chunk=chunk, seed=0)
    t0 = time.perf_counter()
    net.net._project._ensure()  # type: ignore[union-attr]
    out: dict = {"n_exc": n_exc, "build_s": time.perf_counter() - t0, "data": source}
    if build_only:
        return out
    net.train(x[:chunk])  # warm-up chunk (first run of the binary)
    calls = []
    for rep in range(repeats):
        xs = x[chunk + rep * images : chunk + (rep + 1) * images]
        runs.update(wall_s=0.0, n=0)
        p0 = net.train_events.presentations
        c0, s0 = _cpu_s(resource.RUSAGE_CHILDREN), _cpu_s(resource.RUSAGE_SELF)
        t0 = time.perf_counter()
        net.train(xs)
        wall = time.perf_counter() - t0
        c1, s1 = _cpu_s(resource.RUSAGE_CHILDREN), _cpu_s(resource.RUSAGE_SELF)
        calls.append({
            "images": len(xs),
            "presentations": net.train_events.presentations - p0,
            "runs": runs["n"],
            "ms_per_image": 1e3 * wall / len(xs),
            "binary_wall_ms_per_image": 1e3 * runs["wall_s"] / len(xs),
            "binary_cpu_ms_per_image": 1e3 * (c1 - c0) / len(xs),
            "python_cpu_ms_per_image": 1e3 * (s1 - s0) / len(xs),
            "python_wall_ms_per_image": 1e3 * (wall - runs["wall_s"]) / len(xs),
            "load_avg_1min": os.getloadavg()[0],
        })  # fmt: skip
    keys = [k for k in calls[0] if k.endswith("per_image")]
    out.update(calls=calls, median={k: float(np.median([c[k] for c in calls])) for k in keys},
               threads=_threads())  # fmt: skip
    return out


def _in_process(args: list[str], env: dict) -> dict:
    cmd = [sys.executable, "-m", "experiments.benchmarks.bench_snn", *args]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if out.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench(n_exc: int, args: argparse.Namespace, cache: Path) -> dict:
    env = dict(os.environ, NEURO_SNN_CACHE=str(cache))
    common = ["--images", str(args.images), "--repeats", str(args.repeats),
              "--chunk", str(args.chunk)]  # fmt: skip
    first = _in_process(["--worker", str(n_exc), "--build-only", *common], env)
    row = _in_process(["--worker", str(n_exc), *common], env)
    row["first_build_s"], row["cached_rebuild_s"] = first["build_s"], row.pop("build_s")
    return row


def bindsnet_ms(python: str, n_exc: int, x: np.ndarray, warm: int) -> dict | str:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.npy"
        np.save(path, x.astype(np.float32))
        try:
            out = subprocess.run([python, "-c", _BINDSNET, str(n_exc), str(path), str(warm)],
                                 capture_output=True, text=True, timeout=3600)  # fmt: skip
        except (OSError, subprocess.SubprocessError) as exc:
            return f"failed: {exc}"
    if out.returncode:
        return f"failed: {out.stderr.strip().splitlines()[-1] if out.stderr else '?'}"
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=300, help="images per timed call")
    ap.add_argument("--repeats", type=int, default=3, help="timed calls per size")
    ap.add_argument("--chunk", type=int, default=100, help="DiehlCook(chunk=...)")
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 400])
    ap.add_argument("--bindsnet-python", default=None)
    ap.add_argument("--bindsnet-images", type=int, default=30, help="timed (after 3 warm-up)")
    ap.add_argument("--out", default="out/bench_snn.json")
    ap.add_argument("--worker", type=int, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--build-only", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker is not None:
        res = worker(args.worker, args.images, args.repeats, args.chunk, args.build_only)
        print(json.dumps(res))
        return res

    from snn.backend import cache_root

    root = cache_root()
    root.mkdir(parents=True, exist_ok=True)
    cache = Path(tempfile.mkdtemp(prefix="bench-", dir=root))  # empty: a first build
    try:
        rows = [bench(n, args, cache) for n in args.sizes]
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    import brian2 as b2

    result = {
        "benchmark": "Diehl & Cook training, wall ms per image (C++ standalone, no OpenMP)",
        "data": rows[0]["data"],
        "host": platform.node(),
        "cpus": os.cpu_count(),
        "brian2": b2.__version__,
        "rows": rows,
    }
    if args.bindsnet_python:
        x, _ = _mnist(args.bindsnet_images + 3)
        result["bindsnet"] = {n: bindsnet_ms(args.bindsnet_python, n, x, 3) for n in args.sizes}
    else:
        result["bindsnet"] = "not measured (no --bindsnet-python)"
    print(f"data: {result['data']}; threads: {rows[0]['threads']}")
    print(f"{'n_exc':>5} {'1st build s':>11} {'rebuild s':>9} {'ms/image':>9} "
          f"{'binary wall':>11} {'binary cpu':>10} {'python cpu':>10} {'pres./img':>9} "
          f"{'load':>5}")  # fmt: skip
    for r in rows:
        m, calls = r["median"], r["calls"]
        pres = sum(c["presentations"] for c in calls) / sum(c["images"] for c in calls)
        load = np.median([c["load_avg_1min"] for c in calls])
        print(f"{r['n_exc']:>5} {r['first_build_s']:>11.1f} {r['cached_rebuild_s']:>9.1f} "
              f"{m['ms_per_image']:>9.2f} {m['binary_wall_ms_per_image']:>11.2f} "
              f"{m['binary_cpu_ms_per_image']:>10.2f} {m['python_cpu_ms_per_image']:>10.2f} "
              f"{pres:>9.3f} {load:>5.1f}")  # fmt: skip
    print("(ms per image: medians over", args.repeats, "calls of", args.images, "images)")
    print("BindsNET DiehlAndCook2015:", json.dumps(result["bindsnet"]))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
