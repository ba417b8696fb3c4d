"""STDP through the synapse models in a user's own Brian2 network (numpy target)."""

from __future__ import annotations

import math

import brian2 as b2
import numpy as np
import pytest
import torch
from brian2 import ms

import devices
from devices.validation import ConfigError
from snn import DeviceSynapse, DifferentialDeviceSynapse, IdealSynapse, STDPRule

pytestmark = pytest.mark.brian2


def _pair_run(synapse, pre_times, post_times, w0=0.5, rule=None, seed=1,
              pre_trace="synapse", delay=0 * ms):  # fmt: skip
    """Run one synapse between two spike generators; return its final weight."""
    rule = rule or STDPRule()
    pre = b2.SpikeGeneratorGroup(1, [0] * len(pre_times), pre_times * ms)
    post = b2.SpikeGeneratorGroup(1, [0] * len(post_times), post_times * ms)
    code = synapse.code(rule, transmit="_unused = {w}", post_traces="synapse",
                        pre_trace=pre_trace)  # fmt: skip
    syn = b2.Synapses(pre, post, model=code.model, on_pre=code.on_pre, on_post=code.on_post,
                      namespace=code.namespace)  # fmt: skip
    syn.connect()
    syn.w = w0
    syn.delay = delay
    if pre_trace == "arrival":
        syn.tpre = -1e9 * b2.second
    if "drift" in syn.variables:
        syn.drift = 1.0
    net = b2.Network(pre, post, syn)
    b2.seed(seed)
    net.run(40 * ms)
    return float(syn.w[0])


def test_pre_before_post_potentiates_by_the_trace_rule():
    # pre at 12 ms, post at 15 and 20 ms: the second post spike potentiates by
    # nu_post * pre(8 ms) * post2(5 ms); no depression (post1 = 0 when pre arrives).
    w = _pair_run(IdealSynapse(), np.array([12.0]), np.array([15.0, 20.0]))
    expected = 0.5 + 1e-2 * math.exp(-8 / 20) * math.exp(-5 / 40)
    assert w == pytest.approx(expected, rel=1e-9)


def test_arrival_time_trace_equals_the_event_driven_trace_with_delays():
    # Two pre spikes (the second resets the trace to 1) arriving 3 ms late, posts between
    # and after: the trace from the last arrival time gives the same weight.
    args = (np.array([5.0, 11.0]), np.array([9.0, 16.0, 21.0]))
    w_syn = _pair_run(IdealSynapse(), *args, delay=3 * ms)
    w_arr = _pair_run(IdealSynapse(), *args, pre_trace="arrival", delay=3 * ms)
    assert w_arr == pytest.approx(w_syn, rel=1e-12)
    # arrivals at 8 and 14 ms; post 16 ms potentiates with pre(2 ms), post2 (7 ms since 9)
    assert w_arr != 0.5


def test_post_before_pre_depresses_by_the_trace_rule():
    w = _pair_run(IdealSynapse(), np.array([15.0]), np.array([10.0]))
    assert w == pytest.approx(0.5 - 1e-4 * math.exp(-5 / 20), rel=1e-9)


def test_weights_are_clipped_to_wmax():
    rule = STDPRule(nu_post=1.0)
    w = _pair_run(IdealSynapse(), np.array([12.0]), np.array([15.0, 16.0]), w0=0.9, rule=rule)
    assert w == 1.0


def test_device_potentiation_follows_the_closed_form_of_the_pulse_model():
    dev = devices.get("reram-agasi")  # NL 2.4 / -4.88: strongly non-linear
    syn = DeviceSynapse(dev, drift=False)
    m = syn.pulse_model
    if m.c2c_sigma > 0:  # the closed form is the noise-free response
        m = type(m)(**{**m.__dict__, "c2c_sigma": 0.0})
        syn.pulse_model = m
    rule = STDPRule(nu_post=0.05)  # 0.05 * P = ~5 pulses expected
    w = _pair_run(syn, np.array([12.0]), np.array([15.0, 16.0]), w0=0.3, rule=rule)
    candidates = m.step_up(torch.full((12,), 0.3, dtype=torch.float64), torch.arange(12.0))
    assert np.min(np.abs(candidates.numpy() - w)) < 1e-9
    assert w > 0.3


def test_device_depression_follows_the_mirrored_curve():
    dev = devices.get("fefet")
    syn = DeviceSynapse(dev, drift=False)
    syn.pulse_model = type(syn.pulse_model)(**{**syn.pulse_model.__dict__, "c2c_sigma": 0.0})
    rule = STDPRule(nu_pre=0.2)  # 0.2 * exp(-1/20) * 31 pulses: 5 or 6 pulses
    w = _pair_run(syn, np.array([11.0]), np.array([10.0]), w0=0.8, rule=rule)
    m = syn.pulse_model
    candidates = m.step_down(torch.full((8,), 0.8, dtype=torch.float64), torch.arange(8.0))
    assert np.min(np.abs(candidates.numpy() - w)) < 1e-9
    assert w < 0.8


def test_device_levels_are_on_the_grid_and_in_range():
    syn = DeviceSynapse(devices.get("ideal", n_pulse_levels=11), drift=False)
    grid = syn.levels()
    np.testing.assert_allclose(grid, np.linspace(0, 1, 11), atol=1e-12)
    q = syn.quantise(np.array([0.0, 0.04, 0.06, 0.54, 1.2]), 1.0)
    np.testing.assert_allclose(q, [0.0, 0.0, 0.1, 0.5, 1.0])


def test_code_refuses_bad_arguments():
    with pytest.raises(ConfigError, match="transmit must contain"):
        IdealSynapse().code(STDPRule(), transmit="ge_post += 1")
    with pytest.raises(ConfigError, match="post_traces must be"):
        IdealSynapse().code(STDPRule(), transmit="x += {w}", post_traces="both")
    with pytest.raises(ConfigError, match="DeviceSynapse.device must be a DeviceModel"):
        DeviceSynapse("pcm")


def test_pcm_drift_lowers_the_read_weight_and_ideal_does_not():
    syn = DeviceSynapse(devices.get("pcm"), seed=3)
    w = np.full(50, 0.5)
    f_day = syn.drift_factors(w, np.full(50, 86400.0), 1.0)
    f_now = syn.drift_factors(w, np.zeros(50), 1.0)
    np.testing.assert_allclose(f_now, 1.0)
    assert np.all(f_day < 1.0) and np.all(f_day > 0.3)
    np.testing.assert_array_equal(IdealSynapse().drift_factors(w, np.full(50, 1e5), 1.0), 1.0)


def test_stdp_rule_validates():
    with pytest.raises(ConfigError, match="STDPRule.nu_pre must be"):
        STDPRule(nu_pre=-1.0)
    with pytest.raises(ConfigError, match="STDPRule.tau_pre must be a quantity"):
        STDPRule(tau_pre=20.0)


# -- the 2-device (differential) synapse ---------------------------------------------------
def _pair_cells(synapse, pre_times, post_times, w0=0.5, wm0=0.0, rule=None, seed=1):
    """Like ``_pair_run`` for a two-cell synapse; returns ``(w, wm)``."""
    rule = rule or STDPRule()
    pre = b2.SpikeGeneratorGroup(1, [0] * len(pre_times), pre_times * ms)
    post = b2.SpikeGeneratorGroup(1, [0] * len(post_times), post_times * ms)
    code = synapse.code(rule, transmit="_unused = {w}", post_traces="synapse")
    syn = b2.Synapses(pre, post, model=code.model, on_pre=code.on_pre, on_post=code.on_post,
                      namespace=code.namespace)  # fmt: skip
    syn.connect()
    syn.w, syn.wm, syn.drift, syn.driftm = w0, wm0, 1.0, 1.0
    net = b2.Network(pre, post, syn)
    b2.seed(seed)
    net.run(40 * ms)
    return float(syn.w[0]), float(syn.wm[0])


def _noise_free(syn):
    syn.pulse_model = type(syn.pulse_model)(**{**syn.pulse_model.__dict__, "c2c_sigma": 0.0})
    return syn


def test_pair_potentiates_the_first_cell_and_depresses_through_the_second():
    syn = DifferentialDeviceSynapse(devices.get("ideal", n_pulse_levels=21), drift=False)
    # pre before post: only w moves, by whole pulses of 1/20 (E[n] = 0.1 * 20 * traces)
    w, wm = _pair_cells(syn, np.array([12.0]), np.array([15.0, 16.0]), w0=0.5,
                        rule=STDPRule(nu_post=0.1))  # fmt: skip
    assert wm == 0.0 and w > 0.5
    assert abs((w - 0.5) * 20 - round((w - 0.5) * 20)) < 1e-9
    # post before pre: w is untouched, wm goes up (a SET pulse on the second cell)
    w, wm = _pair_cells(syn, np.array([11.0]), np.array([10.0]), w0=0.5,
                        rule=STDPRule(nu_pre=0.2))  # fmt: skip
    assert w == 0.5 and wm > 0.0
    assert abs(wm * 20 - round(wm * 20)) < 1e-9


def test_pcm_pair_depresses_gradually_where_one_pcm_cell_resets():
    rule = STDPRule(nu_pre=0.03)  # 0.03 * exp(-1/20) * 99: about 3 pulses
    one = _noise_free(DeviceSynapse(devices.get("pcm"), drift=False))
    assert _pair_run(one, np.array([11.0]), np.array([10.0]), w0=0.5, rule=rule) == 0.0
    pair = _noise_free(DifferentialDeviceSynapse(devices.get("pcm"), drift=False))
    w, wm = _pair_cells(pair, np.array([11.0]), np.array([10.0]), w0=0.5, rule=rule)
    m = pair.pulse_model
    steps = m.step_up(torch.zeros(6, dtype=torch.float64), torch.arange(6.0)).numpy()
    assert w == 0.5
    assert np.min(np.abs(steps[1:] - wm)) < 1e-9  # 1 to 5 SET pulses on the second cell
    assert 0.0 < wm < 0.2


def test_pair_state_weights_and_drift():
    syn = DifferentialDeviceSynapse(devices.get("pcm"), seed=2)
    st = syn.initial_state(40, 0.3, np.random.default_rng(0))
    assert set(st) == {"w", "wm", "drift", "driftm", "pulses", "rewrites"}
    assert np.all(st["wm"] == 0) and np.all(st["pulses"] == 0)
    st["wm"] = np.full(40, 0.1)
    np.testing.assert_allclose(syn.effective_weights(st), st["w"] - 0.1)
    written = syn.written(np.linspace(-0.1, 0.5, 40))
    assert np.all(written["wm"] == 0) and written["w"].min() == 0.0
    d = syn.drift_state({"w": np.full(40, 0.5), "wm": np.full(40, 0.2)}, np.full(40, 86400.0), 1.0)
    assert np.all(d["drift"] < 1) and np.all(d["driftm"] < 1)
    assert not np.array_equal(d["drift"], d["driftm"])  # each cell its own drift exponent
    assert syn.describe()["synapse"] == "device-pair" and syn.name == "pcm-pair"
