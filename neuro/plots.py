"""The standard figures of a comparison, from results or an archive (matplotlib, Agg backend).

- accuracy against energy per inference (log axis), one point per run, by target;
- curves against their x (e.g. accuracy against time since programming, log axis), with
  the spread over repeats as a band;
- efficiency (TOPS/W, log axis) of each simulated design against the roadmap targets.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from neuro.archive import Archive  # noqa: E402
from neuro.result import METRIC_FIELDS, Result  # noqa: E402
from neuro.roadmap import paradigm_of, targets_for  # noqa: E402

__all__ = [
    "results_frame",
    "accuracy_vs_energy",
    "curves",
    "roadmap_gap",
    "plot_results",
    "plot_archive",
]

_PARADIGM_COLOURS = {
    "digital": "tab:blue",
    "analog": "tab:orange",
    "spiking": "tab:green",
    None: "tab:gray",
}


def results_frame(results: Sequence[Result]) -> pd.DataFrame:
    """One row per result: workload, target, seed and the common metrics."""
    rows = [
        {"workload": r.workload, "target": r.target, "seed": r.seed, **r.metrics()} for r in results
    ]
    return pd.DataFrame(rows, columns=["workload", "target", "seed", *METRIC_FIELDS])


def accuracy_vs_energy(results: Sequence[Result], ax=None):
    """Accuracy (%) against energy per inference (J, log axis); results without either are left out."""
    ax = ax or plt.subplots(figsize=(6, 4))[1]
    data = results_frame(results).dropna(subset=["accuracy", "energy_per_inference"])
    for target, rows in data.groupby("target"):
        colour = _PARADIGM_COLOURS[paradigm_of(str(target))]
        ax.scatter(rows["energy_per_inference"], 100 * rows["accuracy"], label=target, color=colour)
        for _, r in rows.iterrows():
            ax.annotate(str(target), (r["energy_per_inference"], 100 * r["accuracy"]), fontsize=7,
                        xytext=(3, 3), textcoords="offset points")  # fmt: skip
    ax.set_xscale("log")
    ax.set_xlabel("energy per inference (J)")
    ax.set_ylabel("accuracy (%)")
    ax.set_title(", ".join(sorted(set(data["workload"]))) or "no runs with energy and accuracy")
    ax.grid(True, which="both", alpha=0.3)
    return ax


def curves(results: Sequence[Result], name: str, ax=None):
    """Every result's curve called ``name`` (log x when x spans more than two decades)."""
    ax = ax or plt.subplots(figsize=(6, 4))[1]
    x_label = y_label = ""
    for r in results:
        c = r.curves.get(name)
        if c is None:
            continue
        x_label, y_label = c.x_label, c.y_label
        (line,) = ax.plot(c.x, c.y, marker="o", label=f"{r.target} (seed {r.seed})")
        if c.y_std is not None:
            ax.fill_between(c.x, c.y - c.y_std, c.y + c.y_std, color=line.get_color(), alpha=0.2)
        if len(c.x) > 1 and c.x.min() > 0 and c.x.max() / c.x.min() > 100:
            ax.set_xscale("log")
    ax.set_xlabel(x_label)
    ax.set_ylabel(y_label)
    ax.set_title(name)
    ax.grid(True, which="both", alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7)
    return ax


def roadmap_gap(results: Sequence[Result], ax=None):
    """Simulated efficiency (TOPS/W) per target as bars, roadmap targets as dashed lines."""
    ax = ax or plt.subplots(figsize=(7, 4))[1]
    data = (
        results_frame(results)
        .dropna(subset=["efficiency"])
        .groupby("target")["efficiency"]
        .median()
    )
    xs = np.arange(len(data))
    colours = [_PARADIGM_COLOURS[paradigm_of(t)] for t in data.index]
    ax.bar(xs, data.values / 1e12, color=colours)
    ax.set_xticks(xs, list(data.index), rotation=30, ha="right", fontsize=8)
    paradigms = {paradigm_of(t) for t in data.index} - {None}
    seen = set()
    for p in sorted(paradigms):
        for t in targets_for(p):
            if t.efficiency is None or t.name in seen:
                continue
            seen.add(t.name)
            ax.axhline(t.efficiency / 1e12, color=_PARADIGM_COLOURS[p], ls="--", lw=0.8)
            ax.text(
                len(data) - 0.5, t.efficiency / 1e12, t.name, fontsize=7, va="bottom", ha="right"
            )
    ax.set_yscale("log")
    ax.set_ylabel("efficiency (TOPS/W)")
    ax.set_title("simulated designs against roadmap targets")
    ax.grid(True, axis="y", which="both", alpha=0.3)
    return ax


def plot_results(results: Sequence[Result], out_dir: str | Path) -> list[Path]:
    """Write the standard figures of ``results`` as PNGs into ``out_dir``; returns the paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    def save(ax, name: str) -> None:
        fig = ax.figure
        fig.tight_layout()
        fig.savefig(out / name, dpi=120)
        plt.close(fig)
        written.append(out / name)

    if not results:
        return written
    save(accuracy_vs_energy(results), "accuracy_vs_energy.png")
    for name in sorted({n for r in results for n in r.curves}):
        save(curves(results, name), f"curve_{name}.png")
    if any(r.efficiency is not None for r in results):
        save(roadmap_gap(results), "roadmap_gap.png")
    return written


def plot_archive(path: str | Path, out_dir: str | Path) -> list[Path]:
    """Write the standard figures of every completed run in the archive at ``path``."""
    archive = Archive(path)
    return plot_results([archive.get(rid) for rid in archive.runs()], out_dir)
