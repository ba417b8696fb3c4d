"""The Diehl & Cook binary with its input synapses stored by delay (C++ standalone).

Compiles two small networks (about 15-20 s each on 2 cores, cached under
``.cache/brian2``).
"""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = [pytest.mark.brian2, pytest.mark.slow]


def test_delay_runs_in_the_spike_queue_give_the_same_training_bit_for_bit():
    # 96 targets per input over 21 delay steps: runs of about 5 synapses, so the patched
    # queue pushes each run as two numbers (first, end) that the patched on_pre loop
    # expands (it falls back to Brian2's loop below 4 per run). The same delays stored
    # source-major use Brian2's per-synapse pushes; each queue slot delivers the same
    # synapses in the same order, so training is identical to the last bit.
    from brian2 import ms

    from snn import DiehlCook, DiehlCookConfig
    from snn.dc_network import DCNetwork

    n_in, n_exc = 16, 96
    cfg = DiehlCookConfig(norm_sum=10.0, t_present=100 * ms, t_rest=150 * ms, max_repeats=1)
    rng = np.random.default_rng(0)
    x = np.zeros((2, n_in))
    for k in range(2):
        x[k, rng.choice(n_in, 8, replace=False)] = 255.0
    dc = DiehlCook(n_exc, n_input=n_in, chunk=2, config=cfg, seed=5, backend="numpy")
    state = dict(dc.state, plastic=1.0, colsum=dc.weights.sum(axis=0))
    outs, queues, codes = [], [], []
    for by in (True, False):
        net = DCNetwork(cfg, n_in, n_exc, dc.synapse, 2, "standalone", by_delay=by)
        outs.append(net.run(x * 0.125 * 2, state, seed=3))
        d = net._project.directory
        queues.append((d / "brianlib" / "spikequeue.h").read_text())
        # (Brian2 names the code objects syn_pre_codeobject_1 etc. after another build)
        (code,) = (d / "code_objects").glob("syn_pre_codeobject*.cpp")
        codes.append(code.read_text())
    a, b = outs
    assert "use_runs" in queues[0] and a["exc_spikes"] > 0 and a["input_spikes"] > 0
    # every queue reader was patched, so runs go in as pairs (where they are long enough)
    assert "pair_runs = use_runs && true" in queues[0] and "_queued" in codes[0]
    (thresholds,) = (d / "code_objects").glob("exc_spike_thresholder_codeobject*.cpp")
    assert "_any |= _cond" in thresholds.read_text()
    assert "return queue[0]->peek();" in (d / "synapses_classes.h").read_text()
    assert a["input_spikes"] == b["input_spikes"] and a["exc_spikes"] == b["exc_spikes"]
    np.testing.assert_array_equal(a["counts"], b["counts"])
    assert not np.array_equal(a["state"]["w"], state["w"])
    np.testing.assert_array_equal(a["state"]["w"], b["state"]["w"])
    np.testing.assert_array_equal(a["state"]["theta"], b["state"]["theta"])
