"""Diehl & Cook (2015) STDP on MNIST with ideal or device synapses.

Trains on the training split (9,000 images of the 10k set at
``NEURO_DATA=/work/shared/data/mnist10k``) for ``--passes`` passes, and after every
``--eval-every`` training images assigns labels on ``--assign`` training images and tests
on the test split (1,000 images): accuracy against the number of training images shown.
The final point assigns labels with all training images. Writes JSON to ``--out``.

    NEURO_DATA=/work/shared/data/mnist10k python experiments/dc_stdp_mnist.py \
        --n-exc 400 --images 9000 --passes 3 --device ideal --out out/dc_ideal.json

A device row retuned (``--nu-pre``/``--nu-post``: the STDP rates per direction;
``--rounding nearest``: the normalisation re-programs to the nearest level; ``--retune``
says why, stored with the run and shown by ``dc_stdp_table.py``), e.g. the FeFET row of
``snn/README.md``::

    python experiments/dc_stdp_mnist.py --device fefet --images 9000 --passes 1 \
        --nu-post 5.03e-3 --nu-pre 1.82e-4 --rounding nearest --retune "..."
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from pathlib import Path

import numpy as np

import devices
from neuro.data import load_dataset
from snn import (
    DeviceSynapse,
    DiehlCook,
    DiehlCookConfig,
    DifferentialDeviceSynapse,
    IdealSynapse,
    STDPRule,
)


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-exc", type=int, default=400)
    ap.add_argument("--images", type=int, default=9000, help="training images per pass")
    ap.add_argument("--passes", type=int, default=3)
    ap.add_argument("--device", default="ideal", help=f"ideal or one of {devices.names()}")
    ap.add_argument("--test", type=int, default=1000, help="test images")
    ap.add_argument("--assign", type=int, default=3000, help="labelled images per checkpoint")
    ap.add_argument("--eval-every", type=int, default=3000)
    ap.add_argument("--chunk", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--pair", action="store_true", help="two cells per synapse (w - wm)")
    ap.add_argument("--method", default="exponential_euler",
                    choices=("exponential_euler", "euler"),
                    help="neuron integration (DiehlCookConfig.method)")  # fmt: skip
    ap.add_argument(
        "--nu-pre",
        type=float,
        default=None,
        help="depression rate per presynaptic spike (default: STDPRule's 1e-4)",
    )
    ap.add_argument(
        "--nu-post",
        type=float,
        default=None,
        help="potentiation rate per postsynaptic spike (default: STDPRule's 1e-2)",
    )
    ap.add_argument("--rounding", default="stochastic", choices=("stochastic", "nearest"),
                    help="device synapses: level choice of the normalisation's re-programming")  # fmt: skip
    ap.add_argument(
        "--retune", default="", help="what the rates compensate and why (stored with the run)"
    )
    ap.add_argument("--backend", default="standalone")
    ap.add_argument(
        "--log-every",
        type=int,
        default=500,
        help="print training progress every N images of a checkpoint block",
    )
    ap.add_argument("--out", default="out/dc_stdp_mnist.json")
    args = ap.parse_args(argv)

    ds = load_dataset("mnist", allow_download=False, allow_fallback=False)
    x_train = ds.x_train[: args.images].reshape(-1, 784).astype(float)
    y_train = ds.y_train[: args.images]
    x_test, y_test = ds.x_test[: args.test].reshape(-1, 784).astype(float), ds.y_test[: args.test]
    if args.device == "ideal":
        synapse = IdealSynapse()
    elif args.pair:
        synapse = DifferentialDeviceSynapse(
            devices.get(args.device), seed=args.seed, rounding=args.rounding
        )
    else:
        synapse = DeviceSynapse(devices.get(args.device), seed=args.seed, rounding=args.rounding)
    rates = {k: v for k, v in (("nu_pre", args.nu_pre), ("nu_post", args.nu_post)) if v is not None}
    stdp = STDPRule(**rates)
    net = DiehlCook(args.n_exc, synapse, chunk=args.chunk, backend=args.backend, seed=args.seed,
                    config=DiehlCookConfig(method=args.method, stdp=stdp))  # fmt: skip
    out: dict = {
        "n_exc": args.n_exc, "device": args.device, "synapse": synapse.describe(),
        "train_images": len(x_train), "passes": args.passes, "test_images": len(x_test),
        "data_source": ds.source, "seed": args.seed, "method": args.method, "curve": [],
        "stdp": {"nu_pre": stdp.nu_pre, "nu_post": stdp.nu_post}, "retune": args.retune,
    }  # fmt: skip
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    if net.net._project is not None:  # build (or re-use) the binary outside the timing
        net.net._project._ensure()
    t_start = time.perf_counter()
    shown = 0

    def cpu() -> tuple[float, float]:
        """CPU seconds of this process and of its children (the standalone binary)."""
        me, kids = (resource.getrusage(w) for w in (resource.RUSAGE_SELF,
                                                    resource.RUSAGE_CHILDREN))  # fmt: skip
        return me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime

    def checkpoint(n_assign: int) -> None:
        t0 = time.perf_counter()
        ev0 = net.test_events.exc_spikes, net.test_events.images
        net.assign_labels(x_train[:n_assign], y_train[:n_assign])
        ev1 = net.test_events.exc_spikes, net.test_events.images
        acc = net.evaluate(x_test, y_test)
        ev2 = net.test_events.exc_spikes, net.test_events.images
        theta_mV = 1e3 * np.asarray(net.state["theta"])
        point = {"images_shown": shown, "accuracy": acc, "assign_images": n_assign,
                 "eval_s": time.perf_counter() - t0,
                 "elapsed_s": time.perf_counter() - t_start,
                 "train_s": train_s, "train_presentations": net.train_events.presentations,
                 "exc_spikes_per_assign_image": (ev1[0] - ev0[0]) / max(ev1[1] - ev0[1], 1),
                 "exc_spikes_per_test_image": (ev2[0] - ev1[0]) / max(ev2[1] - ev1[1], 1),
                 "theta_mV": {"mean": float(theta_mV.mean()), "max": float(theta_mV.max()),
                              "min": float(theta_mV.min())},
                 "load_avg_1min": os.getloadavg()[0]}  # fmt: skip
        out["curve"].append(point)
        print(json.dumps(point), flush=True)
        Path(args.out).write_text(json.dumps(out, indent=1))

    def progress(done: int, total: int) -> None:
        if args.log_every and done % args.log_every == 0:
            ev = net.train_events
            print(json.dumps({"train_images_done": shown + done,
                              "presentations": ev.presentations,
                              "exc_spikes_per_presentation": ev.exc_spikes
                              / max(ev.presentations, 1),
                              "elapsed_s": round(time.perf_counter() - t_start, 1),
                              "load_avg_1min": os.getloadavg()[0]}), flush=True)  # fmt: skip

    train_s = 0.0
    train_cpu = [0.0, 0.0]
    for _ in range(args.passes):
        for start in range(0, len(x_train), args.eval_every):
            t0, c0 = time.perf_counter(), cpu()
            net.train(x_train[start : start + args.eval_every], progress=progress)
            train_s += time.perf_counter() - t0
            c1 = cpu()
            train_cpu[0] += c1[0] - c0[0]
            train_cpu[1] += c1[1] - c0[1]
            shown += len(x_train[start : start + args.eval_every])
            if shown < args.passes * len(x_train):
                checkpoint(min(args.assign, len(x_train)))
    checkpoint(len(x_train))
    ev = net.train_events
    out.update(
        accuracy=out["curve"][-1]["accuracy"],
        train_s=train_s,
        train_ms_per_presentation=1e3 * train_s / max(ev.presentations, 1),
        train_presentations=ev.presentations,
        train_images_total=shown,
        train_ms_per_image=1e3 * train_s / max(shown, 1),
        train_cpu_s={"python": train_cpu[0], "binary": train_cpu[1]},
        train_cpu_ms_per_image=1e3 * sum(train_cpu) / max(shown, 1),
        train_events_per_image=ev.per_image(),
        build_s=net.build_time_s,
        test_build_s=net.test_build_time_s,
        test_events_per_image=net.test_events.per_image(),
        mean_weight=float(np.mean(net.weights)),
        writes=net.write_counts(),
        load_avg=os.getloadavg(),
        omp_num_threads=os.environ.get("OMP_NUM_THREADS"),
    )
    Path(args.out).write_text(json.dumps(out, indent=1))
    print(json.dumps({k: v for k, v in out.items() if k != "curve"}), flush=True)
    return out


if __name__ == "__main__":
    main()
