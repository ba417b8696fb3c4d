"""Side by side with IBM aihwkit: the same trained networks on aihwkit's default PCM inference
configuration and on our ``aimc:pcm`` target with the matched periphery.

aihwkit (``InferenceRPUConfig`` defaults, with ``mapping.weight_scaling_omega = 1``: each
tile's max |W| mapped to 1): ``PCMLikeNoiseModel(g_max=25 µS)``, 7-bit signed
DAC (``inp_res = 1/126``) with per-vector abs-max noise management, 9-bit ADC
(``out_res = 1/510``) over ``out_bound = ±12``, output noise 0.06, tiles of 512 × 512 weights
with one scale per tile, ``GlobalDriftCompensation`` (or none).

Ours, matched: PCM preset (the same statistical model), 6 magnitude bits + sign per vector
(the same 126 steps), ADC 9 bits fixed at ±12 full-scale cells, ``out_noise = 0.06``, tiles
of 512 rows × 1,024 columns (512 differential weights), one scale per tile, drift
compensation measured through the periphery (or none). Not matched: aihwkit's iterative
bound management (inputs halved and the MVM repeated when an output clips).

Each side: ``--repeats`` programmings, read at 1 s, 1 h, 1 day and 1 year after programming.

Run (with aihwkit installed, e.g. ``pip install -e .[validate]``; it builds from its sdist
against the installed torch and needs ``libopenblas-dev``)::

    python experiments/aihwkit_side_by_side.py --workloads mlp-fmnist cnn-fmnist \\
        --test-limit 1000 --repeats 3

Without aihwkit the script says so and exits 0.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

TIMES_S = (1.0, 3600.0, 86400.0, 365 * 86400.0)


def matched_config(drift_compensation: bool):
    """Our crossbar configuration with aihwkit's default inference periphery."""
    from crossbar import ADCConfig, CrossbarConfig, DACConfig

    return CrossbarConfig(
        tile_rows=512,
        tile_cols=1024,
        weight_scaling="tile",
        dac=DACConfig(bits=6, range_mode="dynamic"),
        adc=ADCConfig(bits=9, range_mode="fixed", full_scale=12.0, out_noise=0.06),
        drift_compensation=drift_compensation,
    )


def ours(workload, drift_compensation: bool, test_limit: int, repeats: int) -> np.ndarray:
    """Accuracy (repeats, times) on our PCM target with the matched periphery."""
    import devices
    from neuro.targets.analog import Analog, AnalogConfig

    cfg = AnalogConfig(
        device="pcm", crossbar=matched_config(drift_compensation), times_s=TIMES_S,
        read_time_s=TIMES_S[2], repeats=repeats, test_limit=test_limit,
    )  # fmt: skip
    acc, _ = Analog(cfg)._accuracy(workload, devices.get("pcm"), 0, {})
    return acc


def theirs(workload, drift_compensation: bool, test_limit: int, repeats: int) -> np.ndarray:
    """Accuracy (repeats, times) on aihwkit's default PCM inference configuration."""
    import torch
    from aihwkit.inference import GlobalDriftCompensation, PCMLikeNoiseModel
    from aihwkit.nn.conversion import convert_to_analog
    from aihwkit.simulator.configs import InferenceRPUConfig

    from neuro.workloads import dataset_for, evaluate_accuracy, trained_model

    tm = trained_model(workload)
    x, y = dataset_for(workload).tensors("test", limit=test_limit)
    rpu = InferenceRPUConfig()
    # aihwkit 1.2's default keeps the weights unscaled in the tile (omega 0), which puts its
    # out_noise and out_bound in weight units; omega 1 (its inference examples) maps each
    # tile's max |W| to 1, the normalised units our periphery is matched in.
    rpu.mapping.weight_scaling_omega = 1.0
    rpu.noise_model = PCMLikeNoiseModel(g_max=25.0)
    rpu.drift_compensation = GlobalDriftCompensation() if drift_compensation else None
    acc = np.zeros((repeats, len(TIMES_S)))
    for r in range(repeats):
        torch.manual_seed(1000 + r)  # aihwkit draws from torch's global generator
        model = convert_to_analog(tm.model, rpu).eval()
        model.program_analog_weights()
        for i, t in enumerate(TIMES_S):
            model.drift_analog_weights(t)
            acc[r, i] = evaluate_accuracy(model, x, y)
    return acc


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workloads", nargs="+", default=["mlp-fmnist", "cnn-fmnist"])
    parser.add_argument("--test-limit", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default="out/aihwkit_side_by_side.json")
    args = parser.parse_args(argv)
    try:
        import aihwkit
    except ImportError:
        print(
            "aihwkit is not installed: side-by-side skipped (pip install -e .[validate]; it "
            "builds from source and needs libopenblas-dev)"
        )
        return 0
    from neuro import workloads

    print(
        f"aihwkit {aihwkit.__version__} vs aimc:pcm (matched periphery), first "
        f"{args.test_limit:,} test images, {args.repeats} programmings; accuracy % mean ± std"
    )
    head = " | ".join(("1 s", "1 h", "1 day", "1 year"))
    print(f"| workload | simulator | drift comp. | {head} |")
    print("|---|---|---|" + "---|" * len(TIMES_S))
    runs = []
    for name in args.workloads:
        w = workloads.get(name)
        for comp in (True, False):
            accs = {}
            for label, fn in (("aihwkit", theirs), ("ours", ours)):
                t0 = time.time()
                acc = accs[label] = 100 * fn(w, comp, args.test_limit, args.repeats)
                cells = " | ".join(
                    f"{m:.2f} ± {s:.2f}" for m, s in zip(acc.mean(0), acc.std(0), strict=True)
                )
                print(
                    f"| {name} | {label} | {'yes' if comp else 'no'} | {cells} |"
                    f"  <!-- {time.time() - t0:.0f} s -->",
                    flush=True,
                )
            diff, se = mean_difference(accs["ours"], accs["aihwkit"])
            cells = " | ".join(f"{d:+.2f} ± {e:.2f}" for d, e in zip(diff, se, strict=True))
            print(f"| {name} | ours − aihwkit (± s.e.) | {'yes' if comp else 'no'} | {cells} |")
            runs.append({
                "workload": name, "drift_compensation": comp,
                "accuracy_pct": {k: v.tolist() for k, v in accs.items()},
                "difference_pct": diff.tolist(), "difference_se_pct": se.tolist(),
            })  # fmt: skip
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "aihwkit": aihwkit.__version__, "times_s": TIMES_S, "test_limit": args.test_limit,
        "repeats": args.repeats, "runs": runs,
    }, indent=1))  # fmt: skip
    print(f"wrote {out}")
    return 0


def mean_difference(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Difference of the mean accuracies ``a − b`` per read time and its standard error
    (Welch: ``sqrt(s_a²/n_a + s_b²/n_b)``, sample standard deviations over programmings)."""
    se = np.sqrt(a.var(0, ddof=1) / len(a) + b.var(0, ddof=1) / len(b))
    return a.mean(0) - b.mean(0), se


if __name__ == "__main__":
    sys.exit(main())
