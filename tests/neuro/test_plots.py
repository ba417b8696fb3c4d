"""The standard figures: their content (labels, series, ranges, legends) read back through
matplotlib's objects, and the files that ``plot_results`` / ``neuro archive plot`` write."""

from __future__ import annotations

import itertools
import subprocess
import sys

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.ticker import EngFormatter

from neuro import plots
from neuro.archive import Archive
from neuro.cli import main
from neuro.result import Curve, Result

T = np.array([1.0, 3600.0, 86400.0, 3.15e7])


def _ax():
    return Figure(figsize=(7.5, 4.2)).add_subplot()


def _results():
    full = {"data_source": "/data/fashion-mnist", "test_inputs": 10000, "test_inputs_total": 10000}
    sub = {"data_source": "/data/fashion-mnist", "test_inputs_total": 10000}
    return [
        Result(workload="w", target="aimc:pcm", seed=0, ops_per_inference=1e6, accuracy=0.9,
               accuracy_std=0.004, energy_per_inference=1e-9, energy_breakdown={"adc": 1e-9},
               config={"repeats": 5, "test_limit": 300}, provenance=dict(sub),
               extra={"test_inputs": 300.0, "fp32_accuracy_same_inputs": 0.91},
               curves={"accuracy_vs_time": Curve(T, [0.9, 0.89, 0.88, 0.8], "t_s", "accuracy",
                                                 [0.01] * 4)}),
        Result(workload="w", target="npu:ab9", seed=0, ops_per_inference=1e6, accuracy=0.91,
               energy_per_inference=1e-6, energy_breakdown={"mac": 1e-6},
               config={"test_limit": 200}, provenance=dict(sub)),
        Result(workload="w", target="reference", seed=0, ops_per_inference=1e6, accuracy=0.92,
               provenance=dict(full)),
    ]  # fmt: skip


def _legend(ax) -> list[str]:
    return [t.get_text() for t in ax.get_legend().get_texts()]


def _boxes(ax, texts):
    canvas = FigureCanvasAgg(ax.figure)
    canvas.draw()
    renderer = canvas.get_renderer()
    # the text's own box (an Annotation's includes its leader line)
    return [Text.get_window_extent(t, renderer) for t in texts]


def _assert_no_overlap(boxes):
    for a, b in itertools.combinations(boxes, 2):
        assert not a.overlaps(b), (a, b)


def test_accuracy_vs_energy_labels_reference_line_and_legend():
    ax = plots.accuracy_vs_energy(_results(), ax=_ax())
    assert ax.get_xlabel() == "chip energy per inference (J)"
    assert ax.get_ylabel() == "top-1 accuracy (%)"
    assert ax.get_xscale() == "log"  # 1 nJ to 1 µJ: three decades
    assert isinstance(ax.xaxis.get_major_formatter(), EngFormatter)
    assert ax.xaxis.get_major_formatter()(1e-6) == "1 µJ"
    legend = _legend(ax)
    assert legend[:2] == ["digital (NPU)", "analog in-memory"]  # the paradigm colours
    assert "FP32 reference (92.00 %, 10,000 test inputs)" in legend
    assert "error bar: ±1 s.d. over 5 programmings" in legend
    assert "* accuracy on 200–300 of 10,000 test inputs" in legend
    # the reference is a horizontal line at its accuracy, not a point
    (ref,) = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert np.allclose(ref.get_ydata(), [92.0, 92.0])
    labels = sorted(t.get_text() for t in ax.texts)
    assert labels == ["aimc:pcm*", "npu:ab9*"]  # both on a subset of the test inputs
    lo, hi = ax.get_ylim()
    assert lo <= 100 * (0.9 - 0.004) and hi >= 92.0


def test_a_tenth_of_a_point_is_not_drawn_as_a_cliff():
    rs = [Result(workload="w", target=t, seed=0, ops_per_inference=1.0, accuracy=a,
                 energy_per_inference=e)
          for t, a, e in (("aimc:pcm", 0.900, 1e-9), ("aimc:reram", 0.901, 2e-9))]  # fmt: skip
    ax = plots.accuracy_vs_energy(rs, ax=_ax())
    lo, hi = ax.get_ylim()
    assert hi - lo >= plots.MIN_ACCURACY_SPAN
    assert ax.get_xscale() == "linear"  # a factor 2 spans no decade


def test_the_accuracy_axis_names_a_detectors_map():
    import dataclasses

    detector = [dataclasses.replace(r, provenance={**r.provenance, "accuracy_metric": "mAP@0.5"})
                for r in _results()]  # fmt: skip
    assert plots.accuracy_vs_energy(detector, ax=_ax()).get_ylabel() == "mAP@0.5 (%)"
    mixed = [*_results()[:1], *detector[1:]]
    assert plots.accuracy_vs_energy(mixed, ax=_ax()).get_ylabel() == (
        "accuracy (%): mAP@0.5 or top-1"
    )


def test_close_labels_do_not_overlap():
    # loihi and truenorth at the same accuracy, four analog devices within 2 % of energy
    pts = [("snn:loihi", 0.88, 2.3e-4), ("snn:truenorth", 0.88, 1.35e-3), ("snn:seneca", 0.88, 5.4e-6),
           ("aimc:reram", 0.8917, 6.63e-7), ("aimc:pcm", 0.8933, 6.44e-7),
           ("aimc:fefet", 0.89, 6.43e-7), ("aimc:memcap", 0.8917, 6.43e-7),
           ("npu:ab9", 0.89, 5.68e-6)]  # fmt: skip
    rs = [Result(workload="w", target=t, seed=0, ops_per_inference=1.0, accuracy=a,
                 accuracy_std=0.005 if t.startswith("aimc") else None, energy_per_inference=e)
          for t, a, e in pts]  # fmt: skip
    ax = plots.accuracy_vs_energy(rs, ax=_ax())
    assert len(ax.texts) == len(pts)
    _assert_no_overlap(_boxes(ax, ax.texts))


def test_roadmap_gap_bars_in_ops_per_watt_and_labels_apart():
    ax = plots.roadmap_gap(_results(), ax=Figure(figsize=(8, 4.2)).add_subplot())
    assert ax.get_yscale() == "log" and ax.get_ylabel() == "chip energy efficiency (OPS/W)"
    assert ax.yaxis.get_major_formatter()(1e12) == "1 TOPS/W"
    heights = sorted(p.get_height() for p in ax.patches)
    assert np.allclose(heights, [1e6 / 1e-6, 1e6 / 1e-9])  # OPS/W of the two
    names = [t.get_text() for t in ax.texts]
    assert {"a100", "artbrain-k", "v100"} <= set(names)  # 0.78 and 0.893 TOPS/W: close
    _assert_no_overlap(_boxes(ax, ax.texts))
    assert {"digital (NPU)", "analog in-memory"} <= set(_legend(ax))


def test_curves_in_words_with_band_legend_and_fp32_line():
    ax = plots.curves(_results(), "accuracy_vs_time", ax=_ax())
    assert ax.get_xscale() == "log"
    assert ax.get_xlabel() == "time since programming"
    assert ax.get_ylabel() == "top-1 accuracy (%)"
    ticks = [ax.xaxis.get_major_formatter()(t, 0) for t in ax.get_xticks()]
    assert [t for t in ticks if t] == ["1 s", "1 min", "1 h", "1 day", "30 days", "1 year"]
    (line, ref) = ax.get_lines()
    assert np.allclose(line.get_ydata(), [90, 89, 88, 80])
    assert np.allclose(ref.get_ydata(), [91.0, 91.0])  # FP32 on the same 300 inputs
    assert _legend(ax) == [
        "aimc:pcm",
        "band: ±1 s.d. over 5 programmings",
        "FP32 on the same 300 test inputs (91.00 %)",
        "accuracy on 300 of 10,000 test inputs",
    ]
    assert len(ax.collections) == 1  # the band


def test_identical_curves_are_drawn_once_with_all_names():
    steps = np.array([1, 2, 4, 8, 16, 32])
    acc = Curve(steps, [0.11, 0.11, 0.12, 0.79, 0.89, 0.88], "steps", "accuracy")
    rs = [
        Result(workload="w", target=f"snn:{chip}", seed=0, ops_per_inference=1.0, accuracy=0.88,
               curves={"accuracy_vs_steps": acc,
                       "energy_vs_steps": Curve(steps, steps * k, "steps", "energy_per_inference_J")})
        for chip, k in (("loihi", 7e-6), ("truenorth", 4e-5), ("seneca", 1.7e-7))
    ]  # fmt: skip
    ax = plots.curves(rs, "accuracy_vs_steps", ax=_ax())
    assert [line.get_label() for line in ax.get_lines()] == ["snn:loihi, snn:truenorth, snn:seneca"]
    assert ax.get_xlabel() == "time steps per inference" and ax.get_xscale() == "log"
    assert list(ax.get_xticks()) == [1, 2, 4, 8, 16, 32]
    ax = plots.curves(rs, "energy_vs_steps", ax=_ax())
    assert len(ax.get_lines()) == 3
    assert ax.get_ylabel() == "chip energy per inference (J)" and ax.get_yscale() == "log"
    assert ax.yaxis.get_major_formatter()(1e-6) == "1 µJ"


def _sweep(seeds=(0, 1)):
    out = []
    for d, b, s in itertools.product(("pcm", "reram"), (4, 8), seeds):
        y = np.array([0.5 + b / 100, 0.4 + b / 100]) + 0.01 * s + (0.02 if d == "reram" else 0)
        out.append(Result(workload="w", target=f"aimc:{d}", seed=s, ops_per_inference=1.0,
                          accuracy=y[1], config={"grid_point": {"crossbar.adc.bits": b}, "repeats": 3},
                          curves={"accuracy_vs_time": Curve([1.0, 86400.0], y, "t_s", "accuracy",
                                                            [0.01, 0.02])}))  # fmt: skip
    return out


def test_sweep_curves_show_the_grid_point_and_pool_seeds():
    ax = plots.curves(_sweep(), "accuracy_vs_time", ax=_ax())
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels == ["aimc:pcm, adc.bits=4", "aimc:pcm, adc.bits=8",
                      "aimc:reram, adc.bits=4", "aimc:reram, adc.bits=8"]  # fmt: skip
    assert "band: ±1 s.d. over 2 seeds × 3 programmings" in _legend(ax)
    # mean over the seeds 0 and 1 (+0.00 and +0.01)
    assert np.allclose(ax.get_lines()[0].get_ydata(), [54.5, 44.5])


def test_pooled_spread_is_the_spread_of_all_draws():
    rng = np.random.default_rng(7)
    groups = rng.normal(size=(3, 5)) + np.array([[0.0], [0.4], [1.0]])
    pooled = plots._pooled(groups.mean(1)[:, None], groups.std(1)[:, None])[0]
    assert pooled == pytest.approx(groups.std(), rel=1e-12)  # law of total variance


def test_grid_sweep_plots_accuracy_against_the_swept_option():
    results = _sweep(seeds=(0,))
    assert plots.grid_options(results) == ["crossbar.adc.bits"]
    ax = plots.grid_sweep(results, "crossbar.adc.bits", fig=Figure(figsize=(9, 3.6)))
    axes = ax.figure.axes
    assert [a.get_title() for a in axes] == [
        "read 1 s after programming",
        "read 1 day after programming",
    ]
    assert axes[0].get_xlabel() == "ADC resolution (bits)"
    line = axes[1].get_lines()[0]
    assert list(line.get_xdata()) == [4, 8]
    assert np.allclose(line.get_ydata(), [44.0, 48.0])
    assert list(axes[0].get_xticks()) == [4, 8]
    lo, hi = axes[0].get_ylim()
    assert hi - lo >= plots.MIN_ACCURACY_SPAN
    assert "error bar: ±1 s.d. over 3 programmings" in _legend(axes[-1])


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


def test_a_cost_only_workload_gets_a_cost_figure_not_an_empty_one(tmp_path):
    rs = [Result(workload="resnet18", target=t, seed=0, ops_per_inference=3.6e9,
                 energy_per_inference=e, latency=lat)
          for t, e, lat in (("npu:ab9", 4e-2, 2e-3), ("aimc:pcm", 3e-3, 1e-4))]  # fmt: skip
    names = [p.name for p in plots.plot_results(rs, tmp_path)]
    assert "accuracy_vs_energy.png" not in names and "cost_only.png" in names
    ax = plots.cost_only(rs, ax=_ax())
    assert ax.get_xlabel() == "latency per inference (s)"
    assert ax.get_ylabel() == "chip energy per inference (J)"
    assert ax.get_xscale() == ax.get_yscale() == "log"
    assert "no accuracy" in ax.get_title()


def test_the_module_leaves_the_backend_to_the_user():
    code = (
        "import sys, matplotlib; matplotlib.use('svg'); import neuro.plots as p; "
        "from neuro.result import Result; import tempfile; "
        "p.plot_results([Result(workload='w', target='npu:ab9', seed=0, ops_per_inference=1.0,"
        " accuracy=0.9, energy_per_inference=1e-6)], tempfile.mkdtemp()); "
        "print(matplotlib.get_backend(), 'matplotlib.pyplot' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["svg", "False"]
