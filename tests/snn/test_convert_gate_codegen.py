"""The max-pool gate's synapse is vectorised by Brian 2: no order-dependence warning, no
Python-loop fallback, on every run (issue 16: the per-run "abstract code block" warning)."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch
from torch import nn

pytestmark = pytest.mark.brian2


def test_gate_synapse_is_order_independent_and_vectorised():
    from brian2.utils.logger import catch_logs

    from snn.convert import _GATE_ON_PRE, convert

    assert "m_post" not in _GATE_ON_PRE.split("+=")[0]  # it only adds to fire, reads m
    model = nn.Sequential(nn.ReLU(), nn.MaxPool2d((1, 2)), nn.Flatten(), nn.Linear(1, 1))
    x = torch.tensor([[[[1.0, 0.3]]], [[[0.2, 1.0]]]])
    net = convert(model, x, percentile=100.0)
    with catch_logs(log_level=logging.INFO) as logs:
        run = net.run(x, 16, checkpoints=list(range(1, 17)), seed=1, backend="numpy")
    messages = [m for _, name, m in logs if "codegen" in name]
    assert not [m for m in messages if "abstract code block" in m or "vectorise" in m], messages
    # the always-spiking pixel wins every window: one gate spike per step from step 2 on
    np.testing.assert_array_equal(run.spikes_at[:, 1], 2 * (np.arange(1, 17) - 1))
