"""NeuroBench's metrics (Yik et al. 2025) computed by hand on small networks."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from neuro.neurobench import NB_UNITS, connection_sparsity, footprint_B, model_metrics


def _net() -> nn.Sequential:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[1.0, 0, 2, 0], [0, 0, 0, 0], [1, 1, 1, 1]]))
        net[0].bias.copy_(torch.tensor([0.0, -1.0, 0.0]))
        net[2].weight.copy_(torch.tensor([[1.0, 0, 1], [0, 2, 0]]))
    return net


def test_footprint_and_connection_sparsity_by_hand():
    net = _net()
    assert footprint_B(net) == 4 * (12 + 3 + 6 + 2)
    # zeros: layer 0 has 2 + 4 + 0 = 6 of 12, layer 2 has 3 of 6
    assert connection_sparsity(net) == pytest.approx(9 / 18)


def test_synaptic_operations_and_activation_sparsity_by_hand():
    net = _net()
    x = torch.tensor([[1.0, 0.5, 0.0, 2.0]])  # non-binary: MACs
    m = model_metrics(net, x)
    assert set(m) == set(NB_UNITS)
    assert m["synaptic_ops_dense"] == 4 * 3 + 3 * 2
    # layer 0: non-zero inputs {0,1,3}; non-zero weights per row: row0 {0,2}->1, row1 none->0,
    # row2 all->3: 4 effective MACs. ReLU out: [1, 0 (relu(-1)), 3.5] -> non-zero {0,2};
    # layer 2: row0 weights {0,2} -> 2, row1 weight {1} -> 0: 2 MACs.
    assert m["synaptic_ops_effective_macs"] == 4 + 2
    assert m["synaptic_ops_effective_acs"] == 0
    assert m["activation_sparsity"] == pytest.approx(1 / 3)
    assert m["membrane_updates"] is None


def test_binary_inputs_count_as_accumulates():
    net = _net()
    x = torch.tensor([[1.0, 0.0, 1.0, 1.0]])
    m = model_metrics(net, x)
    # layer 0 input is binary: row0 {0,2} -> 2, row2 {0,2,3} -> 3 ACs; its ReLU output
    # [3, 0, 3] is not binary, so layer 2 gives MACs: row0 {0,2} -> 2.
    assert m["synaptic_ops_effective_acs"] == 5
    assert m["synaptic_ops_effective_macs"] == 2


def test_convolution_dense_ops_count_in_bounds_taps():
    conv = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.ReLU())
    x = torch.randn(5, 2, 6, 6)
    m = model_metrics(conv, x)
    # per axis the 6 output positions see 2, 3, 3, 3, 3, 2 in-bounds taps (padding is no
    # synapse): 16 x 16 = 256 taps per input/output channel pair, 2 x 3 pairs.
    assert m["synaptic_ops_dense"] == 256 * 2 * 3
    assert m["synaptic_ops_effective_macs"] <= m["synaptic_ops_dense"]
