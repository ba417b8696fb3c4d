"""Figures of every registered device: programming noise, drift, pulse response.

For each device in ``devices.names()``: (1) programming-noise std against target
(2,000 cells per target, 16 targets), (2) mean read value against time since programming
(1 s to 10 years, 4,000 cells programmed at 3/4 of the range), (3) the pulse response,
50 potentiating then 50 depressing pulses from ``g_min`` (1,000 cells: mean and 5–95 %).
Saves one PNG per device to ``--out`` and all data to ``--out/device_figures.h5``
(one group per device).

Run: ``python experiments/device_figures.py --out out/devices``
"""

from __future__ import annotations

import argparse
from pathlib import Path

import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

import devices  # noqa: E402


def device_data(name: str, seed: int = 0) -> dict[str, np.ndarray]:
    dev = devices.get(name)
    g = torch.Generator().manual_seed(seed)
    span = dev.g_max - dev.g_min
    targets = torch.linspace(
        dev.g_min + 0.02 * span, dev.g_max - 0.02 * span, 16, dtype=torch.float64
    )
    x = targets.repeat_interleave(2000)
    st = dev.program(x, g)
    prog_std = st.value.reshape(16, -1).std(dim=1).numpy()
    prog_mean = st.value.reshape(16, -1).mean(dim=1).numpy()
    t = np.geomspace(1.0, 10 * 365.25 * 86400, 40)
    st = dev.program(torch.full((4000,), dev.g_min + 0.75 * span, dtype=torch.float64), g)
    drift = np.array([dev.read(st, float(ti), g).mean().item() for ti in t])
    st = dev.program(torch.full((1000,), dev.g_min, dtype=torch.float64), g)
    trace = [st.value]
    for n in [1.0] * 50 + [-1.0] * 50:
        st = dev.pulse(st, n, g)
        trace.append(st.value)
    tr = torch.stack(trace).numpy()
    return {
        "target": targets.numpy(),
        "prog_mean": prog_mean,
        "prog_std": prog_std,
        "t_s": t,
        "drift_mean": drift,
        "drift_value0": np.array(dev.g_min + 0.75 * span),
        "pulse_number": np.arange(tr.shape[0]),
        "pulse_mean": tr.mean(axis=1),
        "pulse_p05": np.percentile(tr, 5, axis=1),
        "pulse_p95": np.percentile(tr, 95, axis=1),
    }


def plot(name: str, d: dict[str, np.ndarray], unit: str, path: Path) -> None:
    scale, label = (1e6, f"µ{unit}") if unit == "S" else (1e15, f"f{unit}")
    fig, ax = plt.subplots(1, 3, figsize=(13, 3.6))
    ax[0].plot(d["target"] * scale, d["prog_std"] * scale, "o-")
    ax[0].set(
        xlabel=f"target ({label})", ylabel=f"programming std ({label})", title="programming noise"
    )
    ax[1].semilogx(d["t_s"], d["drift_mean"] / d["drift_value0"], "-")
    ax[1].set(
        xlabel="time since programming (s)", ylabel="mean / programmed", title="drift / relaxation"
    )
    k = d["pulse_number"]
    ax[2].fill_between(k, d["pulse_p05"] * scale, d["pulse_p95"] * scale, alpha=0.3, label="5–95 %")
    ax[2].plot(k, d["pulse_mean"] * scale, label="mean")
    ax[2].set(xlabel="pulse (50 up, 50 down)", ylabel=label, title="pulse response")
    ax[2].legend()
    fig.suptitle(name)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("out/devices"))
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    with h5py.File(args.out / "device_figures.h5", "w") as h5:
        for name in devices.names():
            dev = devices.get(name)
            d = device_data(name, args.seed)
            plot(name, d, dev.unit, args.out / f"{name}.png")
            grp = h5.create_group(name)
            grp.attrs["unit"] = dev.unit
            grp.attrs["quantity"] = dev.quantity
            for k, v in d.items():
                grp.create_dataset(k, data=v)
            print(f"{name}: {args.out / (name + '.png')}")


if __name__ == "__main__":
    main()
