"""The standard figures are drawn from results and archives."""

from __future__ import annotations

import numpy as np

from neuro import plots
from neuro.archive import Archive
from neuro.cli import main
from neuro.result import Curve, Result


def _results():
    t = np.array([1.0, 3600.0, 86400.0, 3.15e7])
    return [
        Result(workload="w", target="aimc:pcm", seed=0, ops_per_inference=1e6, accuracy=0.9,
               energy_per_inference=1e-9, energy_breakdown={"adc": 1e-9},
               curves={"accuracy_vs_time": Curve(t, [0.9, 0.89, 0.88, 0.8], "t_s", "accuracy", [0.01] * 4)}),
        Result(workload="w", target="npu:ab9", seed=0, ops_per_inference=1e6, accuracy=0.91,
               energy_per_inference=1e-6, energy_breakdown={"mac": 1e-6}),
        Result(workload="w", target="reference", seed=0, ops_per_inference=1e6, accuracy=0.92),
    ]  # fmt: skip


def test_axes_are_log_where_they_span_decades():
    results = _results()
    assert plots.accuracy_vs_energy(results).get_xscale() == "log"
    ax = plots.curves(results, "accuracy_vs_time")
    assert ax.get_xscale() == "log" and ax.get_xlabel() == "t_s"
    ax = plots.roadmap_gap(results)
    assert ax.get_yscale() == "log"
    heights = sorted(p.get_height() for p in ax.patches)
    assert np.allclose(heights, [1e6 / 1e-6 / 1e12, 1e6 / 1e-9 / 1e12])  # TOPS/W of the two


def test_plot_results_and_archive_write_pngs(tmp_path):
    written = plots.plot_results(_results(), tmp_path / "figs")
    names = sorted(p.name for p in written)
    assert names == ["accuracy_vs_energy.png", "curve_accuracy_vs_time.png", "roadmap_gap.png"]
    for p in written:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Archive(tmp_path / "a.h5", mode="a") as ar:
        for r in _results():
            ar.append(r)
    assert main(["archive", "plot", str(tmp_path / "a.h5"), "--out-dir", str(tmp_path / "f2")]) == 0
    assert len(list((tmp_path / "f2").glob("*.png"))) == 3
    assert plots.plot_results([], tmp_path / "none") == []


def test_grid_sweep_plots_accuracy_against_the_swept_option():
    t = np.array([1.0, 86400.0])
    results = [
        Result(workload="w", target=f"aimc:{d}", seed=0, ops_per_inference=1.0,
               config={"grid_point": {"crossbar.adc.bits": b}},
               curves={"accuracy_vs_time": Curve(t, [0.5 + b / 100, 0.4 + b / 100], "t_s", "accuracy")})
        for d in ("pcm", "reram") for b in (4, 8)
    ]  # fmt: skip
    assert plots.grid_options(results) == ["crossbar.adc.bits"]
    ax = plots.grid_sweep(results, "crossbar.adc.bits")
    axes = ax.figure.axes
    assert [a.get_title() for a in axes] == ["t_s = 1", "t_s = 86400"]
    line = axes[1].get_lines()[0]
    assert list(line.get_xdata()) == [4, 8]
    assert np.allclose(line.get_ydata(), [44.0, 48.0])
