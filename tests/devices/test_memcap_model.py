"""Memcapacitor: capacitance range, programming noise and mismatch, C V^2 energy."""

from __future__ import annotations

import pytest
import torch

import devices


def test_quantity_and_range():
    m = devices.get("memcap")
    assert m.quantity == "capacitance" and m.unit == "F"
    assert (m.g_min, m.g_max) == (0.1e-15, 1e-15)


def test_programming_noise_is_0p062_percent_of_range(generator):
    # Demasius, Lowa, Murmann 2025: 0.062 % of (C_max - C_min); d2d off to isolate it.
    m = devices.get("memcap", d2d_sigma=0.0)
    n = 20_000
    state = m.program(torch.full((n,), 0.55e-15, dtype=torch.float64), generator)
    expected = 0.00062 * 0.9e-15
    assert state.value.std().item() == pytest.approx(expected, rel=5 / (2 * n) ** 0.5)


def test_mismatch_is_a_per_cell_gain(generator):
    m = devices.get("memcap", prog_noise_frac=0.0)
    n = 20_000
    state = m.program(torch.full((n,), 0.5e-15, dtype=torch.float64), generator)
    rel = state.value / state.value.mean()
    assert rel.std().item() == pytest.approx(0.0041, rel=5 / (2 * n) ** 0.5)


def test_read_energy_is_c_v_squared_with_recovery():
    plain = devices.get("memcap")
    assert plain.read_energy_J == pytest.approx(0.55e-15 * 0.4**2)
    rec = devices.get("memcap", charge_recovery=0.95)
    assert rec.read_energy_J == pytest.approx(0.05 * 0.55e-15 * 0.4**2)


def test_no_drift(generator):
    m = devices.get("memcap")
    state = m.program(torch.linspace(0.1e-15, 1e-15, 64), generator)
    torch.testing.assert_close(m.read(state, 1e8, None), state.value)
