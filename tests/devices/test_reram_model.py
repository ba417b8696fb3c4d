"""ReRAM against the HfOx relaxation fits, faults and endurance."""

from __future__ import annotations

import math

import pytest
import torch

import devices
from devices.faults import STUCK_OFF, STUCK_ON


@pytest.mark.parametrize("t", [1e2, 1e4, 1e6])
def test_relaxation_mean_and_std_match_hfox_fits(t, generator):
    # mean shift -0.089 ln t uS, std 0.042 ln t + 0.41 uS (REFERENCES.md). n = 20k cells at
    # mid-window; tolerances are 5 standard errors of the mean and of the std.
    reram = devices.get("reram")
    n = 20_000
    target = torch.full((n,), 48.5e-6, dtype=torch.float64)
    state = reram.program(target, generator)
    g = reram.read(state, t, generator)
    x = reram.normalise(torch.tensor(48.5e-6)).item() * 127
    g0 = 9e-6 + round(x) * (79e-6 / 127)  # the nearest of the 128 levels
    mean_uS = (g.mean().item() - g0) * 1e6
    std_uS = g.std().item() * 1e6
    sigma = 0.042 * math.log(t) + 0.41
    assert mean_uS == pytest.approx(-0.089 * math.log(t), abs=5 * sigma / n**0.5)
    assert std_uS == pytest.approx(sigma, rel=5 / (2 * n) ** 0.5)


def test_relaxation_is_one_trajectory_per_cell(generator):
    reram = devices.get("reram")
    state = reram.program(torch.full((1000,), 40e-6), generator)
    a = reram.read(state, 1e3, None)
    b = reram.read(state, 1e3, generator)
    torch.testing.assert_close(a, b)  # no read noise: the relaxation is fixed per cell


def test_stuck_at_rates_and_values(generator):
    reram = devices.get("reram", p_stuck_off=0.1, p_stuck_on=0.05)
    n = 40_000
    state = reram.program(torch.full((n,), 40e-6), generator)
    stuck = state.hidden["stuck"]
    for code, p, g in ((STUCK_OFF, 0.1, 9e-6), (STUCK_ON, 0.05, 88e-6)):
        frac = (stuck == code).double().mean().item()
        assert frac == pytest.approx(p, abs=5 * math.sqrt(p * (1 - p) / n))
        assert (state.value[stuck == code] == torch.tensor(g, dtype=torch.float32)).all()
        assert (
            reram.read(state, 1e5, generator)[stuck == code] == state.value[stuck == code]
        ).all()
    moved = reram.pulse(state, 5.0, None)
    assert (moved.value[stuck != 0] == state.value[stuck != 0]).all()
    assert (moved.value[stuck == 0] > state.value[stuck == 0]).all()


def test_cells_past_endurance_become_stuck(generator):
    reram = devices.get("reram", endurance_cycles=50)
    state = reram.program(torch.full((100,), 40e-6), None)
    state = reram.pulse(state, 30.0, generator)
    assert (state.hidden["stuck"] == 0).all()
    state = reram.pulse(state, -30.0, generator)
    assert (state.hidden["stuck"] != 0).all()
    frozen = reram.pulse(state, 20.0, generator)
    torch.testing.assert_close(frozen.value, state.value)


def test_agasi_preset_carries_the_neurosim_row():
    um = devices.get("reram-agasi").update_model()
    assert (um.n_levels, um.nonlinearity_ltp, um.nonlinearity_ltd, um.c2c_sigma) == (
        100,
        2.40,
        -4.88,
        0.035,
    )
    d = devices.get("reram-agasi").describe()
    assert d["g_max"] == pytest.approx(1 / 26e6, rel=1e-3)
    assert d["g_max"] / d["g_min"] == pytest.approx(12.5, rel=1e-3)


def test_soft_bounds_make_steps_shrink_near_the_top():
    reram = devices.get("reram-agasi")
    state = reram.program(torch.tensor([reram.g_min, 0.9 * reram.g_max]), None)
    step = reram.pulse(state, 1.0, None).value - state.value
    assert step[0] > 3 * step[1]
