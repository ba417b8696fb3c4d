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


def test_loihi_keyword_spotting_upper_bound_is_below_the_measurement():
    # Blouw 2019: 0.27 mJ dynamic per inference. 390-256-256-29, 10 steps; even with every
    # input spiking every step and every neuron every other step the per-event table gives
    # 49.7 µJ (0.18): host I/O by the x86 cores and synchronisation are not in the table
    o = _outcomes()["spiking.loihi.kws-dynamic-energy"]
    events = 390 * 10 * 256 + 256 * 5 * 256 + 256 * 5 * 29
    assert o.model > events * 35.5e-12  # synaptic part of the bound
    assert o.model == pytest.approx(49.69e-6, rel=1e-3)
    assert o.ratio == pytest.approx(0.184, rel=1e-2)
    assert o.passed is False  # outside its band: the named mechanism is not modelled
    assert "x86" in o.check.note
