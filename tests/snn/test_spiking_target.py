"""The snn target family on the small workloads (numpy backend, quick options)."""

from __future__ import annotations

import math

import numpy as np
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
    energy = r.curves["energy_vs_steps"]
    assert energy.y[-1] == pytest.approx(r.energy_per_inference, rel=1e-12)
    assert np.all(np.diff(energy.y) > 0)  # every step costs spikes
    events = r.curves["synaptic_events_vs_steps"]
    assert events.y[-1] == pytest.approx(r.extra["synaptic_events"], rel=1e-12)
    assert r.ops_per_inference == workloads.get("mlp-digits").ops_per_inference
    # the accuracy is on a subset: `neuro compare` prints FP32 on the same inputs beside it
    from neuro.report import subset_lines

    n, fp32 = int(r.extra["test_inputs"]), r.extra["fp32_accuracy_same_inputs"]
    assert subset_lines([r]) == [
        f"snn:truenorth: accuracy on the first {n:,} test inputs "
        f"(FP32 on the same inputs: {100 * fp32:.2f} %)"
    ]


def test_refusals():
    with pytest.raises(ConfigError, match="is shape-only"):
        make_target("snn:loihi").evaluate(workloads.get("resnet18"), seed=0)
    with pytest.raises(ConfigError, match="snn variant must be one of"):
        from neuro.targets.spiking import Spiking

        Spiking("ideal")
    with pytest.raises(ConfigError, match="SpikingConfig.steps must be"):
        SpikingConfig(steps=0)
    assert workloads.get(DC_WORKLOAD).unsupervised


def test_a_convolutional_workload_is_converted():
    # cnn-fmnist itself would be trained first (minutes); the same modules on 8x8 digits
    from torch import nn

    from neuro.workloads import TrainConfig, Workload

    w = Workload(
        "cnn-digits-test",
        "conv 3x3 4 (pad 1) → avgpool 2 → fc 10 on 8x8 digits (test only)",
        lambda: nn.Sequential(
            nn.Conv2d(1, 4, 3, padding=1),
            nn.ReLU(),
            nn.AvgPool2d(2),
            nn.Flatten(),
            nn.Linear(64, 10),
        ),  # fmt: skip
        (1, 8, 8),
        dataset="digits",
        train=TrainConfig(epochs=10, batch_size=32, lr=3e-3),
    )
    fam = FAMILIES.get("snn")
    r = make_target("snn:loihi", **fam.quick_options).evaluate(w, seed=0)
    r.check()
    assert r.extra["fp32_accuracy_same_inputs"] > 0.9  # 0.93 on these 100 inputs
    assert r.accuracy >= r.extra["fp32_accuracy_same_inputs"] - 0.05  # 0.92 at 32 steps
    assert r.extra["neuron_updates"] == (4 * 8 * 8 + 10) * 32
    # sparse conv synapses: an input spike reaches at most 4 channels x 9 taps (all to all:
    # 256), a hidden one the 10 outputs; 16 events per spike here
    assert r.extra["synaptic_events"] < 36 * r.extra["spikes"]
