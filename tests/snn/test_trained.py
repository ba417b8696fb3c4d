"""Directly trained LIF networks: torch forward, Brian2 simulation, training cache, target."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from torch import nn

from devices.validation import ConfigError
from snn.lif import LIFConfig, SpikingSequential, segments, spike_fn
from snn.trained import LIFNetwork, Neurons, from_spiking_sequential

pytestmark = pytest.mark.brian2


def _tiny_cnn(scale: float = 3.0) -> nn.Sequential:
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 3, 3, padding=1), nn.ReLU(), nn.AvgPool2d(2), nn.Flatten(),
        nn.Linear(48, 10), nn.ReLU(), nn.Linear(10, 4),
    )  # fmt: skip
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(scale)  # strong enough that every layer spikes
    return model


@pytest.mark.parametrize("reset", ["zero", "subtract"])
def test_brian2_reproduces_the_torch_forward_spike_for_spike(reset):
    net = SpikingSequential(_tiny_cnn(), LIFConfig(beta=0.8, reset=reset), 6).double()
    x = torch.rand(30, 1, 8, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        out = net.run(x)
    b2net = from_spiking_sequential(net, (1, 8, 8))
    assert b2net.sizes == [64, 192, 10, 4]
    run = b2net.run(x.numpy(), 6, checkpoints=[1, 2, 3, 4, 5, 6], backend="numpy")
    # float64 on both sides, same order of operations up to the summation order of the
    # synaptic input: every prediction at every step and every spike count agree
    np.testing.assert_array_equal(run.predictions, out.potentials.argmax(2).numpy())
    assert run.spikes == [int(c.sum()) for c in out.spikes]
    np.testing.assert_array_equal(run.spikes_at, out.spikes_at.numpy().astype(int))
    assert min(run.spikes) > 100  # every layer took part
    # events: each spike reaches its neuron's synapses (conv: the non-zeros of its column)
    fans = b2net.fan_out
    inp = (x.reshape(30, -1) != 0).sum(0).numpy() * 6  # graded input: every step
    assert run.synaptic_events == int(inp @ fans[0]) + _hidden_events(b2net, net, x) + (
        run.spikes[2] * 4
    )


def _hidden_events(b2net: LIFNetwork, net: SpikingSequential, x: torch.Tensor) -> int:
    """Σ over layer-1 neurons of spikes × fan-out, from the torch forward."""
    c = net.lif
    with torch.no_grad():
        cur = net.segs[0](x)
        v = torch.zeros_like(cur)
        count = torch.zeros_like(cur)
        for _ in range(net.steps):
            v = c.beta * v + cur
            s = (v > c.threshold).double()
            v = v - c.threshold * s if c.reset == "subtract" else v * (1 - s)
            count += s
    return int(count.reshape(len(x), -1).sum(0).numpy() @ b2net.fan_out[1])


def test_one_neuron_follows_the_discrete_equations():
    # v = 0.5 v + 0.6: 0.6, 0.9, 1.05 > 1 → spike, reset to 0; then 0.6, 0.9, 1.05 again
    w = np.array([[0.6]])
    lay = [(w, np.zeros(1)), (np.array([[1.0]]), np.zeros(1))]
    neurons = [Neurons("lif", 1, beta=0.5, threshold=1.0, reset="zero"),
               Neurons("integrator", 1)]  # fmt: skip
    net = LIFNetwork(lay, neurons)
    run = net.run(np.ones((1, 1)), 6, checkpoints=[1, 2, 3, 4, 5, 6], backend="numpy")
    np.testing.assert_array_equal(run.spikes_at[:, 1], [0, 0, 1, 1, 1, 2])
    lin = nn.Sequential(nn.Linear(1, 1), nn.ReLU(), nn.Linear(1, 1))
    with torch.no_grad():
        lin[0].weight.fill_(0.6), lin[0].bias.zero_(), lin[2].weight.fill_(1.0), lin[2].bias.zero_()
    with torch.no_grad():
        out = SpikingSequential(lin, LIFConfig(beta=0.5, reset="zero"), 6).run(torch.ones(1, 1))
    np.testing.assert_array_equal(out.spikes_at[:, 1].numpy(), [0, 0, 1, 1, 1, 2])
    assert float(out.potentials[-1, 0, 0]) == 2.0  # the integrator holds the 2 spikes


def test_spikes_reach_every_layer_in_the_same_step():
    # three layers of one neuron, weight 2 > threshold 1: the input's first graded spike
    # makes all three spike in step 1
    one = (np.array([[2.0]]), np.zeros(1))
    neurons = [Neurons("lif", 1, beta=0.0) for _ in range(3)]
    net = LIFNetwork([one] * 3, neurons, readout="spikes")
    run = net.run(np.ones((1, 1)), 1, backend="numpy")
    assert run.spikes == [1, 1, 1, 1]
    assert run.synaptic_events == 3  # fan-out 1 per layer; the output has no synapses


def test_current_based_neurons_and_spike_count_readout():
    # i = 0.5 i + 1; v = 0.9 v + i: i = 1, 1.5, 1.75; v = 1 (not > 1.2), 2.4 → spike → 0,
    # 1.75 → spike → 0, ...
    neurons = [Neurons("cuba", 2, beta=0.9, alpha=0.5, threshold=[1.2, 100.0])]
    net = LIFNetwork([(np.array([[1.0], [1.0]]), np.zeros(2))], neurons, readout="spikes")
    run = net.run(np.ones((1, 1)), 3, checkpoints=[1, 2, 3], backend="numpy")
    np.testing.assert_array_equal(run.spikes_at[:, 1], [0, 1, 2])
    assert (run.predictions == 0).all()  # counts (0, 0), (1, 0), (2, 0): the first on ties
    # not strict (v >= ϑ): ϑ = 1 fires at step 1
    neurons = [Neurons("cuba", 1, beta=0.9, alpha=0.5, threshold=1.0, strict=False)]
    run = LIFNetwork([(np.ones((1, 1)), np.zeros(1))], neurons, readout="spikes").run(
        np.ones((1, 1)), 1, backend="numpy"
    )
    assert run.spikes == [1, 1]


def test_sparse_maps_and_chunks_with_padding():
    w = sp.csc_array(np.array([[1.5, 0.0, 0.0], [0.0, 1.5, 1.5]]))
    neurons = [Neurons("lif", 2, beta=1.0), Neurons("integrator", 1)]
    net = LIFNetwork([(w, np.zeros(2)), (np.ones((1, 2)), np.zeros(1))], neurons)
    assert [f.tolist() for f in net.fan_out] == [[1, 1, 1], [1, 1]]
    x = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 1.0], [0.0, 0.0, 0.0]])
    whole = net.run(x, 2, backend="numpy")
    parts = net.run(x, 2, backend="numpy", chunk=2)  # second chunk padded with a zero input
    assert whole.spikes == parts.spikes == [6, 4]  # input: 1+2 per step; hidden: 1+1 per step
    assert whole.synaptic_events == parts.synaptic_events == 6 + 4  # fan-outs all 1
    np.testing.assert_array_equal(whole.predictions, parts.predictions)


def test_surrogate_gradient_is_the_fast_sigmoid():
    u = torch.tensor([-1.0, 0.0, 0.5], requires_grad=True)
    s = spike_fn(u, 5.0)
    assert s.tolist() == [0.0, 0.0, 1.0]  # strict: H(0) = 0
    s.sum().backward()
    np.testing.assert_allclose(u.grad.numpy(), [1 / 36, 1.0, 1 / 12.25])


def test_errors():
    with pytest.raises(ConfigError, match="LIFConfig.beta must be in"):
        LIFConfig(beta=1.5)
    with pytest.raises(ConfigError, match="LIFConfig.reset must be one of"):
        LIFConfig(reset="hold")
    with pytest.raises(ConfigError, match="SpikingSequential.steps must be an integer >= 1"):
        SpikingSequential(_tiny_cnn(), LIFConfig(), 0)
    with pytest.raises(ConfigError, match="no module between its ReLUs"):
        segments(nn.Sequential(nn.ReLU()))
    with pytest.raises(ConfigError, match="Neurons.kind must be one of"):
        Neurons("izhikevich", 1)
    with pytest.raises(ConfigError, match="Neurons.reset must be 'zero' or 'subtract'"):
        Neurons("lif", 1, reset="hold")
    with pytest.raises(ConfigError, match="Neurons.beta must have 1 or 2 values; got 3"):
        Neurons("lif", 2, beta=[1, 1, 1])
    one = (np.ones((1, 1)), np.zeros(1))
    lif, integ = Neurons("lif", 1), Neurons("integrator", 1)
    with pytest.raises(ConfigError, match="LIFNetwork.input must be one of"):
        LIFNetwork([one], [integ], input="poisson")
    with pytest.raises(ConfigError, match="LIFNetwork.readout must be one of"):
        LIFNetwork([one], [integ], readout="latency")
    with pytest.raises(ConfigError, match="one Neurons per map; got 2 maps, 1 layers"):
        LIFNetwork([one, one], [integ])
    with pytest.raises(ConfigError, match="layer 0 is an integrator but not the last"):
        LIFNetwork([one, one], [integ, integ])
    with pytest.raises(ConfigError, match="layer 0 has 2 neurons but its map 1 outputs"):
        LIFNetwork([one], [Neurons("integrator", 2)])
    with pytest.raises(ConfigError, match="map 1 takes 2 inputs; map 0 gives 1"):
        LIFNetwork([one, (np.ones((1, 2)), np.zeros(1))], [lif, integ])
    with pytest.raises(ConfigError, match="readout 'potential' needs an integrator output"):
        LIFNetwork([one], [lif])
    with pytest.raises(ConfigError, match="readout 'spikes' needs a spiking output"):
        LIFNetwork([one], [integ], readout="spikes")
    net = LIFNetwork([one], [integ])
    with pytest.raises(ConfigError, match="inputs must have 1 values; got 2"):
        net.run(np.ones((1, 2)), 2, backend="numpy")
    with pytest.raises(ConfigError, match="steps must be an integer >= 1"):
        net.run(np.ones((1, 1)), 0, backend="numpy")
    with pytest.raises(ConfigError, match=r"checkpoints must be integers in \[1, 2\]"):
        net.run(np.ones((1, 1)), 2, checkpoints=[3], backend="numpy")


# -- training and the target ---------------------------------------------------------


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("NEURO_CACHE", str(tmp_path))
    return tmp_path


@pytest.mark.slow
def test_trained_digits_network_is_cached_and_brian2_agrees(cache):
    from neuro import workloads
    from neuro.workloads.snn_training import SNNTrainConfig, trained_snn
    from neuro.workloads.training import dataset_for

    w = workloads.get("mlp-digits")
    recipe = SNNTrainConfig(steps=4, epochs=15)
    ts = trained_snn(w, recipe)
    # 8x8 digits, 64-32-10, 4 steps: the FP32 MLP reaches about 0.95 with 40 epochs
    assert ts.test_accuracy > 0.85
    again = trained_snn(w, recipe)
    assert again.key == ts.key and again.train_time_s == ts.train_time_s  # from the cache
    assert trained_snn(w, SNNTrainConfig(steps=2, epochs=15)).key != ts.key
    x, y = dataset_for(w).tensors("test", limit=60)
    net = from_spiking_sequential(ts.net.double(), (1, 8, 8))
    run = net.run(x, 4, backend="numpy")
    with torch.no_grad():
        ref = ts.net.run(x.double()).potentials.argmax(2).numpy()
    np.testing.assert_array_equal(run.predictions, ref[[0, 1, 3]])


def test_trained_snn_refuses_shape_only_workloads(cache):
    from neuro import workloads
    from neuro.workloads.snn_training import trained_snn

    with pytest.raises(ConfigError, match="trained_snn: workload 'resnet18' has no supervised"):
        trained_snn(workloads.get("resnet18"))


@pytest.mark.slow
def test_spiking_target_trained_mode(cache):
    from neuro import workloads
    from neuro.targets.spiking import Spiking, SpikingConfig

    with pytest.raises(ConfigError, match="steps must be at most 32 with mode='trained'"):
        SpikingConfig(mode="trained", steps=64)
    cfg = SpikingConfig(mode="trained", steps=4, test_limit=40, backend="numpy")
    r = Spiking("loihi", cfg).evaluate(workloads.get("mlp-digits"), seed=0)
    assert r.extra["torch_agreement"] == 1.0
    assert r.accuracy == pytest.approx(r.extra["torch_accuracy_same_inputs"])
    assert list(r.curves["accuracy_vs_steps"].x) == [1, 2, 4]
    ev = r.curves["synaptic_events_vs_steps"].y
    assert ev[-1] == pytest.approx(r.extra["synaptic_events"]) and ev[0] < ev[1] < ev[2]
    assert r.energy_per_inference > 0


def test_device_synapses_keep_the_network_and_perturb_its_weights():
    import devices
    from snn.trained import with_device_synapses

    net = SpikingSequential(_tiny_cnn(), LIFConfig(), 4).double()
    ideal = from_spiking_sequential(net, (1, 8, 8))
    same = with_device_synapses(ideal, devices.get("ideal"))
    for (w, _), (w2, _) in zip(ideal.layers, same.layers):
        a, b = (w.toarray(), w2.toarray()) if sp.issparse(w) else (w, w2)
        np.testing.assert_allclose(b, a, rtol=1e-6, atol=1e-6 * np.abs(a).max())  # float32 cells
    pcm = with_device_synapses(ideal, devices.get("pcm"), age_s=3600.0, seed=0)
    w, w2 = ideal.layers[2][0], pcm.layers[2][0]
    err = np.abs(w2 - w).max() / np.abs(w).max()
    assert 1e-3 < err < 0.5  # programming noise and an hour of drift, not a new network
    assert pcm.synapses == ideal.synapses and pcm.delays == ideal.delays
