"""Property tests (hypothesis) of the physical models."""

from __future__ import annotations

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import devices

PHYSICAL = ["pcm", "reram", "reram-agasi", "fefet", "memcap", "tabulated-example"]
fractions = st.lists(st.floats(0.0, 1.0), min_size=1, max_size=16)


def _targets(dev, xs):
    return dev.g_min + torch.tensor(xs, dtype=torch.float64) * (dev.g_max - dev.g_min)


@settings(max_examples=25, deadline=None)
@given(
    name=st.sampled_from(PHYSICAL),
    xs=fractions,
    seed=st.integers(0, 2**31 - 1),
    n=st.integers(-60, 60),
)
def test_states_stay_in_range(name, xs, seed, n):
    dev = devices.get(name)
    g = torch.Generator().manual_seed(seed)
    state = dev.program(_targets(dev, xs), g)
    lo, hi = dev.program_bounds()  # PCM: programming noise unclipped at g_max (aihwkit)
    assert ((state.value >= lo) & (state.value <= hi)).all()
    after = dev.pulse(state, float(n), g)
    if n != 0:  # a pulse lands in the range
        assert ((after.value >= dev.g_min) & (after.value <= dev.g_max)).all()


@settings(max_examples=25, deadline=None)
@given(name=st.sampled_from(PHYSICAL), xs=fractions, a=st.integers(0, 40), b=st.integers(0, 40))
def test_expected_pulse_response_is_monotone(name, xs, a, b):
    dev = devices.get(name)
    state = dev.program(_targets(dev, xs), None)
    lo, hi = sorted((a, b))
    up_lo, up_hi = dev.pulse(state, float(lo), None), dev.pulse(state, float(hi), None)
    assert (up_hi.value >= up_lo.value).all() and (up_lo.value >= state.value).all()
    dn_lo, dn_hi = dev.pulse(state, -float(lo), None), dev.pulse(state, -float(hi), None)
    assert (dn_hi.value <= dn_lo.value).all() and (dn_lo.value <= state.value).all()
    um = dev.update_model()
    w = torch.linspace(0, 1, 11, dtype=torch.float64)
    assert (um.step_up(w, float(hi)) >= um.step_up(w, float(lo))).all()
    assert (um.step_down(w, float(hi)) <= um.step_down(w, float(lo))).all()


@settings(max_examples=30, deadline=None)
@given(xs=fractions, seed=st.integers(0, 2**31 - 1), t1=st.floats(0.0, 1e9), t2=st.floats(0.0, 1e9))
def test_pcm_drift_never_increases_conductance(xs, seed, t1, t2):
    pcm = devices.get("pcm")
    state = pcm.program(_targets(pcm, xs), torch.Generator().manual_seed(seed))
    lo, hi = sorted((t1, t2))
    g_lo, g_hi = pcm.read(state, lo, None), pcm.read(state, hi, None)
    assert (g_hi <= g_lo).all() and (g_lo <= state.value).all()


@settings(max_examples=20, deadline=None)
@given(name=st.sampled_from(PHYSICAL), xs=fractions, seed=st.integers(0, 2**31 - 1))
def test_same_seed_same_tensors(name, xs, seed):
    dev = devices.get(name, **({} if name == "tabulated-example" else {"p_stuck_on": 0.1}))
    runs = []
    for _ in range(2):
        g = torch.Generator().manual_seed(seed)
        s = dev.program(_targets(dev, xs), g)
        s = dev.pulse(s, 3.0, g)
        runs.append((s.value, dev.read(s, 1e4, g), s.hidden))
    torch.testing.assert_close(runs[0][0], runs[1][0], rtol=0, atol=0)
    torch.testing.assert_close(runs[0][1], runs[1][1], rtol=0, atol=0)
    for k in runs[0][2]:
        torch.testing.assert_close(runs[0][2][k], runs[1][2][k], rtol=0, atol=0)
