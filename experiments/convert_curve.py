"""Accuracy of a converted (ANN-to-SNN) workload against the number of time steps.

Converts the workload's trained network (:func:`snn.convert.convert`, threshold balancing
on ``--calib`` training images) and simulates the first ``--images`` test images for
``--steps`` steps each, in chunks of ``--chunk`` images (one run of the same C++ binary
per chunk, seed ``--seed`` + chunk index). One run gives every checkpoint (powers of two
up to ``--steps``): accuracy, synaptic events, spikes and neuron updates per inference
after ``T`` steps, next to the FP32 accuracy of the same images and the wall times.

    python experiments/convert_curve.py --workload cnn-fmnist --images 1000 --steps 256

Writes JSON to ``--out`` (default ``out/convert_curve_<workload>.json``) and the curve,
accuracy and synaptic events per inference against ``T``, beside it as PNG.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from neuro import workloads  # noqa: E402
from neuro.provenance import provenance  # noqa: E402
from neuro.workloads import dataset_for, trained_model  # noqa: E402
from snn.convert import convert  # noqa: E402


def plot(out: dict, path: Path) -> Path:
    """Accuracy (left) and synaptic events per inference (right) against ``T``."""
    steps = [p["steps"] for p in out["curve"]]
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ax.plot(steps, [100 * p["accuracy"] for p in out["curve"]], "o-", label="converted SNN")
    ax.axhline(100 * out["fp32_accuracy"], color="grey", ls=":", label="FP32 ANN")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("time steps T")
    ax.set_ylabel(f"accuracy (%) on {out['images']:,} test images")
    ax.set_ylim(0, 100)
    ev = ax.twinx()
    ev.plot(steps, [p["synaptic_events_per_inference"] for p in out["curve"]], "s--",
            color="tab:red", alpha=0.6, label="synaptic events")  # fmt: skip
    ev.set_yscale("log")
    ev.set_ylabel("synaptic events per inference")
    ax.set_title(f"{out['workload']}: ANN-to-SNN conversion")
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workload", default="cnn-fmnist")
    ap.add_argument("--images", type=int, default=1000, help="first N test images")
    ap.add_argument("--steps", type=int, default=256)
    ap.add_argument("--calib", type=int, default=500, help="training images for balancing")
    ap.add_argument("--percentile", type=float, default=99.9)
    ap.add_argument("--chunk", type=int, default=250, help="images per simulation run")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--backend", default="standalone")
    ap.add_argument("--v-init", type=float, default=0.0,
                    help="initial membrane potential, fraction of the threshold")  # fmt: skip
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)  # as the `neuro` command: on a shared machine more is slower
    out_path = Path(args.out or f"out/convert_curve_{args.workload}.json")
    out_path.parent.mkdir(parents=True, exist_ok=True)

    w = workloads.get(args.workload)
    tm = trained_model(w)
    ds = dataset_for(w)
    x_cal, _ = ds.tensors("train", limit=args.calib)
    x, y = ds.tensors("test", limit=args.images)
    with torch.no_grad():
        fp32 = float((tm.model(x).argmax(1) == y).float().mean())
    t0 = time.perf_counter()
    net = convert(tm.model, x_cal, percentile=args.percentile)
    convert_s = time.perf_counter() - t0

    preds, spikes_at, events_at, chunks = [], 0, 0, []
    t_sim = time.perf_counter()
    for c, start in enumerate(range(0, len(x), args.chunk)):
        t1 = time.perf_counter()
        run = net.run(x[start : start + args.chunk], args.steps, seed=args.seed + c,
                      backend=args.backend, v_init=args.v_init)  # fmt: skip
        preds.append(run.predictions)
        spikes_at = spikes_at + run.spikes_at
        events_at = events_at + run.events_at
        chunks.append({"images": len(run.predictions[0]), "wall_s": time.perf_counter() - t1})
        print(json.dumps(chunks[-1]), flush=True)
    sim_s = time.perf_counter() - t_sim
    n = len(x)
    acc = (np.concatenate(preds, axis=1) == y.numpy()[None, :]).mean(axis=1)
    steps = run.steps
    build_s = net.build_time_s
    out = {
        "workload": w.name,
        "images": n,
        "calib_images": args.calib,
        "percentile": args.percentile,
        "v_init": args.v_init,
        "seed": args.seed,
        "backend": args.backend,
        "data_source": ds.source,
        "fp32_accuracy": fp32,
        "network": net.describe(),
        "ops_per_inference": float(w.ops_per_inference),
        "curve": [
            {
                "steps": int(t),
                "accuracy": float(acc[k]),
                "synaptic_events_per_inference": float(events_at[k] / n),
                "spikes_per_inference": float(spikes_at[k].sum() / n),
                "spikes_per_layer_per_inference": (spikes_at[k] / n).tolist(),
                "neuron_updates_per_inference": float(sum(net.sizes[1:]) * t),
            }
            for k, t in enumerate(steps)
        ],
        "wall_s": {
            "convert": convert_s,
            "build": build_s,
            "simulate": sim_s - build_s,
            "simulate_ms_per_image": 1e3 * (sim_s - build_s) / n,
            "chunks": chunks,
        },
        "provenance": provenance(),
    }
    out_path.write_text(json.dumps(out, indent=1))
    print(f"curve: {plot(out, out_path.with_suffix('.png'))}")
    print(json.dumps({k: out[k] for k in ("workload", "images", "fp32_accuracy", "wall_s")}))
    for p in out["curve"]:
        print(f"T={p['steps']:4d} acc={p['accuracy']:.4f} "
              f"events/inf={p['synaptic_events_per_inference']:.4g} "
              f"spikes/inf={p['spikes_per_inference']:.4g}")  # fmt: skip
    return out


if __name__ == "__main__":
    main()
