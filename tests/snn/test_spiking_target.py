"""The snn target family on the small workloads (numpy backend, quick options)."""

from __future__ import annotations

import math

import pytest

from devices.validation import ConfigError
from neuro import workloads
from neuro.targets import FAMILIES, make_target
from neuro.targets.spiking import DC_WORKLOAD, SpikingConfig

pytestmark = [pytest.mark.brian2, pytest.mark.slow]


def test_mlp_digits_quick_result_is_complete():
    fam = FAMILIES.get("snn")
    t = make_target("snn:truenorth", **fam.quick_options)
    r = t.evaluate(workloads.get("mlp-digits"), seed=0)
    r.check()
    assert r.accuracy > 0.8  # FP32 ~0.97 on this split; 32 steps of rate coding
    assert math.isclose(sum(r.energy_breakdown.values()), r.energy_per_inference)
    assert r.energy_per_inference == pytest.approx(r.extra["synaptic_events"] * 26e-12)
    assert r.latency == pytest.approx(32e-3)
    assert r.curves["accuracy_vs_steps"].x[-1] == 32
    assert r.ops_per_inference == workloads.get("mlp-digits").ops_per_inference


def test_refusals():
    with pytest.raises(ConfigError, match="is shape-only"):
        make_target("snn:loihi").evaluate(workloads.get("resnet18"), seed=0)
    with pytest.raises(ConfigError, match="snn variant must be one of"):
        from neuro.targets.spiking import Spiking

        Spiking("ideal")
    with pytest.raises(ConfigError, match="SpikingConfig.steps must be"):
        SpikingConfig(steps=0)
    assert workloads.get(DC_WORKLOAD).unsupervised
