"""The Diehl & Cook network on tiny inputs with the numpy target (fixed seeds)."""

from __future__ import annotations

from dataclasses import replace as dataclasses_replace

import numpy as np
import pytest
from brian2 import Hz, ms, mV, second

import devices
from devices.validation import ConfigError
from snn import DeviceSynapse, DiehlCook, DiehlCookConfig, DifferentialDeviceSynapse, STDPRule
from snn.backend import BACKENDS
from snn.diehl_cook import assign, predict

pytestmark = pytest.mark.brian2

N_IN = 16


def _images(n: int, seed: int = 0) -> np.ndarray:
    """Bright 4x4 bars: enough input for a few excitatory spikes per image."""
    rng = np.random.default_rng(seed)
    x = np.zeros((n, N_IN))
    for k in range(n):
        x[k, rng.choice(N_IN, 6, replace=False)] = 255.0
    return x


def _tiny_cfg(norm_sum: float = 10.0, **stdp) -> DiehlCookConfig:
    # 16 inputs instead of 784: the column sum scales with the input count (78 / 784 * 16
    # would starve the neurons; 10 gives a few spikes per image), 100 ms images for speed.
    return DiehlCookConfig(
        norm_sum=norm_sum, t_present=100 * ms, t_rest=50 * ms, max_repeats=1, stdp=STDPRule(**stdp)
    )


def test_normalise_sets_column_sums():
    net = DiehlCook(3, n_input=N_IN, backend="numpy", config=_tiny_cfg(), seed=1)
    net.normalise()
    np.testing.assert_allclose(net.weights.sum(axis=0), 10.0, rtol=1e-12)


def test_in_run_normalisation_without_learning_gives_column_sums():
    # With zero learning rates only the in-run normalisation changes the weights (a sum
    # of 4 keeps every weight below wmax = 1, where the STDP update would clip it).
    net = DiehlCook(3, n_input=N_IN, backend="numpy", chunk=2,
                    config=_tiny_cfg(4.0, nu_pre=0.0, nu_post=0.0), seed=2)  # fmt: skip
    assert not np.allclose(net.weights.sum(axis=0), 4.0)
    net.train(_images(2))
    assert net.weights.max() < 1.0
    np.testing.assert_allclose(net.weights.sum(axis=0), 4.0, rtol=1e-9)


def test_training_changes_weights_and_raises_thresholds_and_counts_events():
    cfg = _tiny_cfg()
    net = DiehlCook(4, n_input=N_IN, backend="numpy", chunk=2, config=cfg, seed=3)
    theta0 = float(cfg.theta_init / mV) * 1e-3
    x = _images(2)
    ev = net.train(x)
    assert ev.images == 2 and ev.presentations >= 2
    assert ev.exc_spikes > 0
    # adaptive threshold: +0.05 mV per spike, decay with tau_theta = 1e4 s over the
    # simulated time (0.15 s per presentation)
    decay = 4 * theta0 * (1 - np.exp(-ev.presentations * 0.15 / 1e4))
    rise = np.asarray(net.state["theta"]) - theta0
    assert rise.sum() == pytest.approx(ev.exc_spikes * 0.05e-3 - decay, rel=1e-3)
    # spikes × fan-out: each input spike reaches all 4 neurons, each E spike its one I
    # partner, each I spike the 3 others
    assert ev.synaptic_events == ev.input_spikes * 4 + ev.exc_spikes + ev.inh_spikes * 3
    # Poisson input: 6 pixels at 255 / 8 * 2 Hz for 100 ms per presentation
    expected = ev.presentations * 6 * 255 / 8 * 2 * 0.1
    assert abs(ev.input_spikes - expected) < 5 * np.sqrt(expected)
    steps = ev.presentations * 300  # 150 ms / 0.5 ms
    assert ev.neuron_updates == steps * 8


def test_silent_images_are_shown_again_with_more_intensity():
    cfg = DiehlCookConfig(norm_sum=0.5, t_present=100 * ms, t_rest=50 * ms, max_repeats=3)
    net = DiehlCook(2, n_input=N_IN, backend="numpy", chunk=2, config=cfg, seed=4)
    net.train(_images(1))
    # weights too weak to fire: the image is shown 1 + max_repeats times
    assert net.train_events.presentations == 4
    assert net.train_events.exc_spikes < 5


def test_same_seed_same_result_numpy():
    a = DiehlCook(3, n_input=N_IN, backend="numpy", chunk=2, config=_tiny_cfg(), seed=5)
    b = DiehlCook(3, n_input=N_IN, backend="numpy", chunk=2, config=_tiny_cfg(), seed=5)
    x = _images(2)
    np.testing.assert_array_equal(a.responses(x), b.responses(x))


def test_device_synapse_weights_stay_on_levels_during_learning():
    dev = devices.get("ideal", n_pulse_levels=21)  # linear, no cycle-to-cycle noise
    syn = DeviceSynapse(dev, drift=False)
    net = DiehlCook(3, syn, n_input=N_IN, backend="numpy", chunk=2,
                    config=_tiny_cfg(nu_post=0.1, nu_pre=0.01), seed=6)  # fmt: skip
    w0 = net.weights.copy()
    net.train(_images(2))
    w = net.weights
    assert not np.array_equal(w, w0)
    grid = syn.levels()
    assert np.max(np.min(np.abs(w.reshape(-1, 1) - grid[None, :]), axis=1)) < 1e-9
    assert w.min() >= 0.0 and w.max() <= 1.0


def test_noisy_device_weights_stay_in_range():
    syn = DeviceSynapse(devices.get("reram"), seed=1)
    net = DiehlCook(3, syn, n_input=N_IN, backend="numpy", chunk=2,
                    config=_tiny_cfg(nu_post=0.1), seed=7)  # fmt: skip
    net.train(_images(2))
    assert net.weights.min() >= 0.0 and net.weights.max() <= 1.0
    assert np.all(np.asarray(net.state["drift"]) > 0)
    wc, dev = net.write_counts(), syn.device
    assert wc["write_energy_per_presentation_J"] > 0
    assert wc["write_energy_per_presentation_J"] == pytest.approx(
        (wc["stdp_pulses"] + wc["rewrites"]) * dev.write_energy_J / net.train_events.presentations
    )
    assert wc["endurance_cycles"] == dev.endurance_cycles


def test_assign_and_predict_by_class_means():
    counts = np.array([[5, 0, 1], [4, 0, 0], [0, 3, 0], [0, 0, 0]])
    labels = np.array([0, 0, 1, 2])
    a = assign(counts, labels, 3)
    np.testing.assert_array_equal(a, [0, 1, 0])
    np.testing.assert_array_equal(predict(np.array([[0, 2, 0], [3, 0, 0]]), a, 3), [1, 0])


def test_errors():
    with pytest.raises(ConfigError, match="DiehlCook.n_exc must be an integer >= 1"):
        DiehlCook(0, backend="numpy")
    with pytest.raises(ConfigError, match="backend must be one of"):
        DiehlCook(2, backend="cuda")
    net = DiehlCook(2, n_input=N_IN, backend="numpy")
    with pytest.raises(ConfigError, match="images must have 16 pixels"):
        net.train(np.zeros((1, 15)))
    with pytest.raises(ConfigError, match=r"grey levels in \[0, 255\]"):
        net.train(np.full((1, N_IN), 300.0))
    with pytest.raises(ConfigError, match="passes must be an integer >= 1"):
        net.train(np.zeros((1, N_IN)), passes=0)
    with pytest.raises(ConfigError, match="needs assign_labels"):
        net.predict(np.zeros((1, N_IN)))
    assert BACKENDS == ("standalone", "numpy")


def test_config_errors():
    with pytest.raises(ConfigError, match="DiehlCookConfig.dt must be > 0 ms"):
        DiehlCookConfig(dt=0 * ms)
    with pytest.raises(ConfigError, match="DiehlCookConfig.rate_per_level must be a quantity"):
        DiehlCookConfig(rate_per_level=0.125)
    with pytest.raises(ConfigError, match="t_present must be a multiple of dt"):
        DiehlCookConfig(t_present=350.25 * ms)
    with pytest.raises(ConfigError, match="DiehlCookConfig.min_spikes must be an integer"):
        DiehlCookConfig(min_spikes=2.5)
    with pytest.raises(ConfigError, match="DiehlCookConfig.w_init_max must be"):
        DiehlCookConfig(w_init_max=2.0)
    with pytest.raises(ConfigError, match="DiehlCookConfig.method must be 'euler' or"):
        DiehlCookConfig(method="rk4")
    with pytest.raises(ConfigError, match="input_sampling must be 'interval' or 'per_step'"):
        DiehlCookConfig(input_sampling="poisson")
    with pytest.raises(ConfigError, match="t_rest_step must exceed delay_max"):
        DiehlCookConfig(t_rest_step=10 * ms)
    with pytest.raises(ConfigError, match="t_rest_step must be a multiple of dt"):
        DiehlCookConfig(t_rest_step=40.25 * ms)
    DiehlCookConfig(t_rest_step=5 * ms, delay_max=0 * ms)  # no delays: any stepped rest
    assert DiehlCookConfig(t_rest_step=200 * ms).t_skip == 0 * ms
    assert DiehlCookConfig().rate_per_level * 255 * 2 == 63.75 * Hz


def _one_step(method: str, ge: float = 0.0, gi: float = 0.0) -> float:
    """v (mV) of one excitatory neuron at rest after one 0.5 ms step with ge, gi."""
    from brian2 import Network, NeuronGroup

    from snn.dc_network import _EXC, DCNetwork
    from snn.synapse import IdealSynapse

    cfg = DiehlCookConfig(method=method)
    ns = DCNetwork(cfg, N_IN, 1, IdealSynapse(), 1, "numpy")._namespace()
    g = NeuronGroup(1, _EXC, method=cfg.method, namespace=ns, dt=cfg.dt)
    g.v, g.ge, g.gi, g.plastic = cfg.v_rest_e, ge, gi, 0
    Network(g).run(cfg.dt)
    return float(g.v[0] / mV)


def test_default_integration_keeps_v_between_the_reversal_potentials():
    # Exponential Euler (the default) is exact for v given the conductances over a step:
    # 399 inhibitory spikes at once (gi = 399 * 17, gi * dt / tau_e = 34 time constants)
    # relax v towards e_inh_e = -100 mV and never past it; 400 excitatory inputs of
    # weight 10 (ge = 4000, 20 time constants) towards e_exc = 0 mV.
    assert DiehlCookConfig().method == "exponential_euler"
    assert -100.0 <= _one_step("exponential_euler", gi=399 * 17.0) < -99.0
    assert -1.0 < _one_step("exponential_euler", ge=4000.0) <= 0.0
    # one inhibitory spike: v - e_inh = (v0 - e_inh) exp(-dt (1 + gi) / tau) (gi ~ const)
    v = _one_step("exponential_euler", gi=17.0)
    assert -100.0 < v < -65.0


def test_forward_euler_option_is_brian1s_step_within_the_physical_range():
    # Forward Euler (the original code's Brian 1) stays available: one inhibitory spike
    # gives Brian 1's step exactly. While dt (1 + gi) / tau_e < 1 (up to 11 simultaneous
    # inhibitory spikes: 0.86) the step moves v towards e_inh_e without passing it, so v
    # stays between the reversal potentials. (Beyond that it overshoots e_inh_e, beyond
    # 2 it diverges; see DiehlCookConfig.method.)
    v = _one_step("euler", gi=17.0)
    assert v == pytest.approx(-65 + 0.5 / 100 * 17 * (-100 + 65), rel=1e-9)  # -67.975
    assert -100.0 < v < -65.0
    assert -100.0 < _one_step("euler", gi=11 * 17.0) < -65.0


def test_rest_jump_equals_stepping_the_rest():
    # The rest beyond t_rest_step decays analytically; with no random draw during the
    # rest (the input is silent; "interval" sampling draws only at spikes and image
    # starts) the jumped and the stepped network see the same input spikes, so the same
    # layer spikes, and the state they return differs only by the conductances left
    # after 40 ms of rest (< 1e-5 of their peak) and rounding.
    from snn.dc_network import DCNetwork
    from snn.synapse import IdealSynapse

    outs = []
    for step in (40 * ms, 150 * ms):
        cfg = DiehlCookConfig(norm_sum=50.0, t_present=100 * ms, t_rest_step=step,
                              min_spikes=0)  # fmt: skip
        dc = DiehlCook(3, n_input=N_IN, backend="numpy", chunk=3, config=cfg, seed=11)
        state = dict(dc.state, plastic=1.0, colsum=dc.weights.sum(axis=0))
        rates = _images(3, seed=5) * float(cfg.rate_per_level / Hz)
        net = DCNetwork(cfg, N_IN, 3, IdealSynapse(), 3, "numpy")
        assert net.jump == (step < cfg.t_rest)
        outs.append(net.run(rates, state, seed=3))
    jumped, stepped = outs
    assert stepped["exc_spikes"] >= 5
    np.testing.assert_array_equal(jumped["counts"], stepped["counts"])
    assert jumped["input_spikes"] == stepped["input_spikes"]
    assert jumped["run_s"] == stepped["run_s"] == pytest.approx(3 * 0.25)
    for key, atol in (("v_e", 1e-9), ("v_i", 1e-9), ("theta", 1e-12), ("w", 1e-9)):
        np.testing.assert_allclose(jumped["state"][key], stepped["state"][key], atol=atol)


def test_interval_sampling_is_the_per_step_bernoulli_process():
    # Both draw a Bernoulli(rate * dt) process per pixel; "interval" once per spike.
    # 16 pixels at 255 (63.75 Hz) for 3 x 100 ms: 306 spikes expected.
    from snn.dc_network import DCNetwork
    from snn.synapse import IdealSynapse

    counts = {}
    for mode in ("interval", "per_step"):
        cfg = DiehlCookConfig(norm_sum=0.0, t_present=100 * ms, input_sampling=mode)
        dc = DiehlCook(2, n_input=N_IN, backend="numpy", chunk=3, config=cfg, seed=1)
        state = dict(dc.state, plastic=0.0, colsum=dc.weights.sum(axis=0))
        rates = np.full((3, N_IN), 255.0) * float(cfg.rate_per_level / Hz)
        cfg_max = dataclasses_replace(cfg, min_spikes=0)
        net = DCNetwork(cfg_max, N_IN, 2, IdealSynapse(), 3, "numpy")
        counts[mode] = sum(net.run(rates, state, seed=s)["input_spikes"] for s in range(4))
    expected = 4 * 3 * 16 * 63.75 * 0.1
    for mode, n in counts.items():
        assert abs(n - expected) < 4 * np.sqrt(expected), (mode, n)


def test_silent_image_is_reshown_at_once_in_the_same_run_with_more_intensity():
    # A blank image never makes the layer fire: it is shown 1 + max_repeats times, each
    # time 1 intensity unit brighter, then the next image follows in the same run, which
    # stops after the last image (before its upper bound of 3 presentations per image).
    cfg = DiehlCookConfig(norm_sum=40.0, t_present=100 * ms, t_rest=50 * ms, max_repeats=2,
                          min_spikes=1)  # fmt: skip
    net = DiehlCook(3, n_input=N_IN, backend="numpy", chunk=2, config=cfg, seed=8)
    x = np.vstack([np.zeros(N_IN), _images(1)[0]])
    state = dict(net.state, plastic=1.0, colsum=net.weights.sum(axis=0))
    out = net.net.run(x * 0.125, state, seed=1)
    assert out["counts"][0].sum() == 0 and out["counts"][1].sum() >= 1
    np.testing.assert_array_equal(out["shown"], [3, 1])
    np.testing.assert_allclose(out["levels"], [4.0, 2.0])
    assert out["presentations"] == 4
    assert out["run_s"] == pytest.approx(4 * 0.15)  # physical time, rests included
    # the binary's upper bound: 3 presentations per image of 100 ms + the stepped 40 ms
    assert float(net.net.duration / second) == pytest.approx(6 * 0.14)
    # the same through train(): presentations count the repeats, images do not
    ev = net.train(x)
    assert ev.images == 2 and ev.presentations == 4
    assert ev.neuron_updates == 4 * 300 * 2 * 3


def test_same_seed_same_training_numpy():
    a = DiehlCook(3, n_input=N_IN, backend="numpy", chunk=2, config=_tiny_cfg(), seed=9)
    b = DiehlCook(3, n_input=N_IN, backend="numpy", chunk=2, config=_tiny_cfg(), seed=9)
    x = _images(3)
    ea, eb = a.train(x), b.train(x)
    assert ea == eb
    np.testing.assert_array_equal(a.weights, b.weights)
    np.testing.assert_array_equal(a.state["theta"], b.state["theta"])


def test_inference_network_matches_learning_network_with_learning_off():
    # Ideal synapses draw no random numbers, so with plastic = 0 the learning network and
    # the transmission-only inference network see the same input spikes and must give
    # the same counts; neither changes the weights or thresholds.
    from snn.dc_network import DCNetwork
    from snn.synapse import IdealSynapse

    cfg = _tiny_cfg()
    dc = DiehlCook(3, n_input=N_IN, backend="numpy", chunk=2, config=cfg, seed=9)
    dc.normalise()
    dc.state["w"] = np.minimum(dc.state["w"], 1.0)  # learning clips any weight above wmax
    state = dict(dc.state, plastic=0.0, colsum=dc.weights.sum(axis=0))
    rates = _images(2, seed=3) * float(cfg.rate_per_level / Hz)
    outs = [
        DCNetwork(cfg, N_IN, 3, IdealSynapse(), 2, "numpy", learning=learning).run(
            rates, state, seed=4
        )
        for learning in (True, False)
    ]
    assert outs[0]["counts"].sum() > 0
    np.testing.assert_array_equal(outs[0]["counts"], outs[1]["counts"])
    assert outs[0]["input_spikes"] == outs[1]["input_spikes"]
    for out in outs:
        np.testing.assert_array_equal(out["state"]["w"], state["w"])
        np.testing.assert_array_equal(out["state"]["theta"], state["theta"])
    dc.responses(_images(1))
    assert dc._test_net is not None and not dc._test_net.learning


def test_inference_network_refuses_learning():
    from snn.dc_network import DCNetwork
    from snn.synapse import IdealSynapse

    net = DCNetwork(_tiny_cfg(), N_IN, 2, IdealSynapse(), 1, "numpy", learning=False)
    assert "nu_pre" not in net.code.on_pre and net.code.normalise == ""
    with pytest.raises(ValueError, match="plastic = 0"):
        net.run(np.zeros((1, N_IN)), {"plastic": 1.0}, 0)


def test_pcm_pair_training_keeps_both_cells_in_range_and_normalises_the_difference():
    syn = DifferentialDeviceSynapse(devices.get("pcm"), seed=1)
    net = DiehlCook(3, syn, n_input=N_IN, backend="numpy", chunk=2,
                    config=_tiny_cfg(4.0, nu_post=0.1, nu_pre=0.01), seed=8)  # fmt: skip
    w0 = net.weights.copy()
    net.train(_images(2))
    for key in ("w", "wm"):
        assert np.min(net.state[key]) >= 0.0 and np.max(net.state[key]) <= 1.0
    assert not np.array_equal(net.weights, w0)
    np.testing.assert_allclose(
        net.weights, net.state["w"].reshape(N_IN, 3) - net.state["wm"].reshape(N_IN, 3)
    )
    net.normalise()
    assert np.all(net.state["wm"] == 0)
    np.testing.assert_allclose(net.weights.sum(axis=0), 4.0, rtol=1e-9)


def test_write_counts_of_device_learning():
    # ideal cell with 21 linear levels, no noise: every STDP pulse moves the weight by 1/20
    syn = DeviceSynapse(devices.get("ideal", n_pulse_levels=21), drift=False)
    net = DiehlCook(3, syn, n_input=N_IN, backend="numpy", chunk=2,
                    config=_tiny_cfg(16.0, nu_post=0.1, nu_pre=0.05), seed=6)  # fmt: skip
    assert DiehlCook(3, n_input=N_IN, backend="numpy").write_counts() == {}
    w0 = net.weights.copy()
    net.train(_images(4))
    wc = net.write_counts()
    assert wc["stdp_pulses"] > 0 and wc["rewrites"] > 0
    # each synapse's pulses bound its level moves; the rewrites are whole re-programmings
    moved = np.abs(net.weights - w0).reshape(-1) * 20
    writes = net.state["pulses"] + net.state["rewrites"] * 20
    assert np.all(moved <= writes + 1e-9)
    pres = net.train_events.presentations
    assert wc["stdp_pulses_per_presentation"] == pytest.approx(wc["stdp_pulses"] / pres)
    net.responses(_images(1))  # testing writes nothing
    assert net.write_counts()["stdp_pulses"] == wc["stdp_pulses"]


def test_pcm_reset_counts_one_pulse():
    syn = DeviceSynapse(devices.get("pcm"), drift=False)
    code = syn.code(STDPRule(), transmit="x += {w}")
    assert "pulses += int(_n > 0)" in code.on_pre  # depression: one RESET
    assert "pulses += _n" in code.on_post  # potentiation: _n SET pulses


def test_input_synapses_are_stored_by_delay_per_input():
    # Each input's synapses are stored sorted by delay (then by target); the delays are
    # uniform over [0, delay_max] rounded to steps as Brian2's queue rounds them, and
    # every per-synapse array goes in and comes out in the source-major order.
    from snn.dc_network import DCNetwork
    from snn.synapse import IdealSynapse

    cfg = _tiny_cfg()
    n_exc = 40
    net = DCNetwork(cfg, N_IN, n_exc, IdealSynapse(), 1, "numpy")
    order, steps = net.order, net.delay_steps
    assert sorted(order.tolist()) == list(range(N_IN * n_exc))
    src, tgt = order // n_exc, order % n_exc
    assert np.all(np.diff(src) >= 0)  # still grouped by input
    for i in range(N_IN):
        d, j = steps[src == i], tgt[src == i]
        assert np.all(np.diff(d) >= 0)
        assert np.all(np.diff(j)[np.diff(d) == 0] > 0)  # by target within a delay
    n_steps = round(float(cfg.delay_max / cfg.dt))  # 20
    assert steps.min() == 0 and steps.max() == n_steps
    counts = np.bincount(steps, minlength=n_steps + 1)
    # interior steps have probability 1/20, the two ends 1/40 (rounding)
    assert counts[1:-1].mean() == pytest.approx(N_IN * n_exc / n_steps, rel=0.1)
    w = np.arange(N_IN * n_exc, dtype=float)
    np.testing.assert_array_equal(net._natural(net._stored("w", w)), w)
    np.testing.assert_array_equal(net._stored("theta", w[:n_exc]), w[:n_exc])
    plain = DCNetwork(cfg, N_IN, n_exc, IdealSynapse(), 1, "numpy", by_delay=False)
    np.testing.assert_array_equal(plain.order, np.arange(N_IN * n_exc))
    np.testing.assert_array_equal(steps, plain.delay_steps[order])  # the same delays


def test_delay_sorted_storage_gives_the_same_training():
    # The same delays stored by delay or source-major: the same spikes and weights.
    from snn.dc_network import DCNetwork

    cfg = _tiny_cfg()
    dc = DiehlCook(5, n_input=N_IN, backend="numpy", chunk=3, config=cfg, seed=5)
    state = dict(dc.state, plastic=1.0, colsum=dc.weights.sum(axis=0))
    rates = _images(3, seed=2) * float(cfg.rate_per_level / Hz) * 2
    a, b = (
        DCNetwork(cfg, N_IN, 5, dc.synapse, 3, "numpy", by_delay=by).run(rates, state, seed=3)
        for by in (True, False)
    )
    assert a["exc_spikes"] > 0
    np.testing.assert_array_equal(a["counts"], b["counts"])
    assert not np.array_equal(a["state"]["w"], state["w"])
    np.testing.assert_allclose(a["state"]["w"], b["state"]["w"], rtol=0, atol=1e-15)
    np.testing.assert_array_equal(a["state"]["theta"], b["state"]["theta"])


def test_nearest_rounding_keeps_weights_on_their_levels_under_small_rescaling():
    # A 2 % rescaling moves no FeFET weight below 0.75 by half a level (levels at least
    # 0.03 apart), so nearest rounding rewrites nothing; stochastic rounding moves some.
    import devices
    from snn import DeviceSynapse
    from snn.dc_network import DCNetwork

    cfg = _tiny_cfg(norm_sum=4.0)
    rewrites = {}
    for rounding in ("nearest", "stochastic"):
        syn = DeviceSynapse(devices.get("fefet"), rounding=rounding, drift=False)
        assert syn.describe()["rounding"] == rounding
        dc = DiehlCook(3, syn, n_input=N_IN, backend="numpy", chunk=1, config=cfg, seed=2)
        w = dc.weights
        assert w.max() < 0.75
        state = dict(dc.state, plastic=1.0, colsum=np.full(3, cfg.norm_sum / 1.02))  # x1.02
        net = DCNetwork(cfg, N_IN, 3, syn, 1, "numpy")
        out = net.run(np.zeros((1, N_IN)), state, seed=1)
        rewrites[rounding] = float(np.sum(out["state"]["rewrites"]))
        if rounding == "nearest":
            np.testing.assert_allclose(out["state"]["w"], dc.state["w"], rtol=0, atol=1e-12)
    assert rewrites["nearest"] == 0 < rewrites["stochastic"]
    with pytest.raises(ConfigError, match="rounding must be"):
        DeviceSynapse(devices.get("fefet"), rounding="up")
