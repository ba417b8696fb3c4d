"""Regenerate the example measured-data CSVs of the ``tabulated-example`` preset.

The "measurements" come from a documented synthetic device, so that the round trip
(CSV -> :class:`devices.tabulated.Tabulated` -> simulated curves) can be checked:

pulse response: 20 cycles of 50 potentiating then 50 depressing pulses on a
5–50 µS device. The expected step follows the NeuroSim form (Chen, Peng, Yu, IEDM 2017)
with nonlinearity labels 2.0 (potentiation) and 3.0 (depression) over P = 50 pulses; each
pulse adds Gaussian cycle-to-cycle noise of 1.5 % of the range; values are clipped to the
range. Each cycle starts where the previous one ended.

programming statistics: 12 targets from 5 to 50 µS; the achieved mean is 1 % below the
target and the std is 0.3 µS + 2 % of the target (a write-verify loop with a finite
acceptance band).

Run: ``python -m devices.presets.make_example_csv`` (writes next to this file).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
G_MIN_S, G_MAX_S = 5e-6, 50e-6
N_PULSES, N_CYCLES = 50, 20
NL_UP, NL_DOWN, C2C = 2.0, 3.0, 0.015
SEED = 20240611


def _step(w: float, nl: float) -> float:
    a = N_PULSES / (1.1 * nl)
    scale = 1 - np.exp(-N_PULSES / a)
    p = -a * np.log1p(-min(w, 1 - 1e-12) * scale) + 1
    return float((1 - np.exp(-min(p, N_PULSES) / a)) / scale)


def pulse_rows(rng: np.random.Generator) -> list[tuple]:
    rows, w = [], 0.0
    for cycle in range(N_CYCLES):
        for direction in ("up", "down"):
            for k in range(N_PULSES + 1):
                if k > 0:
                    w = _step(w, NL_UP) if direction == "up" else 1 - _step(1 - w, NL_DOWN)
                    w = float(np.clip(w + C2C * rng.standard_normal(), 0, 1))
                g = G_MIN_S + w * (G_MAX_S - G_MIN_S)
                rows.append((cycle, direction, k, f"{g:.6e}"))
    return rows


def programming_rows() -> list[tuple]:
    targets = np.linspace(G_MIN_S, G_MAX_S, 12)
    return [(f"{t:.6e}", f"{0.99 * t:.6e}", f"{0.3e-6 + 0.02 * t:.6e}") for t in targets]


def main(out: Path = HERE) -> None:
    rng = np.random.default_rng(SEED)
    with (out / "tabulated_example_pulses.csv").open("w", newline="") as fh:
        fh.write("# synthetic device, see devices/presets/make_example_csv.py\n")
        w = csv.writer(fh)
        w.writerow(["cycle", "direction", "pulse", "conductance_S"])
        w.writerows(pulse_rows(rng))
    with (out / "tabulated_example_programming.csv").open("w", newline="") as fh:
        fh.write("# synthetic device, see devices/presets/make_example_csv.py\n")
        w = csv.writer(fh)
        w.writerow(["target_S", "mean_S", "std_S"])
        w.writerows(programming_rows())


if __name__ == "__main__":
    main()
