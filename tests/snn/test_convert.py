"""ANN-to-SNN conversion of tiny MLPs and CNNs (numpy target, fixed seeds)."""

from __future__ import annotations

import copy
import functools

import numpy as np
import pytest
import torch
from torch import nn

from devices.validation import ConfigError
from snn import convert as convert_module
from snn.convert import affine_maps, convert, network_graph

pytestmark = pytest.mark.brian2


def _tiny():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(8, 12), nn.ReLU(), nn.Linear(12, 3))
    x = torch.rand(40, 8, generator=torch.Generator().manual_seed(1))
    return model, x


def test_converted_tiny_mlp_matches_the_ann_at_large_T():
    model, x = _tiny()
    net = convert(model, x, percentile=100.0)
    run = net.run(x, 256, seed=3, backend="numpy")
    ann = model(x).argmax(1).numpy()
    agree = (run.predictions[-1] == ann).mean()
    assert agree >= 0.9
    # (this ANN answers class 2 for every input, and so does the bias-driven first step: the
    # shape of the curve is tested on the tiny CNN below)


def test_events_are_spikes_times_fan_out_and_inputs_are_rate_coded():
    model, x = _tiny()
    net = convert(model, x)
    run = net.run(x, 64, seed=4, backend="numpy")
    assert run.synaptic_events == run.spikes[0] * 12 + run.spikes[1] * 3
    expected = float(x.sum()) * 64  # each pixel spikes with probability x per step
    assert abs(run.spikes[0] - expected) < 5 * np.sqrt(expected)
    assert run.neuron_updates == (12 + 3) * 64 * 40


def test_threshold_balancing_scales_by_the_percentile():
    model, x = _tiny()
    net = convert(model, x, percentile=100.0)
    with torch.no_grad():
        h = torch.relu(model[1](x))
    assert net.lams[0] == pytest.approx(float(h.max()))
    w1 = model[1].weight.detach().double().numpy()
    np.testing.assert_allclose(net.layers[0][0], w1 / net.lams[0])


def test_convert_errors():
    model, x = _tiny()
    with pytest.raises(ConfigError, match="percentile must be in"):
        convert(model, x, percentile=0)
    with pytest.raises(ConfigError, match=r"Conv2d cannot take inputs of shape \(8,\): "):
        convert(nn.Sequential(nn.Conv2d(1, 2, 3)), x)
    with pytest.raises(ConfigError, match="has no Linear layer"):
        convert(nn.Sequential(nn.Flatten()), x)
    with pytest.raises(ConfigError, match=r"calibration inputs must lie in \[0, 1\]"):
        convert(model, x * 3)
    net = convert(model, x)
    with pytest.raises(ConfigError, match="inputs must have 8 values"):
        net.run(torch.rand(2, 7), 8, backend="numpy")
    with pytest.raises(ConfigError, match="steps must be an integer >= 1"):
        net.run(x, 0, backend="numpy")
    with pytest.raises(ConfigError, match=r"run v_init must be in \[0, 1\)"):
        net.run(x, 8, backend="numpy", v_init=1.0)


def test_initial_potential_turns_the_floor_of_the_rate_into_rounding():
    # two hidden units driven by their biases (1 and 0.25 of the threshold): after
    # T = 10 steps the second has b·T = 2.5 of charge; starting at 0 it fired floor(2.5) = 2
    # times, starting at half the threshold round(2.5 + 0.5 - 0.5) = 3 (Bu et al., ICLR 2022)
    model = nn.Sequential(nn.Flatten(), nn.Linear(8, 2), nn.ReLU(), nn.Linear(2, 2))
    with torch.no_grad():
        model[1].weight.zero_()
        model[1].weight[1] = 1e-6  # (a layer of zeros is refused): < 1e-4 of charge in all
        model[1].bias.copy_(torch.tensor([1.0, 0.25]))
    x = torch.rand(5, 8, generator=torch.Generator().manual_seed(1))
    net = convert(model, x, percentile=100.0)
    assert net.lams[0] == 1.0
    assert net.run(x, 10, seed=0, backend="numpy").spikes[1] == 5 * (10 + 2)
    assert net.run(x, 10, seed=0, backend="numpy", v_init=0.5).spikes[1] == 5 * (10 + 3)


@functools.cache
def _trained_tiny_cnn() -> nn.Sequential:
    """A tiny CNN trained (150 Adam steps, ~0.5 s) to name the brightest quadrant of 8x8."""
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 3, 3, padding=1), nn.ReLU(), nn.AvgPool2d(2),
        nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(16, 4),
    )  # fmt: skip
    x = torch.rand(512, 1, 8, 8, generator=torch.Generator().manual_seed(1))
    y = x.reshape(512, 2, 4, 2, 4).sum((2, 4)).reshape(512, 4).argmax(1)
    opt = torch.optim.Adam(model.parameters(), lr=0.02)
    for _ in range(150):
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    return model.eval()


def _tiny_cnn():
    model = copy.deepcopy(_trained_tiny_cnn())
    x = torch.rand(40, 1, 8, 8, generator=torch.Generator().manual_seed(2))
    return model, x


def test_composed_maps_equal_the_torch_forward_of_each_segment():
    model, _ = _tiny_cnn()
    bn = nn.BatchNorm2d(3).eval()  # eval statistics: an affine map per channel
    bn.running_mean.uniform_(-0.5, 0.5)
    bn.running_var.uniform_(0.5, 2.0)
    bn.weight.data.uniform_(0.5, 1.5)
    bn.bias.data.uniform_(-0.2, 0.2)
    model = nn.Sequential(*model[:3], bn, nn.Dropout(0.5), *model[3:])
    maps = affine_maps(model, (1, 8, 8))
    segments = [(model[0:1], (1, 8, 8)), (model[2:6], (3, 8, 8)), (model[7:9], (4, 2, 2))]
    g = torch.Generator().manual_seed(3)
    with torch.no_grad():
        for (w, b), (seg, shape) in zip(maps, segments):
            u = torch.randn(7, *shape, generator=g, dtype=torch.float64)
            ref = seg.double().eval()(u).reshape(7, -1).numpy()
            got = (w @ u.reshape(7, -1).numpy().T).T + b
            assert np.abs(got - ref).max() < 1e-9
    # 3x3 taps inside an 8x8 image with padding 1: 22 x 22 per channel (22 = 3 * 8 - 2)
    assert maps[0][0].nnz == 3 * 22 * 22
    # each of the 4 x 2 x 2 outputs sees 3 channels x 6 x 6 pixels through the 2x2 pool
    assert maps[1][0].nnz == 16 * 3 * 6 * 6
    assert isinstance(maps[2][0], np.ndarray) and maps[2][0].shape == (4, 16)


def test_converted_tiny_cnn_matches_the_ann_at_large_T():
    model, x = _tiny_cnn()
    net = convert(model, x, percentile=100.0)
    assert net.sizes == [64, 192, 16, 4]
    assert net.synapses == [3 * 22 * 22, 16 * 3 * 6 * 6, 16 * 4]
    run = net.run(x, 256, seed=3, backend="numpy")
    with torch.no_grad():
        ann = model(x).argmax(1).numpy()
    agree = (run.predictions[-1] == ann).mean()
    assert agree >= 0.85
    # 4 steps (3 layers still filling): 0.28 with this seed; 256 steps: 0.90
    assert (run.predictions[2] == ann).mean() <= 0.5 < agree
    assert run.neuron_updates == (192 + 16 + 4) * 256 * 40


def test_unsupported_modules_are_refused_with_one_line_naming_the_layer():
    _, x = _tiny_cnn()
    with pytest.raises(
        ConfigError,
        match=r"module 1 \(Sigmoid\) cannot be converted; allowed: Conv2d, AvgPool2d, "
        r"AdaptiveAvgPool2d, Flatten, Linear, Dropout, BatchNorm1d/2d, Identity, additions",
    ):
        convert(nn.Sequential(nn.Conv2d(1, 2, 3), nn.Sigmoid(), nn.Flatten(), nn.Linear(72, 2)), x)
    with pytest.raises(ConfigError, match=r"module 1 \(MaxPool2d\) must follow a ReLU"):
        convert(nn.Sequential(nn.Conv2d(1, 2, 3), nn.MaxPool2d(2), nn.ReLU()), x)
    with pytest.raises(ConfigError, match="must end with an affine layer"):
        convert(nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.MaxPool2d(2)), x)

    class Attention(nn.Module):
        def __init__(self):
            super().__init__()
            self.attn = nn.MultiheadAttention(8, 2, batch_first=True)

        def forward(self, a):
            return self.attn(a, a, a)[0]

    with pytest.raises(ConfigError, match=r"module attn \(MultiheadAttention\) cannot be"):
        convert(Attention(), torch.rand(4, 3, 8))

    class Product(nn.Module):
        def forward(self, a):
            return a * a

    with pytest.raises(
        ConfigError, match=r"operation mul \(mul\) in module 1 \(Product\) cannot be converted"
    ):
        convert(nn.Sequential(nn.Linear(8, 8), Product()), torch.rand(4, 8))
    from neuro.workloads import models

    with pytest.raises(ConfigError, match=r"^convert: module 3.norm1 \(LayerNorm\) cannot be"):
        convert(models.vit(), torch.rand(4, 1, 28, 28))


def test_reshapes_and_constant_offsets_are_composed_into_the_maps():
    from neuro.workloads.layers import PatchTokens, PosEmbed

    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 4, 2, 2), PatchTokens(), PosEmbed(4, 4), nn.ReLU(), nn.Flatten(),
        nn.Linear(16, 3),
    )  # fmt: skip
    x = torch.rand(6, 1, 4, 4, generator=torch.Generator().manual_seed(1))
    g = network_graph(model, (1, 4, 4))
    assert g.kinds == ["input", "if", "out"]
    with torch.no_grad():
        ref = model[:3](x).reshape(6, -1).double().numpy()
    got = (g.projections[0].w @ x.reshape(6, -1).double().numpy().T).T + g.biases[1]
    np.testing.assert_allclose(got, ref, atol=1e-6)  # the model runs in float32


class _Block(nn.Module):
    """He et al.'s basic block (identity skip), written with a plain ``+``."""

    def __init__(self, c: int) -> None:
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(c, c, 3, 1, 1, bias=False), nn.BatchNorm2d(c)
        self.conv2, self.bn2 = nn.Conv2d(c, c, 3, 1, 1, bias=False), nn.BatchNorm2d(c)

    def forward(self, a):
        return torch.relu(self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(a))))) + a)


def _tiny_resnet() -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4), nn.ReLU(),
        nn.MaxPool2d(2), _Block(4), nn.AvgPool2d(2), nn.Flatten(), nn.Linear(16, 4),
    )  # fmt: skip


@functools.cache
def _trained_tiny_resnet() -> nn.Sequential:
    """The quadrant task of the tiny CNN on a residual net with BatchNorm and max pooling."""
    torch.manual_seed(0)
    model = _tiny_resnet()
    x = torch.rand(512, 1, 8, 8, generator=torch.Generator().manual_seed(1))
    y = x.reshape(512, 2, 4, 2, 4).sum((2, 4)).reshape(512, 4).argmax(1)
    opt = torch.optim.Adam(model.parameters(), lr=0.02)
    for _ in range(150):
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    return model.eval()


def test_residual_graph_folds_batchnorm_and_adds_the_skip_on_the_membrane():
    model = copy.deepcopy(_trained_tiny_resnet())
    g = network_graph(model, (1, 8, 8))
    assert g.kinds == ["input", "if", "gate", "if", "if", "out"]
    assert g.sizes == [64, 4 * 64, 4 * 16, 4 * 16, 4 * 16, 4]
    assert [(p.src, p.dst, p.gate) for p in g.projections] == [
        (0, 1, False), (1, 2, True), (2, 3, False), (2, 4, False), (3, 4, False), (4, 5, False),
    ]  # fmt: skip
    skip = g.projections[3].w
    np.testing.assert_array_equal(skip.toarray(), np.eye(64))  # identity shortcut
    # the folded maps give the block's pre-activation (conv2, bn2, + skip) exactly
    u = torch.rand(5, 4, 4, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(4))
    block = copy.deepcopy(model[4]).double()
    with torch.no_grad():
        h = torch.relu(block.bn1(block.conv1(u)))
        ref = (block.bn2(block.conv2(h)) + u).reshape(5, -1).numpy()
    w1, ws, w2 = (g.projections[i].w for i in (2, 3, 4))
    hz = np.maximum((w1 @ u.reshape(5, -1).numpy().T).T + g.biases[3], 0)
    np.testing.assert_allclose(hz, h.reshape(5, -1).numpy(), atol=1e-12)
    got = (w2 @ hz.T).T + (ws @ u.reshape(5, -1).numpy().T).T + g.biases[4]
    np.testing.assert_allclose(got, ref, atol=1e-12)
    # each pooled unit gates its 2 x 2 window: 4 synapses per gate, one per source neuron
    assert g.projections[1].w.nnz == 256 and set(g.projections[1].w.data) == {1.0}


def test_threshold_balancing_runs_over_the_skip():
    model, x = (
        copy.deepcopy(_trained_tiny_resnet()),
        torch.rand(40, 1, 8, 8, generator=torch.Generator().manual_seed(2)),
    )
    net = convert(model, x, percentile=100.0)
    g = network_graph(model, (1, 8, 8))
    lam = [1.0, *net.lams]
    assert lam[2] == lam[1]  # a gate has its source's scale
    for raw, got in zip(g.projections, net.projections):
        scale = 1.0 if raw.gate else lam[raw.src] / lam[raw.dst]
        np.testing.assert_allclose(_dense(got.w), _dense(raw.w) * scale, rtol=1e-12)
    with torch.no_grad():  # the block output's max over the calibration set is its scale
        a = model[:4](x)
        out = model[4](a)
    assert lam[4] == pytest.approx(float(out.max()))


def _dense(w):
    return w.toarray() if hasattr(w, "toarray") else np.asarray(w)


def test_converted_tiny_resnet_matches_the_ann_at_large_t():
    model = copy.deepcopy(_trained_tiny_resnet())
    x = torch.rand(40, 1, 8, 8, generator=torch.Generator().manual_seed(2))
    net = convert(model, x, percentile=100.0)
    assert net.kinds == ["input", "if", "gate", "if", "if", "out"]
    run = net.run(x, 256, seed=3, backend="numpy")
    with torch.no_grad():
        ann = model(x).argmax(1).numpy()
    # 256 steps: 0.93 of the ANN's answers with this seed
    assert (run.predictions[-1] == ann).mean() >= 0.85
    # events: every spike of a population times its synapses over all its projections
    conv1, skip = net.projections[2].w, net.projections[3].w  # from the gates
    np.testing.assert_array_equal(net.fan_out[2], np.diff(conv1.indptr) + np.diff(skip.indptr))
    assert net.fan_out[2].max() == 4 * 9 + 1  # an inner pixel: 3 x 3 taps x 4 channels + skip
    assert run.neuron_updates == (256 + 64 + 64 + 64 + 4) * 256 * 40


def test_spiking_max_pool_passes_the_most_active_neuron_of_each_window():
    # 1 x 1 x 2 input, max-pooled to one gate: the gate's rate is the larger input rate
    model = nn.Sequential(nn.ReLU(), nn.MaxPool2d((1, 2)), nn.Flatten(), nn.Linear(1, 1))
    x = torch.tensor([[[[1.0, 0.3]]], [[[0.2, 1.0]]]])
    net = convert(model, x, percentile=100.0)
    assert net.kinds == ["input", "gate", "out"]
    t = 16
    run = net.run(x, t, checkpoints=list(range(1, t + 1)), seed=1, backend="numpy")
    # the always-spiking pixel wins every window: one gate spike per step from step 2 on
    # (a gate fires the step after the spike it passes), for each of the two images
    np.testing.assert_array_equal(run.spikes_at[:, 1], 2 * (np.arange(1, t + 1) - 1))
    # rates 0.6 and 0.4, and 0.5 and 0.5: the gate's count is the larger of the two counts,
    # so its rate is the larger rate, not that of their union (0.76, 0.75)
    x = torch.tensor([[[[0.6, 0.4]]], [[[0.5, 0.5]]]])
    net = convert(model, x, percentile=100.0)
    t = 4000
    run = net.run(x, t, checkpoints=[t // 2, t], seed=2, backend="numpy")
    pix = run.spikes_at[:, 0]  # both images' input spikes
    gate = run.spikes_at[:, 1]
    # 0.6 + E[max of two Binomial(4000, 0.5)] / 4000 = 0.6 + 0.5 + 0.0045; 5 standard
    # errors of the two rates together: 0.06
    assert abs(gate[-1] / (t - 1) - 1.1045) < 0.06
    assert gate[-1] < pix[-1] - 0.7 * t  # far below the union of the spikes (1.51 per step)


def _one_row_conv():
    """Input 1 x 1 x 3, a 1 x 2 kernel of ones, then Linear(2, 2): fan-outs 1, 2, 1 and 2, 2."""
    conv = nn.Conv2d(1, 1, (1, 2))
    lin = nn.Linear(2, 2)
    with torch.no_grad():
        conv.weight.fill_(1.0)
        conv.bias.zero_()
        lin.weight.copy_(torch.tensor([[1.0, -1.0], [0.5, 0.5]]))
        lin.bias.zero_()
    return nn.Sequential(conv, nn.ReLU(), nn.Flatten(), lin)


def test_events_are_spikes_times_each_neurons_fan_out():
    x = torch.tensor([[[[1.0, 0.0, 0.0]]], [[[0.0, 1.0, 0.0]]]])  # always / never spike
    net = convert(_one_row_conv(), x, percentile=100.0)
    assert [f.tolist() for f in net.fan_out] == [[1, 2, 1], [2, 2]]
    assert net.describe()["sparse"] == [True, False]
    t = 8
    run = net.run(x, t, checkpoints=list(range(1, t + 1)), seed=0, backend="numpy")
    # input: pixel 0 of image 0 and pixel 1 of image 1 spike every step (fan-out 1 and 2);
    # hidden: image 0 drives unit 0, image 1 both units, from the second step on (each
    # spike adds exactly the threshold; a spike needs one step to arrive), fan-out 2
    steps = np.arange(1, t + 1)
    np.testing.assert_array_equal(run.spikes_at, np.stack([2 * steps, 3 * (steps - 1)], 1))
    np.testing.assert_array_equal(run.events_at, 1 * steps + 2 * steps + 2 * 3 * (steps - 1))
    assert run.spikes == [2 * t, 3 * (t - 1)]
    assert run.synaptic_events == 3 * t + 6 * (t - 1)


def test_checkpoint_t_holds_exactly_t_steps():
    # no input spikes; the output integrates its bias once per step from the first step
    lin = nn.Linear(1, 2)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[1.0], [0.0]]))
        lin.bias.copy_(torch.tensor([0.0, 1.0]))
    x = torch.zeros(3, 1)
    net = convert(nn.Sequential(lin), x, percentile=100.0)
    run = net.run(x, 4, checkpoints=[1, 2, 3, 4], backend="numpy")
    assert (run.predictions == 1).all()  # class 1 from the first step (not an empty readout)


def test_conversion_errors_of_the_general_path(monkeypatch):
    _, x = _tiny_cnn()
    with pytest.raises(ConfigError, match="at most MAX_MAP_ENTRIES = 1e\\+08 inputs × outputs"):
        convert(nn.Sequential(nn.Conv2d(1, 64, 3, padding=1)), torch.zeros(1, 1, 200, 200))
    monkeypatch.setattr(convert_module, "MAX_SYNAPSES", 1000)
    with pytest.raises(ConfigError, match="1452 synapses by layer 0; the limit is MAX_SYNAPSES"):
        convert(_tiny_cnn()[0], x)
    monkeypatch.undo()

    class Square(nn.Linear):
        def forward(self, a):
            return super().forward(a) ** 2

    with pytest.raises(ConfigError, match="Flatten → Square is not affine"):
        convert(nn.Sequential(nn.Flatten(), Square(64, 3)), x)
    with pytest.raises(ConfigError, match=r"module 1 \(BatchNorm2d\) has no running statistics"):
        convert(nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2, track_running_stats=False)), x)
    zero = nn.Linear(64, 3)
    with torch.no_grad():
        zero.weight.zero_()
    with pytest.raises(ConfigError, match=r"layer 0 \(Flatten → Linear\) has only zero weights"):
        convert(nn.Sequential(nn.Flatten(), zero), x)
    with pytest.raises(ConfigError, match="must keep the batch dimension first"):
        convert(nn.Sequential(nn.Flatten(0), nn.Linear(16, 2)), torch.rand(3, 8))
    with pytest.raises(ConfigError, match=r"x_calib must be \(N, \*input_shape\); got \(8,\)"):
        convert(_tiny()[0], torch.rand(8))
    net = convert(_tiny()[0], _tiny()[1])
    with pytest.raises(ConfigError, match=r"checkpoints must be integers in \[1, 8\]"):
        net.run(_tiny()[1], 8, checkpoints=[4, 16], backend="numpy")


def test_linear_layers_without_relu_between_are_composed():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 4), nn.Linear(4, 2))
    ((w, b),) = affine_maps(model, (8,))
    with torch.no_grad():
        np.testing.assert_allclose(w, (model[1].weight @ model[0].weight).double(), rtol=1e-6)
        np.testing.assert_allclose(b, model(torch.zeros(1, 8))[0].double(), rtol=1e-6)


def _without_skip(net):
    """The same converted network with the residual skip (population 2 -> 4) removed."""
    from snn.convert import ConvertedNetwork

    kept = [p for p in net.projections if (p.src, p.dst) != (2, 4)]
    assert len(kept) == len(net.projections) - 1
    return ConvertedNetwork(net.kinds, [(n,) for n in net.sizes], kept, net.biases, net.lams,
                            net.percentile)  # fmt: skip


def test_residual_skip_pays_its_synaptic_events_routing_and_crossbar():
    """The skip's spikes are events, messages and (device synapses) row drives of their own.

    Same spikes in both networks; the residual one differs only by the skip projection, so
    it must cost exactly the skip's events (spikes of the block input × 1 synapse each, an
    identity shortcut), one message per spike (fan-out 1 reaches one core) and, on device
    synapses, one row drive per spike (a 64 × 64 crossbar in one column tile).
    """
    import devices
    from neuro.targets.spiking import _converted_activity
    from snn.energy import device_chip, preset

    model = copy.deepcopy(_trained_tiny_resnet())
    x = torch.rand(40, 1, 8, 8, generator=torch.Generator().manual_seed(2))
    res = convert(model, x)
    plain = _without_skip(res)
    assert (2, 4, 1.0) in res.edges and (2, 4, 1.0) not in plain.edges
    spikes = [30.0, 200.0, 90.0, 60.0, 70.0]  # per population, input first; output silent
    ev_res = sum(spikes[s] * fan for s, _, fan in res.edges)
    skip_events = spikes[2] * 1.0
    steps = 32
    for chip, device in ((preset("loihi"), False), (device_chip(devices.get("pcm")), True)):
        a_res = _converted_activity(chip, res, spikes, ev_res, steps, None, device)
        a_plain = _converted_activity(chip, plain, spikes, ev_res - skip_events, steps, None,
                                      device)  # fmt: skip
        assert a_res.synaptic_events - a_plain.synaptic_events == pytest.approx(skip_events)
        assert a_res.messages - a_plain.messages == pytest.approx(spikes[2])
        c_res, _ = chip.energy(a_res)
        c_plain, _ = chip.energy(a_plain)
        routing = (chip.message_J * (a_res.messages - a_plain.messages)
                   + chip.hop_in_tile_J * (a_res.messages_in_tile - a_plain.messages_in_tile)
                   + chip.hop_ew_J * (a_res.hops_ew - a_plain.hops_ew)
                   + chip.hop_ns_J * (a_res.hops_ns - a_plain.hops_ns))  # fmt: skip
        assert routing >= chip.message_J * spikes[2]
        got = c_res["spike_routing"][1] - c_plain["spike_routing"][1]
        assert got == pytest.approx(routing, rel=1e-12)
        if device:
            assert a_res.row_drives - a_plain.row_drives == pytest.approx(spikes[2])
            assert c_res["row_drive"][1] - c_plain["row_drive"][1] == pytest.approx(
                chip.row_drive_J * spikes[2]
            )
        else:
            assert c_res["synaptic_events"][1] - c_plain["synaptic_events"][1] == pytest.approx(
                chip.synaptic_op_J * skip_events
            )
        e_res = sum(j for g, j in c_res.values() if g != "off_chip")
        e_plain = sum(j for g, j in c_plain.values() if g != "off_chip")
        assert e_res > e_plain
