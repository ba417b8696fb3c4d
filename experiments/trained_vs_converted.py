"""Directly trained spiking networks beside converted ones: accuracy, events and energy vs T.

For each workload, through the spiking target (``snn:<chip>``, Brian2 standalone):

* trained: for each ``--steps`` value ``T``, the workload trained as a LIF network for
  ``T`` steps (:func:`neuro.workloads.snn_training.trained_snn`, cached) and simulated in
  Brian2 on ``--test-limit`` test images (default: all 10,000) in chunks of 1,000; its
  accuracy beside the torch forward's on the same images (and the fraction of equal
  predictions), synaptic events, spikes and chip energy per inference, training time;
* converted: one run of the converted network (``SpikingConfig(mode="convert")``) for
  ``--convert-steps`` steps on ``--convert-limit`` test images, read at every power of two.

    python experiments/trained_vs_converted.py --workloads mlp-fmnist cnn-fmnist --steps 2 4 8

Writes ``out/trained_vs_converted.json`` and ``.png`` (accuracy, synaptic events, chip energy
and chip energy without static power per inference against ``T``; trained networks as points at the ``T`` they were trained
for, each with its early readouts as a thin line).
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
from neuro.targets.spiking import Spiking, SpikingConfig  # noqa: E402


def _curve(r, name: str) -> list[float]:
    return [float(v) for v in r.curves[name].y]


def _dynamic(r) -> list[float]:
    """Chip energy at each checkpoint without static power (static is linear in time)."""
    static = r.group_energy().get("static") or 0.0
    steps = np.asarray(r.curves["energy_vs_steps"].x, dtype=float)
    return [float(e - static * t / steps[-1])
            for e, t in zip(r.curves["energy_vs_steps"].y, steps)]  # fmt: skip


def run_trained(workload: str, steps: int, chip: str, limit: int | None) -> dict:
    t0 = time.perf_counter()
    cfg = SpikingConfig(mode="trained", steps=steps, test_limit=limit)
    r = Spiking(chip, cfg).evaluate(workloads.get(workload), seed=0)
    return {
        "steps": steps,
        "accuracy_brian2": r.accuracy,
        "accuracy_torch": r.extra["torch_accuracy_same_inputs"],
        "agreement": r.extra["torch_agreement"],
        "torch_test_accuracy_full": r.extra["torch_test_accuracy_full"],
        "synaptic_events_per_inference": r.extra["synaptic_events"],
        "spikes_per_inference": r.extra["spikes"],
        "energy_per_inference_J": r.energy_per_inference,
        "energy_groups_J": r.group_energy(),
        "train_time_s": r.extra["train_time_s"],
        "train_cpu_s": r.extra["train_cpu_s"],
        "train_epochs": r.extra["train_epochs"],
        "test_inputs": r.extra["test_inputs"],
        "early": {
            "steps": [int(s) for s in r.curves["accuracy_vs_steps"].x],
            "accuracy": _curve(r, "accuracy_vs_steps"),
            "synaptic_events": _curve(r, "synaptic_events_vs_steps"),
            "energy_J": _curve(r, "energy_vs_steps"),
            "dynamic_energy_J": _dynamic(r),
        },
        "wall_s": time.perf_counter() - t0,
    }


def run_converted(workload: str, steps: int, chip: str, limit: int) -> dict:
    t0 = time.perf_counter()
    r = Spiking(chip, SpikingConfig(steps=steps, test_limit=limit)).evaluate(
        workloads.get(workload), seed=0
    )
    return {
        "steps": [int(s) for s in r.curves["accuracy_vs_steps"].x],
        "accuracy": _curve(r, "accuracy_vs_steps"),
        "synaptic_events": _curve(r, "synaptic_events_vs_steps"),
        "energy_J": _curve(r, "energy_vs_steps"),
        "dynamic_energy_J": _dynamic(r),
        "fp32_accuracy_same_inputs": r.extra["fp32_accuracy_same_inputs"],
        "energy_groups_J_at_max_steps": r.group_energy(),
        "test_inputs": r.extra["test_inputs"],
        "wall_s": time.perf_counter() - t0,
    }


def plot(out: dict, path: Path) -> Path:
    """Rows: workloads; columns: accuracy, synaptic events, chip energy, dynamic energy vs
    ``T``, and accuracy against dynamic energy."""
    names = list(out["workloads"])
    fig, axes = plt.subplots(len(names), 5, figsize=(21, 3.6 * len(names)), squeeze=False)
    for row, name in zip(axes, names):
        w = out["workloads"][name]
        conv = w.get("converted")
        tr = w.get("trained", [])
        keys = [("accuracy", "accuracy (%)"), ("synaptic_events", "synaptic events / inference"),
                ("energy_J", f"chip energy / inference (J, {out['chip']})"),
                ("dynamic_energy_J", "without static power (J)")]  # fmt: skip
        for ax, (key, label) in zip(row, keys):
            scale = 100.0 if key == "accuracy" else 1.0
            if conv:
                ax.plot(conv["steps"], np.asarray(conv[key]) * scale, "o-", color="tab:blue",
                        label=f"converted ({int(conv['test_inputs']):,} images)")  # fmt: skip
            for k, t in enumerate(tr):
                e = t["early"]
                ax.plot(e["steps"], np.asarray(e[key]) * scale, "-", color="tab:orange",
                        alpha=0.35, lw=1)  # fmt: skip
                ax.plot([t["steps"]], [e[key][-1] * scale], "s", color="tab:orange",
                        label=(f"trained at T ({int(t['test_inputs']):,} images)"
                               if k == 0 else None))  # fmt: skip
            ax.set_xscale("log", base=2)
            if key != "accuracy":
                ax.set_yscale("log")
            else:
                ax.set_ylim(0, 100)
            ax.set_xlabel("time steps T")
            ax.set_ylabel(label)
            ax.grid(alpha=0.3)
        ax = row[4]  # the trade-off itself: accuracy against energy without static power
        if conv:
            ax.plot(conv["dynamic_energy_J"], 100 * np.asarray(conv["accuracy"]), "o-",
                    color="tab:blue")  # fmt: skip
            for s_, e_, a_ in zip(conv["steps"], conv["dynamic_energy_J"], conv["accuracy"]):
                ax.annotate(str(s_), (e_, 100 * a_), fontsize=7, xytext=(2, -9),
                            textcoords="offset points")  # fmt: skip
        for t in tr:
            ax.plot([t["early"]["dynamic_energy_J"][-1]], [100 * t["accuracy_brian2"]], "s",
                    color="tab:orange")  # fmt: skip
            ax.annotate(f"T={t['steps']}", (t["early"]["dynamic_energy_J"][-1],
                        100 * t["accuracy_brian2"]), fontsize=7, xytext=(2, 4),
                        textcoords="offset points")  # fmt: skip
        ax.set_xscale("log")
        ax.set_ylim(75, 92)
        ax.set_xlabel("energy without static power (J)")
        ax.set_ylabel("accuracy (%)")
        ax.grid(alpha=0.3)
        row[0].set_title(name)
        row[0].legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workloads", nargs="+", default=["mlp-fmnist", "cnn-fmnist"])
    ap.add_argument("--steps", nargs="+", type=int, default=[2, 4, 8])
    ap.add_argument("--test-limit", type=int, default=None, help="trained: test images (all)")
    ap.add_argument("--convert-steps", type=int, default=64)
    ap.add_argument("--convert-limit", type=int, default=1000)
    ap.add_argument("--no-convert", action="store_true")
    ap.add_argument("--chip", default="loihi")
    ap.add_argument("--out", type=Path, default=Path("out/trained_vs_converted.json"))
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    out = {"chip": args.chip, "workloads": {}, "provenance": provenance()}
    if args.out.is_file():  # add to an earlier run (one workload at a time)
        out["workloads"] = json.loads(args.out.read_text()).get("workloads", {})
    args.out.parent.mkdir(parents=True, exist_ok=True)
    for name in args.workloads:
        w = out["workloads"].setdefault(name, {})
        # entries of other T from an earlier run stay (one T at a time if needed)
        w["trained"] = [e for e in w.get("trained", []) if e["steps"] not in args.steps]
        for t in args.steps:
            res = run_trained(name, t, args.chip, args.test_limit)
            w["trained"] = sorted([*w["trained"], res], key=lambda e: e["steps"])
            print(name, "trained T =", t, {k: v for k, v in res.items() if k != "early"},
                  flush=True)  # fmt: skip
            args.out.write_text(json.dumps(out, indent=1))
        if not args.no_convert:
            w["converted"] = run_converted(name, args.convert_steps, args.chip,
                                           args.convert_limit)  # fmt: skip
            print(name, "converted", w["converted"], flush=True)
        args.out.write_text(json.dumps(out, indent=1))
    png = plot(out, args.out.with_suffix(".png"))
    print("wrote", args.out, png)
    return out


if __name__ == "__main__":
    main()
