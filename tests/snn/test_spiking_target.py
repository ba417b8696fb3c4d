"""The snn target family on the small workloads (numpy backend, quick options)."""

from __future__ import annotations

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
    # TrueNorth: 1.78 pJ dynamic per event (neuron updates and routing included) and the
    # chip's 42 mW static power over the 32 ms; input spikes and results over the host link
    e_dyn = (0.145 - 0.042) / 58e9
    assert r.energy_breakdown["synaptic_events"] == pytest.approx(
        r.extra["synaptic_events"] * e_dyn
    )
    assert r.energy_breakdown["static"] == pytest.approx(42e-3 * 32e-3)
    assert r.energy_per_inference == pytest.approx(
        r.extra["synaptic_events"] * e_dyn + 42e-3 * 32e-3
    )
    assert r.energy_breakdown["host_io"] == pytest.approx(r.extra["host_bytes"] * 8 * 26e-12)
    assert r.system_energy_per_inference == pytest.approx(
        r.energy_per_inference + r.energy_breakdown["host_io"]
    )
    assert r.energy_missing["conversion"].startswith("included in the truenorth per-event")
    assert r.energy_missing["movement"].startswith("included in the truenorth per-event")
    # the two per-event figures of the roadmap gap: all-in chip energy, synaptic part only
    events = r.extra["synaptic_events"]
    assert r.extra["energy_per_synaptic_event_J"] == pytest.approx(r.energy_per_inference / events)
    assert r.extra["synaptic_energy_per_event_J"] == pytest.approx(e_dyn)
    assert r.latency == pytest.approx(32e-3)
    assert r.curves["accuracy_vs_steps"].x[-1] == 32
    energy = r.curves["energy_vs_steps"]
    assert energy.y[-1] == pytest.approx(r.energy_per_inference, rel=1e-12)
    assert np.all(np.diff(energy.y) > 0)  # every step costs spikes and static energy
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


def test_loihi_fills_every_group_of_the_boundary():
    fam = FAMILIES.get("snn")
    r = make_target("snn:loihi", **fam.quick_options).evaluate(workloads.get("mlp-digits"), seed=0)
    r.check()
    assert r.energy_missing == {}
    groups = r.group_energy()
    assert all(v is not None and v > 0 for v in groups.values()), groups
    x = r.extra
    # mlp-digits 64 -> 64 -> 10 (one Loihi core each): every hidden and output neuron has a
    # bias, so all its updates are active; spikes travel between cores of one tile
    assert x["neuron_updates_active"] == pytest.approx(x["neuron_updates"])
    assert x["neuron_updates_idle"] == pytest.approx(0.0, abs=1e-9)
    assert x["hops_ew"] == x["hops_ns"] == 0
    assert x["messages"] == pytest.approx(x["messages_in_tile"])
    b = r.energy_breakdown
    assert b["synaptic_events"] == pytest.approx(x["synaptic_events"] * 35.5e-12)
    assert b["neuron_updates"] == pytest.approx(x["neuron_updates"] * 72.8e-12)
    assert b["spike_routing"] == pytest.approx(x["messages"] * (111e-12 + 1.7e-12))
    # Loihi's own step: the busiest core (64 active updates of 8.4 ns, plus its share of the
    # synaptic ops at 3.5 ns) + one message in the tile (2.1 ns) + the one-tile barrier
    # (113 ns), Davies 2018 Table 2; static and the x86 cores' power over 32 such steps
    assert r.latency == pytest.approx(32 * x["step_s"])
    assert 32 * (64 * 8.4e-9 + 115.1e-9) < r.latency
    assert r.latency < 32 * (64 * 8.4e-9 + 115.1e-9) + x["synaptic_events"] * 3.5e-9
    assert r.latency < 1e-3  # not TrueNorth's 1 ms per step
    assert r.throughput == pytest.approx(1 / r.latency)
    assert b["static"] == pytest.approx(0.029 * r.latency)
    assert b["control"] == pytest.approx(2.09 / 32 * r.latency)
    assert groups["static"] == pytest.approx(b["static"] + b["control"])
    assert groups["conversion"] == pytest.approx(b["neuron_updates"] + b["spike_generation"])
    assert x["synaptic_energy_per_event_J"] == pytest.approx(35.5e-12)
    # dt_s overrides the chip's step: real time, 1 ms per step, same events
    rt = make_target("snn:loihi", **{**fam.quick_options, "dt_s": 1e-3}).evaluate(
        workloads.get("mlp-digits"), seed=0
    )
    assert rt.latency == pytest.approx(32e-3)
    assert rt.energy_breakdown["static"] == pytest.approx(0.029 * 32e-3)
    assert rt.extra["synaptic_events"] == pytest.approx(x["synaptic_events"])
    assert rt.energy_per_inference > 10 * r.energy_per_inference  # idle power x 1 ms steps


def test_device_synapses_pay_the_crossbar_periphery():
    fam = FAMILIES.get("snn")
    r = make_target("snn:reram", **fam.quick_options).evaluate(workloads.get("mlp-digits"), seed=0)
    r.check()
    b, x = r.energy_breakdown, r.extra
    assert {"cell_reads", "row_drive", "column_sense", "lane_static", "neuron_updates",
            "spike_routing", "host_io"} <= set(b)  # fmt: skip
    assert "synaptic_events" not in b
    # a spike drives its row once per column tile (every layer here fits one tile)
    assert x["row_drives"] == pytest.approx(x["spikes"])  # input + hidden spikes
    assert b["row_drive"] > 0 and b["column_sense"] > 0
    assert r.energy_missing == {}
    assert b["static"] == pytest.approx(0.029 * r.latency)  # the Loihi chip's idle power
    # Loihi's step with one crossbar pass per core instead of the synaptic ops
    assert r.latency == pytest.approx(32 * x["step_s"])
    assert r.latency < 32 * (64 * 8.4e-9 + 115.1e-9 + 1e-6)


def test_chips_with_whole_chip_or_all_in_figures_say_what_they_include():
    fam = FAMILIES.get("snn")
    r = make_target("snn:brainscales2", **fam.quick_options).evaluate(
        workloads.get("mlp-digits"), seed=0
    )
    r.check()
    # the whole chip's 200 mW (Cramer et al. 2022) over the steps at 1 us each
    assert r.energy_per_inference == pytest.approx(0.2 * r.latency)
    assert set(r.energy_breakdown) == {"static", "host_io"}
    for g in ("compute", "conversion", "movement"):
        assert r.energy_missing[g].startswith("included in static_W"), g
    s = make_target("snn:spinnaker", **fam.quick_options).evaluate(
        workloads.get("mlp-digits"), seed=0
    )
    assert s.energy_per_inference == pytest.approx(s.extra["synaptic_events"] * 5.9e-6)
    assert s.system_energy_per_inference is None  # whole-machine figure: off-chip included
    assert s.energy_missing["off_chip"].startswith("included in the spinnaker")


def test_spinnaker2_prices_events_and_neuron_updates_and_says_what_it_lacks():
    fam = FAMILIES.get("snn")
    r = make_target("snn:spinnaker2", **fam.quick_options).evaluate(
        workloads.get("mlp-digits"), seed=0
    )
    r.check()
    b, x = r.energy_breakdown, r.extra
    # 450 pJ per synaptic op, 2.19 nJ per neuron update (Hoeppner et al. 2019, 28 nm)
    assert b["synaptic_events"] == pytest.approx(x["synaptic_events"] * 450e-12)
    assert b["neuron_updates"] == pytest.approx(
        (x["neuron_updates_active"] + x["neuron_updates_idle"]) * 2.19e-9
    )
    assert r.energy_per_inference == pytest.approx(b["synaptic_events"] + b["neuron_updates"])
    for g in ("movement", "static"):
        assert r.energy_missing[g].startswith("not modelled"), g


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


def test_diehl_cook_time_on_each_chip():
    from neuro.targets.spiking import _dc_activity
    from snn.energy import preset

    per_inf = {"synaptic_events": 784 * 0.1 * 400, "neuron_updates": 800 * 1000.0}
    spikes = [78.4, 20.0, 20.0]  # input, excitatory, inhibitory per image
    # a tick chip runs the 500 ms of presentation in real time; BrainScaleS-2 1,000x faster
    a = _dc_activity(preset("truenorth"), 400, spikes, per_inf, 1000.0, 0.5, None, False)
    assert a.time_s == pytest.approx(0.5) and a.step_s == pytest.approx(0.5e-3)
    b = _dc_activity(preset("brainscales2"), 400, spikes, per_inf, 1000.0, 0.5, None, False)
    assert b.time_s == pytest.approx(0.5e-3)
    # Loihi: 1,000 of its own steps. The excitatory layer (784 x 400 + 400 x 399 synapses)
    # spreads over 8 cores, the 400 inhibitory neurons share one: that core's 400 active
    # updates (8.4 ns each; conductances decay every step) bound the step, plus the barrier
    # over 10 cores (3 tiles: 113 + 352 x 2/10 ns) and a route
    c = _dc_activity(preset("loihi"), 400, spikes, per_inf, 1000.0, 0.5, None, False)
    assert c.time_s == pytest.approx(1000 * c.step_s)
    assert 400 * 8.4e-9 + 183.4e-9 < c.step_s < 400 * 8.4e-9 + 183.4e-9 + 20e-9
    # dt_s overrides
    d = _dc_activity(preset("loihi"), 400, spikes, per_inf, 1000.0, 0.5, 0.5e-3, False)
    assert d.time_s == pytest.approx(0.5)


def test_step_overhead_adds_to_every_step_and_its_static_energy():
    fam = FAMILIES.get("snn")
    wl = workloads.get("mlp-digits")
    base = make_target("snn:loihi", **fam.quick_options).evaluate(wl, seed=0)
    slow = make_target("snn:loihi", **fam.quick_options, step_overhead_s=10e-6)
    slow = slow.evaluate(wl, seed=0)
    steps = 32  # the quick options' window
    assert slow.extra["synaptic_events"] == base.extra["synaptic_events"]  # same run
    assert slow.latency - base.latency == pytest.approx(steps * 10e-6, rel=1e-9)
    # Loihi's 29 mW idle power and the x86 cores' 2.09 W / 32 chips over the added time
    extra_time = steps * 10e-6
    assert slow.energy_breakdown["static"] - base.energy_breakdown["static"] == pytest.approx(
        0.029 * extra_time, rel=1e-9
    )
    assert slow.energy_breakdown["control"] - base.energy_breakdown["control"] == pytest.approx(
        2.09 / 32 * extra_time, rel=1e-9
    )
    assert slow.config["step_overhead_s"] == 10e-6
    with pytest.raises(ConfigError, match=r"step_overhead_s"):
        SpikingConfig(step_overhead_s=-1e-6)
