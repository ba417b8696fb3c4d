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


def grid_options(results: Sequence[Result]) -> list[str]:
    """Numeric grid options that take two or more values across ``results`` (a sweep)."""
    values: dict[str, set] = {}
    for r in results:
        for k, v in r.config.get("grid_point", {}).items():
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                values.setdefault(k, set()).add(v)
    return sorted(k for k, v in values.items() if len(v) > 1)


def grid_sweep(results: Sequence[Result], option: str, curve: str = "accuracy_vs_time"):
    """Accuracy against a swept grid option, one line per target (mean over seeds).

    Results that carry ``curve`` get one panel per point of its x (e.g. each read time);
    the others one panel of ``Result.accuracy``.
    """
    rows = []
    for r in results:
        x = r.config.get("grid_point", {}).get(option)
        if x is None:
            continue
        c = r.curves.get(curve)
        if c is not None:
            rows += [(r.target, x, f"{c.x_label} = {t:g}", y) for t, y in zip(c.x, c.y)]
        elif r.accuracy is not None:
            rows.append((r.target, x, "accuracy", r.accuracy))
    data = pd.DataFrame(rows, columns=["target", "x", "panel", "y"])
    panels = list(dict.fromkeys(data["panel"]))
    fig, axes = plt.subplots(
        1, max(len(panels), 1), figsize=(3.2 * max(len(panels), 1), 3.4), sharey=True, squeeze=False
    )
    for ax, panel in zip(axes[0], panels):
        sub = data[data["panel"] == panel].groupby(["target", "x"])["y"].mean().reset_index()
        for target, line in sub.groupby("target"):
            ax.plot(line["x"], 100 * line["y"], marker="o", label=target)
        ax.set_title(panel, fontsize=9)
        ax.set_xlabel(option)
        ax.grid(True, alpha=0.3)
    axes[0][0].set_ylabel("accuracy (%)")
    if panels:
        axes[0][-1].legend(fontsize=7)
    return axes[0][0]


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
    for option in grid_options(results):
        save(grid_sweep(results, option), f"sweep_{option.replace('.', '_')}.png")
    return written


def plot_archive(path: str | Path, out_dir: str | Path) -> list[Path]:
    """Write the standard figures of every completed run in the archive at ``path``."""
    archive = Archive(path)
    return plot_results([archive.get(rid) for rid in archive.runs()], out_dir)
