"""Tabulated devices: round trip of the shipped example CSVs, malformed-CSV errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import devices
from devices.presets import PRESET_DIR
from devices.tabulated import Tabulated, read_pulse_csv

PULSES = PRESET_DIR / "tabulated_example_pulses.csv"
PROG = PRESET_DIR / "tabulated_example_programming.csv"


def _simulate(dev: Tabulated, generator, n: int = 4000):
    state = dev.program(torch.full((n,), dev.g_min, dtype=torch.float64), generator)
    up, down = [state.value], []
    for _ in range(50):
        state = dev.pulse(state, 1.0, generator)
        up.append(state.value)
    down.append(state.value)
    for _ in range(50):
        state = dev.pulse(state, -1.0, generator)
        down.append(state.value)
    return torch.stack(up).numpy(), torch.stack(down).numpy()


def test_round_trip_reproduces_mean_and_spread(generator):
    # Mean within 2 % and spread within 10 % of the data at every pulse (the 4000 simulated
    # cells put the std's standard error at 1.1 %, so 10 % is 9 SE).
    dev = Tabulated.from_csv(PULSES)
    data = read_pulse_csv(PULSES)
    up, down = _simulate(dev, generator)
    for sim, key in ((up, "up"), (down, "down")):
        mean, std = data[f"{key}_raw_mean"], data[key][1]
        np.testing.assert_allclose(sim.mean(axis=1), mean, rtol=0.02)
        k = std > 0.02 * (dev.g_max - dev.g_min)  # relative spread where there is spread
        np.testing.assert_allclose(sim.std(axis=1)[k], std[k], rtol=0.10)


def test_example_generator_reproduces_the_shipped_csv(tmp_path):
    from devices.presets import make_example_csv

    make_example_csv.main(tmp_path)
    for name in ("tabulated_example_pulses.csv", "tabulated_example_programming.csv"):
        assert (tmp_path / name).read_text() == (PRESET_DIR / name).read_text()


def test_update_model_recovers_the_generating_nonlinearity():
    # make_example_csv.py: NL 2.0 / 3.0, c2c 1.5 %; 20 cycles of data, so ~10 % agreement.
    um = Tabulated.from_csv(PULSES).update_model()
    assert um.n_levels == 51
    assert um.nonlinearity_ltp == pytest.approx(2.0, rel=0.15)
    assert um.nonlinearity_ltd == pytest.approx(3.0, rel=0.15)
    assert um.c2c_sigma == pytest.approx(0.015, rel=0.15)


def test_programming_table_sets_mean_and_std(generator):
    dev = devices.get("tabulated-example")
    n = 20_000
    state = dev.program(torch.full((n,), 25e-6, dtype=torch.float64), generator)
    tgt = np.linspace(5e-6, 50e-6, 12)
    mean = np.interp(25e-6, tgt, 0.99 * tgt)
    std = np.interp(25e-6, tgt, 0.3e-6 + 0.02 * tgt)
    assert state.value.mean().item() == pytest.approx(mean, abs=5 * std / n**0.5)
    assert state.value.std().item() == pytest.approx(std, rel=5 / (2 * n) ** 0.5)


def test_programming_only_device_refuses_pulses():
    dev = Tabulated.from_csv(PROG)
    state = dev.program(torch.tensor([20e-6]), None)
    with pytest.raises(devices.ConfigError, match="has no pulse-response table"):
        dev.pulse(state, 1.0, None)
    with pytest.raises(devices.ConfigError, match="has no pulse-response table"):
        dev.update_model()


def _write(path, text):
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "text, match",
    [
        ("cycle,direction,conductance_S\n0,up,1e-6\n", r"bad\.csv: missing column 'pulse'"),
        (
            "cycle,direction,pulse,conductance_S\n0,up,0,1e-6\n0,up,2,2e-6\n0,up,1,3e-6\n",
            r"bad\.csv: column 'pulse' must count 0, 1, 2",
        ),
        (
            "cycle,direction,pulse,conductance_S\n0,up,0,1e-6\n0,up,1,nan\n",
            r"bad\.csv: column 'conductance_S' has NaN/empty at line 3",
        ),
        (
            "cycle,direction,pulse,conductance_S\n0,up,0,1e-6\n0,up,1,\n",
            r"bad\.csv: column 'conductance_S' has NaN/empty",
        ),
        (
            "cycle,direction,pulse,conductance_S\n0,up,0,1e-6\n0,up,1,abc\n",
            r"bad\.csv: column 'conductance_S' must be numeric",
        ),
        (
            "cycle,direction,pulse,conductance_S\n0,sideways,0,1e-6\n",
            r"bad\.csv: column 'direction' must be 'up' or 'down'",
        ),
        (
            "cycle,direction,pulse,conductance_S\n0,up,0,1e-6\n0,up,1,2e-6\n",
            r"bad\.csv: column 'direction' has no 'down' rows",
        ),
    ],
)
def test_malformed_pulse_csv_names_file_and_column(tmp_path, text, match):
    with pytest.raises(devices.ConfigError, match=match):
        Tabulated.from_csv(_write(tmp_path / "bad.csv", text))


def test_malformed_programming_csv(tmp_path):
    bad = _write(tmp_path / "p.csv", "target_S,mean_S,std_S\n2e-6,2e-6,1e-7\n1e-6,1e-6,1e-7\n")
    with pytest.raises(devices.ConfigError, match=r"p\.csv: column 'target_S' must be strictly"):
        Tabulated.from_csv(bad)
    neg = _write(tmp_path / "n.csv", "target_S,mean_S,std_S\n1e-6,1e-6,-1e-7\n2e-6,2e-6,1e-7\n")
    with pytest.raises(devices.ConfigError, match=r"n\.csv: column 'std_S' must be >= 0"):
        Tabulated.from_csv(neg)
    with pytest.raises(devices.ConfigError, match="does not exist"):
        Tabulated.from_csv(tmp_path / "missing.csv")


def test_table_combinations_are_checked(tmp_path):
    with pytest.raises(devices.ConfigError, match="needs a pulse-response table"):
        Tabulated(None, None)
    cap = _write(tmp_path / "c.csv", "target_F,mean_F,std_F\n1e-16,1e-16,0\n1e-15,1e-15,0\n")
    with pytest.raises(devices.ConfigError, match="disagree on the unit"):
        Tabulated.from_csv(PULSES, cap)
    assert Tabulated.from_csv(cap).quantity == "capacitance"
    flat = _write(tmp_path / "f.csv", "target_S,mean_S,std_S\n1e-6,2e-6,0\n2e-6,2e-6,0\n")
    with pytest.raises(devices.ConfigError, match="span no range"):
        Tabulated.from_csv(flat)
