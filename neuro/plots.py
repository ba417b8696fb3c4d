"""The standard figures of a comparison, from results or an archive, fit for a paper.

- :func:`accuracy_vs_energy`: top-1 accuracy against chip energy per inference, one point
  per target (error bars: the spread over programmings or seeds), the FP32 reference as a
  line, colours by paradigm with their legend;
- :func:`cost_only`: chip energy against latency, for workloads without accuracy;
- :func:`curves`: a named curve of every result (e.g. accuracy against time since
  programming) with its spread as a band; identical curves are drawn once with all names;
- :func:`roadmap_gap`: chip efficiency of each simulated design against the roadmap
  targets of its paradigm;
- :func:`grid_sweep`: accuracy against a swept option, one panel per read time.

Conventions of every figure: axis labels in words with units, SI-prefixed ticks
(:class:`matplotlib.ticker.EngFormatter`), log axes where values span more than a decade, an
accuracy range of at least :data:`MIN_ACCURACY_SPAN` points (so that 0.1 point is not drawn
as a cliff), a legend entry for every band or error bar saying what it is, and accuracies
measured on a subset of the test inputs marked ``*`` with a legend note giving how many.

Backend: this module never selects one. The functions draw into ``ax`` when given, else
into a new :mod:`matplotlib.pyplot` figure (so a notebook shows it inline);
:func:`plot_results` draws into :class:`matplotlib.figure.Figure` objects of its own and
writes PNGs without pyplot, on any machine.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import EngFormatter, FixedLocator, FuncFormatter, NullFormatter

from neuro.archive import Archive
from neuro.report import is_subset, measured_inputs
from neuro.result import METRIC_FIELDS, Result
from neuro.roadmap import paradigm_of, targets_for

__all__ = [
    "results_frame",
    "accuracy_vs_energy",
    "cost_only",
    "curves",
    "roadmap_gap",
    "grid_options",
    "grid_sweep",
    "time_axis",
    "plot_results",
    "plot_archive",
    "MIN_ACCURACY_SPAN",
]

#: Smallest accuracy range of a y axis, in percentage points.
MIN_ACCURACY_SPAN = 2.0

_PARADIGM_COLOURS = {
    "digital": "tab:blue",
    "analog": "tab:orange",
    "spiking": "tab:green",
    None: "tab:gray",
}
_PARADIGM_NAMES = {
    "digital": "digital (NPU)",
    "analog": "analog in-memory",
    "spiking": "spiking neuromorphic",
    None: "other",
}

#: Curve quantities (``Curve.x_label`` / ``y_label``): words, unit, scale to the unit shown.
_QUANTITIES: dict[str, tuple[str, str, float]] = {
    "t_s": ("time since programming", "s", 1.0),
    "steps": ("time steps per inference", "", 1.0),
    "training_images": ("training images", "", 1.0),
    "accuracy": ("top-1 accuracy", "%", 100.0),
    "energy_per_inference_J": ("chip energy per inference", "J", 1.0),
    "synaptic_events": ("synaptic events per inference", "", 1.0),
}
#: Grid options in words (the others are shown by their name).
_OPTIONS = {
    "crossbar.adc.bits": "ADC resolution (bits)",
    "crossbar.dac.bits": "DAC resolution (bits)",
    "crossbar.tile_rows": "tile rows",
    "crossbar.tile_cols": "tile columns",
    "read_time_s": "read time after programming (s)",
    "steps": "time steps per inference",
}
_DURATIONS = ((1.0, "1 s"), (60.0, "1 min"), (3600.0, "1 h"), (86400.0, "1 day"),
              (2592000.0, "30 days"), (31536000.0, "1 year"),
              (315360000.0, "10 years"))  # fmt: skip


# -- helpers -----------------------------------------------------------------------------
def _axes(ax, figsize: tuple[float, float]):
    """``ax``, or the axes of a new pyplot figure (pyplot imported only here)."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=figsize)[1]


def _quantity(label: str) -> tuple[str, str, float]:
    if label in _QUANTITIES:
        return _QUANTITIES[label]
    for suffix, unit in (("_J", "J"), ("_s", "s"), ("_W", "W"), ("_m2", "m²"), ("_B", "B")):
        if label.endswith(suffix):
            return label[: -len(suffix)].replace("_", " "), unit, 1.0
    return label.replace("_", " "), "", 1.0


def _axis_label(words: str, unit: str) -> str:
    return f"{words} ({unit})" if unit else words


def _spans_decades(values: Any) -> bool:
    v = np.asarray([x for x in np.ravel(values) if x is not None and np.isfinite(x)], float)
    return v.size > 1 and v.min() > 0 and v.max() / v.min() > 10.0


def _si_axis(axis, unit: str, log: bool) -> None:
    """SI-prefixed tick labels on ``axis`` (an XAxis or YAxis), no minor labels on log."""
    axis.set_major_formatter(EngFormatter(unit=unit, sep=" "))
    if log:
        axis.set_minor_formatter(NullFormatter())


def time_axis(ax, xs: Any = None) -> None:
    """Make the x axis of ``ax`` a log time axis (s) with ticks at whole durations (1 s,
    1 min, 1 h, 1 day, 30 days, 1 year) over ``xs`` (default: the current x limits)."""
    ax.set_xscale("log")
    lo, hi = (float(np.min(xs)), float(np.max(xs))) if xs is not None else ax.get_xlim()
    ticks = [(t, s) for t, s in _DURATIONS if lo / 1.5 <= t <= hi * 1.5]
    if len(ticks) >= 2:
        ax.xaxis.set_major_locator(FixedLocator([t for t, _ in ticks]))
        names = dict(ticks)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: names.get(v, "")))
    else:
        ax.xaxis.set_major_formatter(EngFormatter(unit="s", sep=" "))
    ax.xaxis.set_minor_formatter(NullFormatter())


def _min_span(ax, span: float = MIN_ACCURACY_SPAN) -> None:
    """Widen the y range to at least ``span`` around its centre."""
    lo, hi = ax.get_ylim()
    if hi - lo < span:
        mid = (lo + hi) / 2
        ax.set_ylim(mid - span / 2, mid + span / 2)


def _grid_labels(results: Sequence[Result]) -> dict[int, str]:
    """``id(result) -> "adc.bits=6, seed 1"``: the grid options (and seed) that vary."""
    points = [r.config.get("grid_point", {}) or {} for r in results]
    keys = sorted({k for p in points for k in p})
    varying = [k for k in keys if len({repr(p.get(k)) for p in points}) > 1]
    out = {}
    for r, p in zip(results, points):
        parts = [f"{k.removeprefix('crossbar.')}={p.get(k)}" for k in varying]
        out[id(r)] = ", ".join(parts)
    return out


def _spread_text(r: Result, seeds: int = 1) -> str:
    """What an accuracy spread of ``r`` is: ``"±1 s.d. over 3 programmings"``."""
    repeats = r.config.get("repeats")
    parts = []
    if seeds > 1:
        parts.append(f"{seeds} seeds")
    if isinstance(repeats, (int, float)) and repeats > 1:
        parts.append(f"{int(repeats)} programmings")
    return "±1 s.d. over " + (" × ".join(parts) if parts else "repeats")


def _pooled(means: np.ndarray, stds: np.ndarray) -> np.ndarray:
    """s.d. of the pooled draws of equal-size groups (law of total variance), per column."""
    return np.sqrt(np.mean(stds**2, axis=0) + np.var(means, axis=0))


def _subset_note(results: Sequence[Result]) -> str | None:
    """``"* accuracy on 100–300 of 10,000 test inputs"`` for the subset results, or None."""
    subset = [measured_inputs(r) for r in results if r.accuracy is not None and is_subset(r)]
    if not subset:
        return None
    ns = sorted({n for n, _ in subset if n is not None})
    totals = sorted({t for _, t in subset if t is not None})
    n_text = f"{ns[0]:,}" if len(ns) == 1 else f"{ns[0]:,}–{ns[-1]:,}"
    of = f" of {totals[0]:,}" if len(totals) == 1 else ""
    return f"* accuracy on {n_text}{of} test inputs"


def _fp32(results: Sequence[Result], same_inputs: bool = False) -> tuple[float, str] | None:
    """The FP32 accuracy to draw as the reference line, with its legend text.

    The ``reference`` target's own run where there is one; else (or first, with
    ``same_inputs``, when every result measured it on the same subset) the FP32 accuracy
    the targets measured on their own test inputs: the fair line for a subset.
    """
    same = {
        round(float(r.extra["fp32_accuracy_same_inputs"]), 6)
        for r in results
        if r.extra.get("fp32_accuracy_same_inputs") is not None
    }
    counts = {measured_inputs(r)[0] for r in results if r.accuracy is not None}
    if same_inputs and len(same) == 1 and len(counts) == 1:
        acc, n = same.pop(), counts.pop()
        inputs = f" {n:,}" if n is not None else ""
        return acc, f"FP32 on the same{inputs} test inputs ({100 * acc:.2f} %)"
    ref = [r for r in results if paradigm_of(r.target) is None and r.accuracy is not None]
    if ref:
        acc = float(np.mean([r.accuracy for r in ref]))
        n, total = measured_inputs(ref[0])
        inputs = f", {n:,} test inputs" if n is not None and (total is None or n == total) else ""
        star = "*" if is_subset(ref[0]) else ""
        return acc, f"FP32 reference{star} ({100 * acc:.2f} %{inputs})"
    if len(same) == 1:
        acc = same.pop()
        return acc, f"FP32 on the same test inputs ({100 * acc:.2f} %)"
    return None


def _accuracy_label(results: Sequence[Result]) -> str:
    """The accuracy axis' label: what the results' accuracy is (top-1, or a detector's
    mAP@0.5; :attr:`Result.accuracy_metric`), in per cent."""
    metrics = sorted({r.accuracy_metric for r in results if r.accuracy is not None})
    if metrics == ["top-1"] or not metrics:
        return "top-1 accuracy (%)"
    if len(metrics) == 1:
        return f"{metrics[0]} (%)"
    return f"accuracy (%): {' or '.join(metrics)}"


def _box_overlaps(a: tuple, b: tuple) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _place_labels(
    ax,
    points: list[tuple[float, float, str]],
    fontsize: float = 7.0,
    yerr: Sequence[float] | None = None,
) -> None:
    """Annotate each ``(x, y, text)`` point so that no two labels overlap each other, a
    point or its error bar (``yerr``, data units): candidate offsets are tried nearest
    first (text size estimated from the font size); a label moved away from its point
    gets a leader line.

    The axes' limits must be final (they fix where the points are drawn).
    """
    fig = ax.figure
    pt = fig.dpi / 72.0  # display pixels per point
    disp = ax.transData.transform([(x, y) for x, y, _ in points]) / pt if points else []
    box = ax.get_window_extent()
    frame = (box.x0 / pt + 2, box.y0 / pt + 2, box.x1 / pt - 2, box.y1 / pt - 2)
    marker = 3.5
    taken = [(px - marker, py - marker, px + marker, py + marker) for px, py in disp]
    for (x, y, _), e, (px, _) in zip(points, yerr or [0.0] * len(points), disp):
        if e > 0:  # the error bar is an obstacle too
            lo = ax.transData.transform([(x, y - e)])[0][1] / pt
            hi = ax.transData.transform([(x, y + e)])[0][1] / pt
            taken.append((px - 3.0, lo, px + 3.0, hi))
    h = 1.25 * fontsize
    order = sorted(range(len(points)), key=lambda i: (disp[i][0], disp[i][1]))
    for i in order:
        x, y, text = points[i]
        px, py = disp[i]
        w = 0.58 * fontsize * len(text) + 2
        chosen = None
        candidates = [(4.0, 3.0), (4.0, -3.0 - h), (-4.0 - w, 3.0), (-4.0 - w, -3.0 - h)]
        for k in range(1, 12):
            for sign in (1, -1):
                candidates += [(4.0, sign * k * h + (3.0 if sign > 0 else -3.0 - h)),
                               (-4.0 - w, sign * k * h + (3.0 if sign > 0 else -3.0 - h))]  # fmt: skip
        for dx, dy in candidates:
            rect = (px + dx, py + dy, px + dx + w, py + dy + h)
            inside = (rect[0] >= frame[0] and rect[2] <= frame[2]
                      and rect[1] >= frame[1] and rect[3] <= frame[3])  # fmt: skip
            if inside and not any(_box_overlaps(rect, t) for t in taken):
                chosen = (dx, dy)
                break
        if chosen is None:
            chosen = candidates[0]
        dx, dy = chosen
        taken.append((px + dx, py + dy, px + dx + w, py + dy + h))
        far = abs(dy) > h + 3.5 or (dx < 0 and abs(dy) > h)
        ax.annotate(
            text, (x, y), xytext=(dx, dy), textcoords="offset points", fontsize=fontsize,
            ha="left", va="bottom",
            arrowprops={"arrowstyle": "-", "lw": 0.5, "color": "0.4", "shrinkA": 0,
                        "shrinkB": 3} if far else None,
        )  # fmt: skip


def _spread_apart(wanted: Sequence[float], gap: float, lo: float = 0.0, hi: float = 1.0):
    """Positions as near as possible to the sorted ``wanted`` ones, at least ``gap`` apart:
    labels that would overlap form a cluster centred on the mean of their wishes (clusters
    merge until none overlap), then the whole is kept inside ``[lo, hi]``."""
    clusters = [[float(w)] for w in wanted]

    def start(c: list[float]) -> float:
        return float(np.mean(c)) - (len(c) - 1) * gap / 2

    merged = True
    while merged:
        merged = False
        for i in range(len(clusters) - 1):
            a, b = clusters[i], clusters[i + 1]
            if start(a) + len(a) * gap > start(b):
                clusters[i : i + 2] = [a + b]
                merged = True
                break
    out = [start(c) + k * gap for c in clusters for k in range(len(c))]
    n = len(out)
    for i in range(n - 1, -1, -1):
        out[i] = min(out[i], hi - (n - 1 - i) * gap)
    for i in range(n):
        out[i] = max(out[i], lo + i * gap)
    return out


def _paradigm_handles(paradigms: Sequence[str | None]) -> list[Line2D]:
    return [
        Line2D([], [], ls="", marker="o", color=_PARADIGM_COLOURS[p], label=_PARADIGM_NAMES[p])
        for p in ("digital", "analog", "spiking", None)
        if p in set(paradigms)
    ]


def _note_handle(text: str) -> Line2D:
    return Line2D([], [], ls="", marker="", label=text)


def _title(ax, results: Sequence[Result], what: str | None = None) -> None:
    workloads = sorted({r.workload for r in results})
    sources = sorted({str(r.provenance["data_source"]) for r in results
                      if r.accuracy is not None and r.provenance.get("data_source")})  # fmt: skip
    head = ", ".join(workloads) + (f": {what}" if what else "")
    ax.set_title(head + ("\ndata: " + "; ".join(sources) if sources else ""), fontsize=9)


def _legend_outside(ax, handles: list, fontsize: float = 7.0) -> None:
    if handles:
        ax.legend(handles=handles, fontsize=fontsize, loc="upper left",
                  bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0, frameon=False)  # fmt: skip


def results_frame(results: Sequence[Result]) -> pd.DataFrame:
    """One row per result: workload, target, seed and the common metrics."""
    rows = [
        {"workload": r.workload, "target": r.target, "seed": r.seed, **r.metrics()} for r in results
    ]
    return pd.DataFrame(rows, columns=["workload", "target", "seed", *METRIC_FIELDS])


# -- figures -----------------------------------------------------------------------------
def accuracy_vs_energy(results: Sequence[Result], ax=None):
    """Top-1 accuracy (%) against chip energy per inference (J), one point per target.

    Runs of a target that differ only by seed are averaged (error bar: s.d. over seeds and
    programmings); a target's own repeats give its error bar otherwise. The FP32 reference
    is a horizontal line; points are coloured by paradigm; accuracies on a subset of the
    test inputs are marked ``*``. Results without accuracy or energy are left out (a title
    says so when none is left).
    """
    ax = _axes(ax, (7.5, 4.2))
    rows = [r for r in results if r.accuracy is not None and r.energy_per_inference]
    labels = _grid_labels(rows)
    groups: dict[tuple[str, str], list[Result]] = {}
    for r in rows:
        grid = labels[id(r)].split(", seed")[0]
        groups.setdefault((r.target, grid), []).append(r)
    points, handles_spread, paradigms, xs, ys, errs = [], {}, [], [], [], []
    for (target, grid), rs in groups.items():
        e = float(np.mean([r.energy_per_inference for r in rs]))
        accs = np.array([r.accuracy for r in rs])
        stds = np.array([r.accuracy_std or 0.0 for r in rs])
        acc = float(accs.mean())
        err = float(_pooled(accs[:, None], stds[:, None])[0]) if len(rs) > 1 else float(stds[0])
        p = paradigm_of(target)
        paradigms.append(p)
        colour = _PARADIGM_COLOURS[p]
        if err > 0:
            ax.errorbar(e, 100 * acc, yerr=100 * err, fmt="o", color=colour, capsize=3,
                        elinewidth=1, ms=5)  # fmt: skip
            handles_spread.setdefault(_spread_text(rs[0], seeds=len({r.seed for r in rs})), colour)
        else:
            ax.plot([e], [100 * acc], "o", color=colour, ms=5)
        star = "*" if any(is_subset(r) for r in rs) else ""
        points.append((e, 100 * acc, f"{target}{star}" + (f" ({grid})" if grid else "")))
        xs.append(e)
        errs.append(100 * err)
        ys += [100 * (acc - err), 100 * (acc + err)]
    ref = _fp32(results)
    handles: list = _paradigm_handles(paradigms)
    if ref is not None and rows:
        ax.axhline(100 * ref[0], color="k", ls="--", lw=1)
        handles.append(Line2D([], [], color="k", ls="--", lw=1, label=ref[1]))
        ys.append(100 * ref[0])
    for text in handles_spread:
        handles.append(
            Line2D([], [], color="0.3", marker="|", ls="", ms=10, label=f"error bar: {text}")
        )
    note = _subset_note(rows)
    if note:
        handles.append(_note_handle(note))
    reads = sorted({float(r.extra["accuracy_read_time_s"]) for r in rows
                    if r.extra.get("accuracy_read_time_s") is not None})  # fmt: skip
    if reads:
        handles.append(_note_handle(
            "analog accuracy read " + " / ".join(_duration(t) for t in reads) + " after programming"
        ))  # fmt: skip
    if rows:
        log = _spans_decades(xs)
        if log:
            ax.set_xscale("log")
            lo, hi = min(xs), max(xs)
            ax.set_xlim(lo / 4.0, hi * 4.0)
        else:
            lo, hi = min(xs), max(xs)
            pad = 0.15 * (hi - lo) if hi > lo else 0.3 * hi
            ax.set_xlim(lo - pad, hi + 2 * pad)
        _si_axis(ax.xaxis, "J", log)
        lo, hi = min(ys), max(ys)
        margin = max(0.15 * (hi - lo), 0.3)
        ax.set_ylim(lo - margin, hi + 2 * margin)
        _min_span(ax)
        _place_labels(ax, points, yerr=errs)
        _title(ax, rows)
    else:
        ax.set_title("no run has both an accuracy and an energy", fontsize=9)
    ax.set_xlabel("chip energy per inference (J)")
    ax.set_ylabel(_accuracy_label(rows))
    ax.grid(True, which="major", alpha=0.3)
    _legend_outside(ax, handles)
    return ax


def cost_only(results: Sequence[Result], ax=None):
    """Chip energy per inference against latency (both log where they span decades), one
    point per target: the figure of a workload without accuracy (shape-only)."""
    ax = _axes(ax, (7.5, 4.2))
    rows = [r for r in results if r.energy_per_inference and r.latency]
    xs = [r.latency for r in rows]
    ys = [r.energy_per_inference for r in rows]
    points, paradigms = [], []
    for r in rows:
        p = paradigm_of(r.target)
        paradigms.append(p)
        ax.plot([r.latency], [r.energy_per_inference], "o", color=_PARADIGM_COLOURS[p], ms=5)
        points.append((r.latency, r.energy_per_inference, r.target))
    for axis, values, unit, setter, lims in (
        (ax.xaxis, xs, "s", ax.set_xscale, ax.set_xlim),
        (ax.yaxis, ys, "J", ax.set_yscale, ax.set_ylim),
    ):
        log = _spans_decades(values)
        if log:
            setter("log")
            lims(min(values) / 3, max(values) * 5)
        elif values:
            lims(0, max(values) * 1.3)
        _si_axis(axis, unit, log)
    _place_labels(ax, points)
    ax.set_xlabel("latency per inference (s)")
    ax.set_ylabel("chip energy per inference (J)")
    _title(ax, rows or results, "cost only (the workload has no accuracy)")
    ax.grid(True, which="major", alpha=0.3)
    _legend_outside(ax, _paradigm_handles(paradigms))
    return ax


def curves(results: Sequence[Result], name: str, ax=None):
    """Every result's curve called ``name``, in words and units, with its spread as a band.

    Curves that differ only by seed are averaged (band: s.d. over seeds and repeats);
    identical curves (e.g. the accuracy of one converted network on three chips) are drawn
    once, labelled with all their names; labels carry the grid point where a sweep varies
    one. Accuracy curves get the FP32 reference as a dashed line.
    """
    ax = _axes(ax, (7.5, 4.2))
    having = [r for r in results if name in r.curves]
    labels = _grid_labels(having)
    seeds_vary = len({r.seed for r in having}) > 1
    groups: dict[tuple[str, str], list[Result]] = {}
    for r in having:
        grid = ", ".join(p for p in labels[id(r)].split(", ") if p)
        groups.setdefault((r.target, grid), []).append(r)
    drawn: dict[tuple, list[str]] = {}
    spreads: dict[tuple, str] = {}
    x_label = y_label = ""
    for (target, grid), rs in groups.items():
        cs = [r.curves[name] for r in rs]
        x_label, y_label = cs[0].x_label, cs[0].y_label
        if len(cs) > 1 and all(np.array_equal(c.x, cs[0].x) for c in cs):
            ys = np.stack([c.y for c in cs])
            stds = np.stack([c.y_std if c.y_std is not None else np.zeros_like(c.y) for c in cs])
            y, s = ys.mean(0), _pooled(ys, stds)
            spread = _spread_text(rs[0], seeds=len(rs))
        else:
            y, s = cs[0].y, cs[0].y_std
            spread = _spread_text(rs[0])
        label = target + (f", {grid}" if grid else "")
        if len(rs) == 1 and seeds_vary:
            label += f", seed {rs[0].seed}"
        key = (
            tuple(cs[0].x),
            tuple(np.round(y, 12)),
            None if s is None else tuple(np.round(s, 12)),
        )
        drawn.setdefault(key, []).append(label)
        if s is not None and np.any(s > 0):
            spreads[key] = spread
    words_x, unit_x, scale_x = _quantity(x_label)
    words_y, unit_y, scale_y = _quantity(y_label)
    allx, ally = [], []
    handles: list = []
    band_texts: dict[str, None] = {}
    for key, names in drawn.items():
        x = np.array(key[0]) * scale_x
        y = np.array(key[1]) * scale_y
        (line,) = ax.plot(x, y, marker="o", ms=4, label=", ".join(names))
        handles.append(line)
        allx += list(x)
        ally += list(y)
        if key[2] is not None and key in spreads:
            s = np.array(key[2]) * scale_y
            ax.fill_between(x, y - s, y + s, color=line.get_color(), alpha=0.2, lw=0)
            band_texts[spreads[key]] = None
            ally += list(y - s) + list(y + s)
    for text in band_texts:
        handles.append(Patch(color="0.5", alpha=0.3, label=f"band: {text}"))
    if y_label == "accuracy" and having:
        ref = _fp32(having, same_inputs=True) or _fp32(results)
        if ref is not None:
            ax.axhline(100 * ref[0], color="k", ls="--", lw=1)
            handles.append(Line2D([], [], color="k", ls="--", lw=1, label=ref[1]))
            ally.append(100 * ref[0])
        note = _subset_note(having)
        if note:
            handles.append(_note_handle(note.replace("* ", "")))
    if allx:
        if x_label == "t_s" and _spans_decades(allx):
            time_axis(ax, np.array(allx))
            unit_x = ""  # the ticks name their unit
        else:
            log = _spans_decades(allx)
            if log:
                ax.set_xscale("log")
                uniq = sorted(set(allx))
                if len(uniq) <= 12:
                    ax.xaxis.set_major_locator(FixedLocator(uniq))
            _si_axis(ax.xaxis, unit_x, log)
        if unit_y == "%":
            lo, hi = min(ally), max(ally)
            margin = max(0.08 * (hi - lo), 0.2)
            ax.set_ylim(max(lo - margin, 0.0 if lo >= 0 else lo - margin), min(hi + margin, 100.5))
            _min_span(ax)
        else:
            log = _spans_decades(ally)
            if log:
                ax.set_yscale("log")
            _si_axis(ax.yaxis, unit_y, log)
    ax.set_xlabel(_axis_label(words_x, unit_x))
    ax.set_ylabel(_axis_label(words_y, unit_y))
    _title(ax, having or results, f"{words_y} against {words_x}" if x_label else name)
    ax.grid(True, which="major", alpha=0.3)
    _legend_outside(ax, handles)
    return ax


def roadmap_gap(results: Sequence[Result], ax=None):
    """Chip efficiency (OPS/W, log axis) per target as bars, coloured by paradigm, with the
    roadmap targets of the paradigms shown as dashed lines labelled at the right (labels
    that would overlap are moved apart, with a leader line to their level). Several seeds
    of a target give its median, with the s.d. over seeds as an error bar."""
    ax = _axes(ax, (8.0, 4.2))
    frame = results_frame(results).dropna(subset=["efficiency"])
    grouped = frame.groupby("target", sort=True)["efficiency"]
    data, spread = grouped.median(), grouped.std()
    counts = grouped.count()
    xs = np.arange(len(data))
    colours = [_PARADIGM_COLOURS[paradigm_of(t)] for t in data.index]
    yerr = np.nan_to_num(spread.values) if (counts > 1).any() else None
    ax.bar(xs, data.values, color=colours, yerr=yerr, capsize=3 if yerr is not None else 0)
    ax.set_xticks(xs, list(data.index), rotation=30, ha="right", fontsize=8)
    paradigms = [paradigm_of(t) for t in data.index]
    lines: list[tuple[float, str, str]] = []
    seen = set()
    for p in sorted({q for q in paradigms if q is not None}):
        for t in targets_for(p):
            if t.efficiency is None or t.name in seen:
                continue
            seen.add(t.name)
            lines.append((float(t.efficiency), t.name, _PARADIGM_COLOURS[p]))
    values = list(data.values) + [v for v, _, _ in lines]
    ax.set_yscale("log")
    if values:
        ax.set_ylim(min(values) / 3, max(values) * 3)
    for value, _, colour in lines:
        ax.axhline(value, color=colour, ls="--", lw=0.8)
    _si_axis(ax.yaxis, "OPS/W", True)
    # labels at the right of the axes, moved apart where they would overlap
    if lines:
        lo, hi = (math.log10(v) for v in ax.get_ylim())
        frac = sorted(((math.log10(v) - lo) / (hi - lo), n, v) for v, n, _ in lines)
        placed = _spread_apart([f for f, _, _ in frac], gap=0.055)
        for (f, name, value), y in zip(frac, placed):
            ax.annotate(
                name, xy=(1.0, value), xycoords=ax.get_yaxis_transform(),
                xytext=(1.03, y), textcoords="axes fraction", fontsize=7, va="center",
                arrowprops={"arrowstyle": "-", "lw": 0.5, "color": "0.4", "shrinkA": 0,
                            "shrinkB": 0} if abs(y - f) > 0.01 else None,
                annotation_clip=False,
            )  # fmt: skip
    handles: list = [Patch(color=_PARADIGM_COLOURS[p], label=_PARADIGM_NAMES[p])
                     for p in ("digital", "analog", "spiking", None) if p in set(paradigms)]  # fmt: skip
    if lines:
        handles.append(Line2D([], [], color="0.3", ls="--", lw=0.8,
                              label="roadmap target (published, labelled at right)"))  # fmt: skip
    if yerr is not None:
        handles.append(Line2D([], [], color="k", marker="|", ls="", ms=10,
                              label="error bar: ±1 s.d. over seeds"))  # fmt: skip
    ax.set_ylabel("chip energy efficiency (OPS/W)")
    ax.set_title("simulated designs against roadmap targets", fontsize=9)
    ax.grid(True, axis="y", which="major", alpha=0.3)
    if handles:
        ax.legend(handles=handles, fontsize=7, loc="upper left", frameon=True, framealpha=0.9)
    return ax


def grid_options(results: Sequence[Result]) -> list[str]:
    """Numeric grid options that take two or more values across ``results`` (a sweep)."""
    values: dict[str, set] = {}
    for r in results:
        for k, v in r.config.get("grid_point", {}).items():
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                values.setdefault(k, set()).add(v)
    return sorted(k for k, v in values.items() if len(v) > 1)


def _duration(t_s: float) -> str:
    for t, text in _DURATIONS:
        if math.isclose(t, t_s):
            return text
    return EngFormatter(unit="s", sep=" ")(t_s)


def grid_sweep(results: Sequence[Result], option: str, curve: str = "accuracy_vs_time", fig=None):
    """Accuracy against a swept grid option, one line per target (and per value of any
    other swept option), mean over seeds with the spread as error bars.

    Results that carry ``curve`` get one panel per point of its x (e.g. each read time);
    the others one panel of ``Result.accuracy``. Returns the first panel's axes.
    """
    rows = []
    having = [r for r in results if r.config.get("grid_point", {}).get(option) is not None]
    others = [k for k in grid_options(having) if k != option]
    for r in having:
        point = r.config["grid_point"]
        x = point[option]
        line = r.target + "".join(f", {k.removeprefix('crossbar.')}={point.get(k)}" for k in others)
        c = r.curves.get(curve)
        if c is not None:
            std = c.y_std if c.y_std is not None else np.zeros_like(c.y)
            title = (lambda t: f"read {_duration(t)} after programming") if c.x_label == "t_s" else (
                lambda t, lab=c.x_label: f"{_quantity(lab)[0]} = {t:g}")  # fmt: skip
            rows += [(line, x, t, title(t), y, s, r) for t, y, s in zip(c.x, c.y, std)]
        elif r.accuracy is not None:
            rows.append((line, x, 0.0, "accuracy", r.accuracy, r.accuracy_std or 0.0, r))
    data = pd.DataFrame(rows, columns=["line", "x", "t", "panel", "y", "s", "result"])
    panels = list(dict.fromkeys(data.sort_values("t", kind="stable")["panel"]))
    n = max(len(panels), 1)
    if fig is None:
        import matplotlib.pyplot as plt

        fig = plt.figure(figsize=(2.9 * n + 2.6, 3.6))
    axes = fig.subplots(1, n, sharey=True, squeeze=False)[0]
    spreads: dict[str, None] = {}
    colours: dict[str, Any] = {}
    ally: list[float] = []
    for ax, panel in zip(axes, panels):
        sub = data[data["panel"] == panel]
        for line, part in sub.groupby("line", sort=True):
            xs, ys, es = [], [], []
            for x, pts in part.groupby("x", sort=True):
                ys_ = pts["y"].to_numpy()
                ss_ = pts["s"].to_numpy()
                xs.append(x)
                ys.append(100 * ys_.mean())
                es.append(100 * float(_pooled(ys_[:, None], ss_[:, None])[0]))
                if es[-1] > 0:
                    spreads[_spread_text(pts["result"].iloc[0], seeds=len(pts))] = None
            kw = {"color": colours[line]} if line in colours else {}
            h = ax.errorbar(xs, ys, yerr=es if any(es) else None, marker="o", ms=4, capsize=2,
                            label=line, **kw)  # fmt: skip
            colours.setdefault(line, h.lines[0].get_color())
            ally += [y - e for y, e in zip(ys, es)] + [y + e for y, e in zip(ys, es)]
        ref = _fp32(list(sub["result"]), same_inputs=True)
        if ref is not None:
            ax.axhline(100 * ref[0], color="k", ls="--", lw=1)
            ally.append(100 * ref[0])
        xs_all = sorted(set(sub["x"]))
        if all(float(v).is_integer() for v in xs_all) and len(xs_all) <= 12:
            ax.xaxis.set_major_locator(FixedLocator(xs_all))
        ax.set_title(panel, fontsize=9)
        ax.set_xlabel(_OPTIONS.get(option, option))
        ax.grid(True, alpha=0.3)
    axes[0].set_ylabel(_accuracy_label(having))
    if ally:
        lo, hi = min(ally), max(ally)
        margin = max(0.08 * (hi - lo), 0.2)
        axes[0].set_ylim(lo - margin, min(hi + margin, 100.5))
        _min_span(axes[0])
    if panels:
        handles = [Line2D([], [], color=c, marker="o", ms=4, label=k) for k, c in colours.items()]
        ref = _fp32(list(data["result"]), same_inputs=True)
        if ref is not None:
            handles.append(Line2D([], [], color="k", ls="--", lw=1, label=ref[1]))
        handles += [Line2D([], [], color="0.3", marker="|", ls="", ms=10, label=f"error bar: {t}")
                    for t in spreads]  # fmt: skip
        note = _subset_note(list({id(r): r for r in data["result"]}.values()))
        if note:
            handles.append(_note_handle(note.replace("* ", "")))
        _legend_outside(axes[-1], handles)
        fig.suptitle(f"{', '.join(sorted({r.workload for r in having}))}: accuracy against "
                     f"{_OPTIONS.get(option, option)}", fontsize=10)  # fmt: skip
    return axes[0]


# -- files -------------------------------------------------------------------------------
def plot_results(results: Sequence[Result], out_dir: str | Path) -> list[Path]:
    """Write the standard figures of ``results`` as PNGs into ``out_dir``; returns the paths.

    A workload without accuracy gets ``cost_only.png`` instead of
    ``accuracy_vs_energy.png``; several workloads get one set of figures each (names
    suffixed by the workload). Figures are drawn without pyplot (no backend needed).
    """
    out = Path(out_dir)
    written: list[Path] = []
    if not results:
        return written
    out.mkdir(parents=True, exist_ok=True)

    def save(fig: Figure, name: str) -> None:
        fig.savefig(out / name, dpi=150, bbox_inches="tight")
        written.append(out / name)

    def new(size: tuple[float, float]) -> Any:
        fig = Figure(figsize=size)
        return fig, fig.add_subplot()

    workloads = list(dict.fromkeys(r.workload for r in results))
    for workload in workloads:
        rs = [r for r in results if r.workload == workload]
        tag = (
            ""
            if len(workloads) == 1
            else "_" + "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in workload)
        )
        if any(r.accuracy is not None and r.energy_per_inference for r in rs):
            fig, ax = new((7.5, 4.2))
            save(accuracy_vs_energy(rs, ax=ax).figure, f"accuracy_vs_energy{tag}.png")
        elif any(r.energy_per_inference and r.latency for r in rs):
            fig, ax = new((7.5, 4.2))
            save(cost_only(rs, ax=ax).figure, f"cost_only{tag}.png")
        for name in sorted({n for r in rs for n in r.curves}):
            fig, ax = new((7.5, 4.2))
            save(curves(rs, name, ax=ax).figure, f"curve_{name}{tag}.png")
        if any(r.efficiency is not None for r in rs):
            fig, ax = new((8.0, 4.2))
            save(roadmap_gap(rs, ax=ax).figure, f"roadmap_gap{tag}.png")
        for option in grid_options(rs):
            n = len(
                {float(t) for r in rs for t in getattr(r.curves.get("accuracy_vs_time"), "x", [0])}
            )
            fig = Figure(figsize=(2.9 * max(n, 1) + 2.6, 3.6))
            grid_sweep(rs, option, fig=fig)
            save(fig, f"sweep_{option.replace('.', '_')}{tag}.png")
    return written


def plot_archive(path: str | Path, out_dir: str | Path) -> list[Path]:
    """Write the standard figures of every completed run in the archive at ``path``."""
    archive = Archive(path)
    return plot_results([archive.get(rid) for rid in archive.runs()], out_dir)
