"""Iso-accuracy search and break-even spike rates on results built by hand."""

from __future__ import annotations

import numpy as np
import pytest

from neuro.result import Curve, Result
from neuro.tradeoff import break_even, iso_accuracy


def _result(target, acc, energy, parts=None) -> Result:
    r = Result(workload="w", target=target, seed=0, ops_per_inference=2e6, accuracy=acc)
    parts = parts or {"compute": energy}
    comps = {g: (g, v) for g, v in parts.items()}
    missing = {g: "n/a" for g in ("compute", "conversion", "movement", "static", "off_chip")}
    for g in parts:
        missing.pop(g)
    return r.set_energy(comps, missing)


def _never(*_):
    raise AssertionError("the spiking search must not re-run the target")


def test_spiking_iso_accuracy_reads_the_checkpoints_of_one_run():
    r = _result("snn:loihi", 0.89, 64e-6)
    steps = np.array([8, 16, 32, 64])
    r.curves["accuracy_vs_steps"] = Curve(steps, [0.80, 0.885, 0.888, 0.89], "steps", "accuracy")
    r.curves["energy_vs_steps"] = Curve(steps, steps * 1e-6, "steps", "energy")
    p = iso_accuracy("snn:loihi", r, 0.885, _never)
    assert (p.knob, p.value, p.accuracy) == ("steps", 16, 0.885)
    assert p.energy_J == pytest.approx(16e-6) and p.default_energy_J == pytest.approx(64e-6)
    none = iso_accuracy("snn:loihi", r, 0.95, _never)
    assert none.value is None and none.energy_J is None and "no checkpoint" in none.note


def test_analog_iso_accuracy_stops_at_the_first_resolution_that_fails():
    asked = []

    def evaluate(name, options):
        bits = options["crossbar.adc.bits"]
        asked.append(bits)
        acc = {8: 0.89, 7: 0.888, 6: 0.884, 5: 0.85}[bits]
        r = _result(name, acc, bits * 1e-9)
        r.curves["accuracy_vs_time"] = Curve([3600.0, 86400.0], [acc, acc - 0.002], "t", "a")
        return r

    default = _result("aimc:pcm", 0.89, 8e-9)
    p = iso_accuracy("aimc:pcm", default, 0.884, evaluate)
    assert asked == [8, 7, 6, 5]
    assert (p.knob, p.value, p.energy_J) == ("converter_bits", 6, pytest.approx(6e-9))
    assert "holds to 3600 s" in p.note


def test_break_even_rate_scales_the_event_part():
    s = _result("snn:loihi", 0.89, None, parts={"compute": 30e-6, "movement": 10e-6,
                                                  "conversion": 15e-6, "static": 5e-6})  # fmt: skip
    s.config["steps"] = 64
    s.extra.update(hidden_spikes=0.1 * 1000 * 64, synaptic_events=2e6)
    fast = _result("aimc:pcm", 0.89, 40e-6)
    b = break_even(s, fast, neurons=1000)
    # fixed 20 uJ, variable 40 uJ at 0.1 spikes/neuron/step: equal at 0.1 x (40-20)/40
    assert b.rate_now == pytest.approx(0.1)
    assert b.rate_break_even == pytest.approx(0.05)
    assert b.energy_per_event_J == pytest.approx(40e-6 / 2e6)
    assert b.energy_per_mac_J == pytest.approx(40e-6 / 1e6)
    cheap = _result("aimc:pcm", 0.89, 10e-6)
    assert break_even(s, cheap, neurons=1000).rate_break_even is None
