"""The C++ standalone path: built once per shape, re-run with run_args, numpy in between.

Compiles two tiny networks (about 15 s each on 2 cores, cached under ``.cache/brian2``).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from snn.convert import convert

pytestmark = [pytest.mark.brian2, pytest.mark.slow]


def test_standalone_reruns_without_rebuilding_and_survives_runtime_in_between():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(8, 12), nn.ReLU(), nn.Linear(12, 3))
    x = torch.rand(6, 8, generator=torch.Generator().manual_seed(1))
    net = convert(model, x, percentile=100.0)
    a = net.run(x, 32, seed=3)
    (project,) = net._projects.values()
    built = project.build_time_s
    b = net.run(x, 32, seed=3)  # same shape: the binary is re-run, not rebuilt
    assert project.build_time_s == built
    np.testing.assert_array_equal(a.predictions, b.predictions)
    assert a.spikes == b.spikes and a.spikes[0] > 0
    c = net.run(x, 32, seed=4)
    assert c.spikes != a.spikes  # the seed reaches the binary through run_args
    # the numpy runtime in between, then a new shape (fewer inputs): a second build that
    # must start from a fresh standalone device
    net.run(x, 32, seed=3, backend="numpy")
    d = net.run(x[:3], 32, seed=3)
    assert len(net._projects) == 2 and d.predictions.shape == (len(d.steps), 3)
    ann = model(x[:3]).argmax(1).numpy()
    assert d.predictions[-1].shape == ann.shape
