"""Accuracy of mlp-fmnist on each device against ADC bits (4–10) and time since programming.

For each registered physical device (and the ideal cell as a control) and each ADC
resolution, the ``aimc`` target converts the trained MLP, calibrates the converters on 256
training images and evaluates the test split at 1 s, 1 h, 1 day and 1 year after
programming, over ``--repeats`` programmings. Results go to an HDF5 archive (one run per
device and resolution) and a PNG.

    python experiments/adc_drift_sweep.py [--out out/adc_drift_sweep] [--test-limit N]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import devices  # noqa: E402
from crossbar import ADCConfig, CrossbarConfig  # noqa: E402
from neuro import workloads  # noqa: E402
from neuro.archive import Archive  # noqa: E402
from neuro.targets.analog import DEFAULT_TIMES_S, Analog, AnalogConfig  # noqa: E402


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="out/adc_drift_sweep")
    p.add_argument("--workload", default="mlp-fmnist")
    p.add_argument("--devices", nargs="+", default=["ideal", "pcm", "reram", "fefet", "memcap"])
    p.add_argument("--bits", type=int, nargs="+", default=list(range(4, 11)))
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--test-limit", type=int, default=None)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    w = workloads.get(args.workload)
    names = [d for d in args.devices if d in devices.names()]
    acc = {}
    with Archive(out / "sweep.h5", mode="a") as archive:
        for dev in names:
            for bits in args.bits:
                cfg = AnalogConfig(
                    device=dev, crossbar=CrossbarConfig(adc=ADCConfig(bits=bits)),
                    times_s=DEFAULT_TIMES_S, repeats=args.repeats, test_limit=args.test_limit,
                )  # fmt: skip
                r = Analog(cfg).evaluate(w, seed=args.seed)
                r.check()
                archive.append(r)
                c = r.curves["accuracy_vs_time"]
                acc[(dev, bits)] = (c.y.tolist(), c.y_std.tolist())
                print(dev, bits, " ".join(f"{a:.4f}" for a in c.y),
                      f"fp32 {r.extra['fp32_accuracy']:.4f}", flush=True)  # fmt: skip
    labels = ["1 s", "1 h", "1 day", "1 year"]
    fig, axes = plt.subplots(1, len(names), figsize=(3.2 * len(names), 3.2), sharey=True)
    for ax, dev in zip(np.atleast_1d(axes), names):
        for k, lab in enumerate(labels):
            ys = [acc[(dev, b)][0][k] for b in args.bits]
            es = [acc[(dev, b)][1][k] for b in args.bits]
            ax.errorbar(args.bits, ys, yerr=es, marker="o", ms=3, label=lab)
        ax.set_title(dev)
        ax.set_xlabel("ADC bits")
    np.atleast_1d(axes)[0].set_ylabel(f"{args.workload} accuracy")
    np.atleast_1d(axes)[-1].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "adc_drift_sweep.png", dpi=120)
    summary = {
        "workload": args.workload, "times_s": list(DEFAULT_TIMES_S), "test_limit": args.test_limit,
        "repeats": args.repeats,
        "accuracy": {f"{d}/{b}": v[0] for (d, b), v in acc.items()},
        "accuracy_std": {f"{d}/{b}": v[1] for (d, b), v in acc.items()},
    }  # fmt: skip
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    return summary


if __name__ == "__main__":
    main()
