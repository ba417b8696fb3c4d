"""Spiking validation: fitted constants listed apart, held-out chip measurements in band."""

from __future__ import annotations

import pytest

from neuro import validate
from neuro.validate import CHECKS, FITTED
from neuro.validate import spiking as vs


def _outcomes() -> dict[str, validate.Outcome]:
    return {o.check.name: o for o in validate.run(["spiking"])}


def test_fitted_constants_are_listed_with_their_figures():
    names = set(FITTED.names())
    assert {"snn.loihi.synaptic_op_J", "snn.loihi.neuron_update_active_J",
            "snn.loihi.neuron_update_idle_J", "snn.truenorth.static_W",
            "snn.truenorth.synaptic_op_J"} <= names  # fmt: skip
    assert FITTED.get("snn.truenorth.synaptic_op_J").value == pytest.approx(1.776e-12, rel=1e-3)
    fitted_ids = {f.figure_id for _, f in FITTED.items()}
    for _, c in CHECKS.items():
        if c.paradigm == "spiking":
            assert c.kind == "held-out"
            assert c.figure_id not in fitted_ids


@pytest.mark.parametrize(
    ("rate", "measured", "model"),
    [(11.58, 68e-3, 44.76e-3), (20.07, 71e-3, 46.78e-3), (95.93, 94e-3, 64.87e-3)],
)
def test_truenorth_power_on_the_fig17_networks_is_in_band(rate, measured, model):
    # 42 mW static + 1.78 pJ x 1,048,576 neurons x rate x 128 synapses, against Akopyan 2015
    # Fig. 17 at 0.8 V: two thirds of the measurement (the figures are at 0.70-0.75 V)
    o = _outcomes()[f"spiking.truenorth.power-{rate:g}Hz"]
    assert o.check.measured == measured
    assert o.model == pytest.approx(model, rel=1e-3)
    assert 0.65 < o.ratio < 0.70
    assert o.passed


def test_truenorth_all_in_figure_is_the_missing_static_mechanism():
    # the all-in 26 pJ per event, scaled with activity, misses Fig. 17 by 3.6x at 95.93 Hz:
    # most of it is static power at 20 Hz
    events = vs.TRUENORTH_NEURONS * 95.93 * vs.TRUENORTH_SYNAPSES_PER_NEURON
    assert 26e-12 * events / 94e-3 == pytest.approx(3.56, rel=1e-2)
    low = vs.TRUENORTH_NEURONS * 11.58 * vs.TRUENORTH_SYNAPSES_PER_NEURON
    assert 26e-12 * low / 68e-3 == pytest.approx(0.594, rel=1e-2)


def test_loihi_keyword_spotting_energy_with_the_x86_cores_is_in_band():
    # Blouw 2019: 0.27 mJ dynamic per inference (idle measured from boot, so the x86 cores
    # that wake when a model runs are in it). 390-256-256-29, 10 steps, spike-rate bound
    # (every input every step, every neuron every other step)
    o = _outcomes()["spiking.loihi.kws-dynamic-energy"]
    events = 390 * 10 * 256 + 256 * 5 * 256 + 256 * 5 * 29
    comp, timing = vs._kws_bound()
    assert comp["synaptic_events"][1] == pytest.approx(events * 35.5e-12)
    spikes = sum(j for g, j in comp.values() if g in ("compute", "conversion", "movement"))
    assert spikes == pytest.approx(50.13e-6, rel=1e-3)  # the per-event table alone: 0.19
    assert spikes / 0.27e-3 == pytest.approx(0.186, rel=1e-2)
    # the x86 cores: Frady et al. 2020, 2.09 W over 32 chips, over the modelled 1.76 ms
    assert comp["control"][1] == pytest.approx(2.09 / 32 * timing.time_s)
    assert o.model == pytest.approx(spikes + comp["control"][1])
    assert o.ratio == pytest.approx(0.611, rel=1e-2)
    assert o.passed  # in band at the spike-rate bound (fewer spikes would lower it)
    assert "host-chip I/O" in o.check.note


def test_loihi_keyword_spotting_step_time():
    # the 390 x 256 layer needs two cores of 65,536 synapses (Blouw et al. report two);
    # each does 390 x 128 synaptic ops per step at the bound, 3.5 ns each (Davies 2018)
    _, t = vs._kws_bound()
    assert t.critical == 1
    assert t.core_s == pytest.approx(390 * 128 * 3.5e-9 + 128 * 8.4e-9)
    assert t.barrier_s == pytest.approx(113e-9 + 352e-9 * 1 / 10)  # 5 cores: 2 tiles
    assert t.route_s == pytest.approx(4.1e-9)  # one east-west hop to the fifth core
    assert t.time_s == pytest.approx(10 * (t.core_s + t.route_s + t.barrier_s))
    # the chip's own step work gives 568 inf/s even at the spike-rate bound; measured 296
    o = _outcomes()["spiking.loihi.kws-throughput"]
    assert o.model == pytest.approx(1 / t.time_s)
    assert o.model == pytest.approx(568.4, rel=1e-3)
    assert o.ratio == pytest.approx(1.92, rel=1e-2)


def test_loihi_keyword_spotting_io_figures_read_are_listed_with_why_they_do_not_fit():
    # every per-step I/O figure read is named in both checks' notes with its reason
    note = _outcomes()["spiking.loihi.kws-throughput"].check.note
    assert len(vs.KWS_IO_FIGURES_READ) == 8
    for source, figure, why in vs.KWS_IO_FIGURES_READ:
        assert source and figure and why
        assert f"{source}: {figure} ({why})" in note
    assert _outcomes()["spiking.loihi.kws-dynamic-energy"].check.note.endswith(note)
    # Blouw's run: 1 / (296 inferences/s x 10 steps) = 0.338 ms per step in all
    blouw_step = 1 / (vs.KWS_INFERENCES_PER_S * vs.KWS_STEPS_PER_INFERENCE)
    assert blouw_step == pytest.approx(337.8e-6, rel=1e-3)
    # the figures span both sides of it by far: nengo-loihi PR #26 (I/O every step) 8 ms is
    # 24x above, spytorch2loihi's streamed run (400,600 steps in 3.08 s) 44x below
    assert 8e-3 / blouw_step == pytest.approx(23.7, rel=1e-2)
    assert blouw_step / (3.08 / 400_600) == pytest.approx(43.9, rel=1e-2)


@pytest.mark.xfail(
    strict=True,
    reason="missing mechanism: the per-step host-chip I/O (input spikes injected into the "
    "mesh every step, NxSDK 0.7.5) paces Blouw's run; none of the figures read "
    "(KWS_IO_FIGURES_READ) times it independently of the measurement",
)
def test_loihi_keyword_spotting_throughput_is_in_band():
    assert _outcomes()["spiking.loihi.kws-throughput"].passed
