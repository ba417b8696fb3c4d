"""ANN-to-SNN conversion of tiny MLPs (numpy target, fixed seeds)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import devices
from devices.validation import ConfigError
from snn.convert import convert
from snn.energy import PRESETS, device_preset, preset

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
    # short runs agree less: the curve is informative
    assert (run.predictions[0] == ann).mean() < agree


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
    with pytest.raises(ConfigError, match="supports Flatten, Linear and ReLU only; got Conv2d"):
        convert(nn.Sequential(nn.Conv2d(1, 2, 3)), x)
    with pytest.raises(ConfigError, match="must be followed by ReLU"):
        convert(nn.Sequential(nn.Linear(8, 4), nn.Linear(4, 2)), x)
    with pytest.raises(ConfigError, match="has no Linear layer"):
        convert(nn.Sequential(nn.Flatten()), x)
    with pytest.raises(ConfigError, match=r"calibration inputs must lie in \[0, 1\]"):
        convert(model, x * 3)
    net = convert(model, x)
    with pytest.raises(ConfigError, match="inputs must have 8 values"):
        net.run(torch.rand(2, 7), 8, backend="numpy")
    with pytest.raises(ConfigError, match="steps must be an integer >= 1"):
        net.run(x, 0, backend="numpy")


def test_energy_presets():
    assert PRESETS["truenorth"].synaptic_event_J == 26e-12
    e = preset("loihi").energy(1000, 10)
    assert e == {
        "synaptic_events": pytest.approx(23.6e-9),
        "neuron_updates": pytest.approx(520e-12),
    }
    pcm = devices.get("pcm")
    assert device_preset(pcm).synaptic_event_J == pcm.read_energy_J
    with pytest.raises(ConfigError, match="energy preset must be one of"):
        preset("spinnaker")
