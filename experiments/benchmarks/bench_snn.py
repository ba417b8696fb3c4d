"""Time per training image of the Diehl & Cook network (C++ standalone, one core).

The protocol of issue 15 item 3: ``--n-exc`` 400 excitatory neurons, ``--passes`` 2
passes over ``--images`` 9,000 MNIST images (18,000 training images, re-shows of silent
images included in the time), from an untrained network, in chunks of ``--chunk`` 100
images (one run of the binary each). Times are of training only (no label assignment or
testing). Reported per variant:

* ``ms_per_image`` (wall) and ``cpu_ms_per_image`` (the binary's CPU, children of this
  process, plus Python's) over the WHOLE run: total / training images;
* the medians over chunks of the same, and ``presentations`` per image;
* the 1-minute load average (min, median, max over the chunks), CPU count, threads;
* build times: a first build into an empty cache folder and a cached rebuild.

``--images 1000 --passes 1`` times a fraction (say so when quoting it: the cost per
image grows while the layer learns; measured from 16 excitatory spikes per presentation
over the first 600 images to 22 over the second pass). ``--baseline-src DIR`` runs the
same protocol again with the ``snn`` package found in ``DIR`` (e.g. ``git archive
<commit> snn | tar -x -C DIR``), after the current one; on a shared machine compare the
CPU figures and the load printed beside them.

BindsNET's ``DiehlAndCook2015`` per-image time is measured beside it when
``--bindsnet-python`` points at a python that imports ``bindsnet`` (a separate venv:
BindsNET pins its own dependencies).

    NEURO_DATA=/work/shared/data/mnist10k OMP_NUM_THREADS=1 \\
        python -m experiments.benchmarks.bench_snn --sizes 400 --images 9000 --passes 2
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


def worker(
    n_exc: int, images: int, passes: int, chunk: int, build_only: bool, seed: int, method: str
) -> dict:
    """One process: build (or re-use) the binary for ``n_exc``; optionally train through
    the protocol, timing every chunk."""
    import snn
    from snn import DiehlCook, DiehlCookConfig

    x, source = _mnist(images)
    net = DiehlCook(n_exc, chunk=chunk, seed=seed, config=DiehlCookConfig(method=method))
    t0 = time.perf_counter()
    net.net._project._ensure()  # type: ignore[union-attr]
    out: dict = {"n_exc": n_exc, "build_s": time.perf_counter() - t0, "data": source,
                 "snn": str(Path(snn.__file__).parent), "config": repr(net.cfg)}  # fmt: skip
    if build_only:
        return out
    chunks: list[dict] = []
    mark = {"t": time.perf_counter(), "c": _cpu_s(resource.RUSAGE_CHILDREN),
            "s": _cpu_s(resource.RUSAGE_SELF), "p": 0, "n": 0}  # fmt: skip

    def progress(done: int, total: int) -> None:
        t, c, s = (
            time.perf_counter(),
            _cpu_s(resource.RUSAGE_CHILDREN),
            _cpu_s(resource.RUSAGE_SELF),
        )
        n = done - mark["n"] if done > mark["n"] else done
        p = net.train_events.presentations
        chunks.append({"images": n, "presentations": p - mark["p"], "wall_s": t - mark["t"],
                       "binary_cpu_s": c - mark["c"], "python_cpu_s": s - mark["s"],
                       "load_avg_1min": os.getloadavg()[0]})  # fmt: skip
        mark.update(t=t, c=c, s=s, p=p, n=done % total)

    t_start = time.perf_counter()
    for _ in range(passes):
        net.train(x, progress=progress)
    wall = time.perf_counter() - t_start
    n = sum(ch["images"] for ch in chunks)
    per = {k: np.array([1e3 * ch[k] / ch["images"] for ch in chunks])
           for k in ("wall_s", "binary_cpu_s", "python_cpu_s")}  # fmt: skip
    cpu = per["binary_cpu_s"] + per["python_cpu_s"]
    loads = [ch["load_avg_1min"] for ch in chunks]
    out.update(
        images=n,
        presentations_per_image=net.train_events.presentations / n,
        exc_spikes_per_presentation=net.train_events.exc_spikes / net.train_events.presentations,
        wall_s=wall,
        ms_per_image=1e3 * wall / n,
        cpu_ms_per_image=1e3 * sum(ch["binary_cpu_s"] + ch["python_cpu_s"] for ch in chunks) / n,
        binary_cpu_ms_per_image=1e3 * sum(ch["binary_cpu_s"] for ch in chunks) / n,
        python_cpu_ms_per_image=1e3 * sum(ch["python_cpu_s"] for ch in chunks) / n,
        median_chunk_ms_per_image=float(np.median(per["wall_s"])),
        median_chunk_cpu_ms_per_image=float(np.median(cpu)),
        load_avg_1min={"min": min(loads), "median": float(np.median(loads)), "max": max(loads)},
        chunks=chunks,
        threads=_threads(),
    )
    return out


def _in_process(args: list[str], env: dict) -> dict:
    # run as a script (not ``-m``): the current directory is then not first on the path,
    # so a baseline's snn package (PYTHONPATH) is the one imported
    cmd = [sys.executable, str(Path(__file__).resolve()), *args]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if out.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench(n_exc: int, args: argparse.Namespace, cache: Path, src: str | None = None) -> dict:
    env = dict(os.environ, NEURO_SNN_CACHE=str(cache), OMP_NUM_THREADS="1")
    root = str(Path(__file__).resolve().parents[2])  # the checkout (neuro, devices, snn)
    paths = [src, root] if src is not None else [root]  # a baseline's snn package first
    env["PYTHONPATH"] = os.pathsep.join([*paths, env.get("PYTHONPATH", "")])
    common = ["--images", str(args.images), "--passes", str(args.passes),
              "--chunk", str(args.chunk), "--seed", str(args.seed),
              "--method", args.method]  # fmt: skip
    first = _in_process(["--worker", str(n_exc), "--build-only", *common], env)
    row = _in_process(["--worker", str(n_exc), *common], env)
    row["first_build_s"], row["cached_rebuild_s"] = first["build_s"], row.pop("build_s")
    row["variant"] = "baseline" if src is not None else "current"
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
    ap.add_argument("--images", type=int, default=9000, help="training images per pass")
    ap.add_argument("--passes", type=int, default=2)
    ap.add_argument("--chunk", type=int, default=100, help="DiehlCook(chunk=...)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--method", default="exponential_euler", help="DiehlCookConfig.method")
    ap.add_argument("--sizes", type=int, nargs="+", default=[400])
    ap.add_argument("--baseline-src", default=None,
                    help="a directory with an older snn package, timed the same way")  # fmt: skip
    ap.add_argument("--bindsnet-python", default=None)
    ap.add_argument("--bindsnet-images", type=int, default=30, help="timed (after 3 warm-up)")
    ap.add_argument("--out", default="out/bench_snn.json")
    ap.add_argument("--worker", type=int, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--build-only", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker is not None:
        res = worker(args.worker, args.images, args.passes, args.chunk, args.build_only,
                     args.seed, args.method)  # fmt: skip
        print(json.dumps(res))
        return res

    from snn.backend import cache_root

    root = cache_root()
    root.mkdir(parents=True, exist_ok=True)
    cache = Path(tempfile.mkdtemp(prefix="bench-", dir=root))  # empty: a first build
    try:
        rows = [bench(n, args, cache) for n in args.sizes]
        if args.baseline_src:
            rows += [bench(n, args, cache, str(Path(args.baseline_src).resolve()))
                     for n in args.sizes]  # fmt: skip
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    import brian2 as b2

    result = {
        "benchmark": "Diehl & Cook training, ms per training image over the protocol "
        "(C++ standalone, one core, no OpenMP)",
        "protocol": {"images": args.images, "passes": args.passes, "chunk": args.chunk,
                     "seed": args.seed, "method": args.method},
        "data": rows[0]["data"],
        "host": platform.node(),
        "cpus": os.cpu_count(),
        "load_avg_at_end": os.getloadavg(),
        "brian2": b2.__version__,
        "rows": rows,
    }  # fmt: skip
    if args.bindsnet_python:
        x, _ = _mnist(args.bindsnet_images + 3)
        result["bindsnet"] = {n: bindsnet_ms(args.bindsnet_python, n, x, 3) for n in args.sizes}
    else:
        result["bindsnet"] = "not measured (no --bindsnet-python)"
    print(f"data: {result['data']}; threads: {rows[0]['threads']}; "
          f"protocol: {args.passes} x {args.images} images, chunk {args.chunk}")  # fmt: skip
    print(f"{'variant':>8} {'n_exc':>5} {'1st build s':>11} {'rebuild s':>9} "
          f"{'ms/img wall':>11} {'ms/img CPU':>10} {'median wall':>11} {'median CPU':>10} "
          f"{'pres./img':>9} {'load min/med/max':>16}")  # fmt: skip
    for r in rows:
        ld = r["load_avg_1min"]
        print(f"{r['variant']:>8} {r['n_exc']:>5} {r['first_build_s']:>11.1f} "
              f"{r['cached_rebuild_s']:>9.1f} {r['ms_per_image']:>11.2f} "
              f"{r['cpu_ms_per_image']:>10.2f} {r['median_chunk_ms_per_image']:>11.2f} "
              f"{r['median_chunk_cpu_ms_per_image']:>10.2f} "
              f"{r['presentations_per_image']:>9.3f} "
              f"{ld['min']:>5.1f}/{ld['median']:.1f}/{ld['max']:.1f}")  # fmt: skip
    print("(whole run: total / training images; medians over chunks)")
    print("BindsNET DiehlAndCook2015:", json.dumps(result["bindsnet"]))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
