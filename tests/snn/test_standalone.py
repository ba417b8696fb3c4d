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


def test_diehl_cook_standalone_build_is_patched_and_reproducible():
    # The Diehl & Cook binary: its network loop reads no clock per step, its spike queue
    # picks slots without a division, it is linked with -ffast-math (flush to zero), and
    # a given seed gives the same training twice (two runs of the same binary).
    from brian2 import ms

    from snn import DiehlCook, DiehlCookConfig, STDPRule

    cfg = DiehlCookConfig(norm_sum=10.0, t_present=100 * ms, t_rest=150 * ms, max_repeats=1,
                          stdp=STDPRule())  # fmt: skip
    rng = np.random.default_rng(0)
    x = np.zeros((2, 16))
    for k in range(2):
        x[k, rng.choice(16, 6, replace=False)] = 255.0
    net = DiehlCook(3, n_input=16, chunk=2, config=cfg, seed=5)
    state = dict(net.state, plastic=1.0, colsum=net.weights.sum(axis=0))
    a, b = (net.net.run(x * 0.125, state, seed=3) for _ in range(2))
    assert a["exc_spikes"] == b["exc_spikes"] > 0
    np.testing.assert_array_equal(a["counts"], b["counts"])
    np.testing.assert_array_equal(a["state"]["w"], b["state"]["w"])
    assert not np.array_equal(a["state"]["w"], state["w"])
    d = net.net._project.directory
    from snn.backend import _PER_STEP_CLOCK

    network = (d / "network.cpp").read_text()
    after_step = network[network.index("clock = next_clocks();", network.index("while(clock")) :]
    assert "std::clock()" not in after_step.split("}")[0]  # the end of the loop's body
    assert _PER_STEP_CLOCK.search(after_step.split("}", 1)[1])  # once, after the loop
    assert "_slot < _qsize" in (d / "brianlib" / "spikequeue.h").read_text()
    assert "-ffast-math" in (d / "makefile").read_text().split("LFLAGS")[1].splitlines()[0]
    assert "-fno-finite-math-only" not in (d / "makefile").read_text()


def test_two_projects_of_one_shape_build_in_different_slots(tmp_path, monkeypatch):
    """The build slot is held with a portable lock (filelock: flock or LockFileEx): a second
    project of the same shape, in this or another process, takes the next slot."""
    from snn.backend import StandaloneProject

    monkeypatch.setenv("NEURO_SNN_CACHE", str(tmp_path))
    a = StandaloneProject("net", {"n": 1}, dict)
    b = StandaloneProject("net", {"n": 1}, dict)
    assert a.key == b.key
    assert a._claim_slot().name == "slot-0"
    assert b._claim_slot().name == "slot-1"
    a._lock.release()
    c = StandaloneProject("net", {"n": 1}, dict)
    assert c._claim_slot().name == "slot-0"  # released: free again
