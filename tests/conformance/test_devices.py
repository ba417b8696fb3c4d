"""One conformance suite run over every registered device (``devices.names()``)."""

from __future__ import annotations

import math

import pytest
import torch

import devices

NAMES = devices.names()


def _targets(dev, n: int = 257, device: str = "cpu") -> torch.Tensor:
    return torch.linspace(dev.g_min, dev.g_max, n, device=device)


def _ref_time(dev) -> float:
    ref = getattr(dev, "reference_time_s", None)
    return ref() if callable(ref) else 0.0


@pytest.mark.parametrize("name", NAMES)
def test_program_stays_in_range(name, generator):
    dev = devices.get(name)
    x = torch.cat([_targets(dev), torch.tensor([-1.0, 0.0, 2 * dev.g_max])])
    state = dev.program(x, generator)
    assert state.value.shape == x.shape
    lo, hi = dev.program_bounds()
    assert lo >= dev.g_min and hi >= dev.g_max
    assert ((state.value >= lo) & (state.value <= hi)).all()
    if hi > dev.g_max:  # unclipped programming noise (PCM): the cells aimed in range stay near
        sigma = (state.value[:-3] - x[:-3]).std()
        assert (state.value[:-3] <= dev.g_max + 8 * sigma).all()


@pytest.mark.parametrize("name", NAMES)
def test_noiseless_read_at_reference_time_returns_programmed_state(name):
    dev = devices.get(name)
    state = dev.program(_targets(dev), None)
    for t in (0.0, _ref_time(dev)):
        torch.testing.assert_close(dev.read(state, t, None), state.value, rtol=0, atol=0)
    if dev.n_levels is None and name != "tabulated-example":
        torch.testing.assert_close(state.value, _targets(dev))


@pytest.mark.parametrize("name", NAMES)
def test_expected_pulse_response_is_monotone(name):
    dev = devices.get(name)
    state = dev.program(torch.full((3,), dev.g_min), None)
    trace = [state.value]
    for _ in range(40):
        state = dev.pulse(state, 1.0, None)
        trace.append(state.value)
    up = torch.stack(trace)
    assert (up.diff(dim=0) >= 0).all() and (up[-1] > up[0]).all()
    trace = [state.value]
    for _ in range(40):
        state = dev.pulse(state, -1.0, None)
        trace.append(state.value)
    down = torch.stack(trace)
    assert (down.diff(dim=0) <= 0).all() and (down[-1] < down[0]).all()
    um = dev.update_model()
    w = torch.linspace(0, 1, 21)
    assert (um.step_up(w).diff() >= 0).all() and (um.step_up(w) >= w - 1e-6).all()
    assert (um.step_down(w) <= w + 1e-6).all()


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_tensors(name):
    dev = devices.get(name)
    outs = []
    for _ in range(2):
        g = torch.Generator().manual_seed(1234)
        s = dev.program(_targets(dev), g)
        s = dev.pulse(s, torch.arange(257.0) % 7 - 3, g)
        outs.append(torch.cat([s.value, dev.read(s, 3600.0, g)]))
    torch.testing.assert_close(outs[0], outs[1], rtol=0, atol=0)


@pytest.mark.parametrize("name", NAMES)
def test_describe_fields_finite_and_si(name):
    dev = devices.get(name)
    d = dev.describe()
    assert d["quantity"] in ("conductance", "capacitance")
    assert d["unit"] == {"conductance": "S", "capacitance": "F"}[d["quantity"]]
    upper = {"S": 1.0, "F": 1e-9}[d["unit"]]  # no cell is above 1 S or 1 nF
    assert 0 <= d["g_min"] < d["g_max"] <= upper
    assert d["n_levels"] is None or (isinstance(d["n_levels"], int) and d["n_levels"] >= 2)
    for key in ("read_voltage_V", "t_read_s", "t_write_s", "read_energy_J", "write_energy_J"):
        assert math.isfinite(d[key]) and d[key] >= 0, key
    assert d["t_read_s"] <= 1 and d["t_write_s"] <= 1 and d["write_energy_J"] < 1e-6
    for key in ("endurance_cycles", "retention_s"):
        assert d[key] > 0 and not math.isnan(d[key]), key  # may be inf (ideal)


@pytest.mark.gpu
@pytest.mark.parametrize("name", NAMES)
def test_works_with_a_cuda_generator(name):
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    dev = devices.get(name)
    g = torch.Generator(device="cuda").manual_seed(7)
    x = _targets(dev, device="cuda")
    s = dev.program(x, g)
    s = dev.pulse(s, torch.full_like(x, 2.0), g)
    r = dev.read(s, 3600.0, g)
    assert s.value.device.type == r.device.type == "cuda"
    assert all(v.device.type == "cuda" for v in s.hidden.values())
    cpu = dev.program(x.cpu(), None)
    torch.testing.assert_close(dev.program(x, None).value.cpu(), cpu.value)
