"""Tabulated devices from level tables (the common lab format), and tables that age."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import devices
from devices.tabulated import FORMATS, Tabulated


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


LEVELS_US = "level,mean_uS,std_uS\n0,2,0.3\n1,10,0.5\n2,20,0.6\n3,30,0.8\n"


def test_a_table_of_n_levels_is_an_n_level_device(tmp_path, generator):
    dev = Tabulated.from_csv(_write(tmp_path / "lv.csv", LEVELS_US))
    assert dev.n_levels == 4 and dev.quantity == "conductance"
    assert dev.g_min == pytest.approx(2e-6) and dev.g_max == pytest.approx(30e-6)
    # Noise-free programming lands on the nearest level's mean.
    state = dev.program(torch.tensor([0.0, 5e-6, 7e-6, 14.9e-6, 15.1e-6, 1.0]), None)
    np.testing.assert_allclose(
        state.value.numpy(), [2e-6, 2e-6, 10e-6, 10e-6, 20e-6, 30e-6], rtol=1e-6
    )
    # With noise each level keeps its own std, the top one too (no clipping at the largest
    # mean: a measured cell lands above it as often as below): 20,000 draws, std SE 0.5 %.
    n = 20_000
    for target, std in ((10e-6, 0.5e-6), (30e-6, 0.8e-6)):
        v = dev.program(torch.full((n,), target + 1e-6, dtype=torch.float64), generator).value
        assert v.mean().item() == pytest.approx(target, abs=5 * std / math.sqrt(n))
        assert v.std().item() == pytest.approx(std, rel=5 / math.sqrt(2 * n))


@pytest.mark.parametrize(
    "text",
    [
        "level,mean (kohm),std (kohm)\n0,500,50\n1,100,5\n2,40,1\n",
        "level,mean[kΩ],std[kΩ]\n0,500,50\n1,100,5\n2,40,1\n",
        "# unit: kohm\nlevel,mean,std\n0,500,50\n1,100,5\n2,40,1\n",
    ],
)
def test_resistance_levels_become_conductances(tmp_path, text):
    # G = 1/R, σ_G = σ_R / R² (first order): 500 kΩ ± 50 kΩ -> 2 µS ± 0.2 µS.
    dev = Tabulated.from_csv(_write(tmp_path / "r.csv", text))
    p = dev.programming
    np.testing.assert_allclose(p["mean"], [2e-6, 10e-6, 25e-6])
    np.testing.assert_allclose(p["std"], [0.2e-6, 0.5e-6, 0.625e-6])
    assert dev.n_levels == 3


def test_capacitance_levels_in_femtofarads(tmp_path):
    dev = Tabulated.from_csv(
        _write(tmp_path / "c.csv", "level,mean_fF,std_fF\n0,0.1,0\n1,1,0.01\n")
    )
    assert dev.quantity == "capacitance" and dev.g_max == pytest.approx(1e-15)


def test_drift_and_read_noise_columns_age_the_device(tmp_path, generator):
    # nu = |N(0.05, 0.01)| per cell at the upper level, none at the lower one; read noise
    # 0.4 uS at the upper level; t0 = 1 s: G(t) = G_p ((t + 1) / 1)^-nu.
    text = "level,mean_uS,std_uS,nu_mean,nu_std,read_std_uS\n0,5,0,0,0,0\n1,25,0,0.05,0.01,0.4\n"
    dev = Tabulated.from_csv(_write(tmp_path / "age.csv", text))
    n = 20_000
    state = dev.program(torch.full((n,), 25e-6, dtype=torch.float64), generator)
    assert torch.equal(dev.read(state, 0.0, None), state.value)  # t = 0: programmed value
    nu = state.hidden["nu"]
    assert nu.mean().item() == pytest.approx(0.05, abs=5 * 0.01 / math.sqrt(n))
    day = 86400.0
    torch.testing.assert_close(dev.read(state, day, None), state.value * (day + 1.0) ** (-nu))
    noisy = dev.read(state, day, generator) - dev.read(state, day, None)
    assert noisy.std().item() == pytest.approx(0.4e-6, rel=5 / math.sqrt(2 * n))
    low = dev.program(torch.full((10,), 5e-6, dtype=torch.float64), generator)
    torch.testing.assert_close(dev.read(low, day, generator), low.value)  # no ageing there


def test_config_ages_a_table_without_ageing_columns(tmp_path, generator):
    dev = Tabulated.from_csv(
        _write(tmp_path / "lv.csv", LEVELS_US), drift_nu=0.1, read_noise_rel=0.02, t0_s=10.0
    )
    state = dev.program(torch.full((20_000,), 20e-6, dtype=torch.float64), None)
    mean = dev.read(state, 990.0, generator).mean().item()
    assert mean == pytest.approx(20e-6 * 100.0 ** (-0.1), rel=5 * 0.02 / math.sqrt(20_000))


@pytest.mark.parametrize(
    "text, match",
    [
        ("a,b,c\n1,2,3\n", r"x\.csv: header \['a', 'b', 'c'\] matches no accepted CSV format"),
        ("level,mean,std\n0,1,0.1\n", r"x\.csv: column 'mean' has no unit"),
        ("level,mean_uF,std_uF\n0,1,0.1\n", r"x\.csv: column 'mean_uF': unit 'uF' unknown"),
        ("level,mean_uS\n0,1\n", r"x\.csv: levels table lacks std"),
        ("level,mean_uS,std_nS\n0,1,1\n", r"x\.csv: mean and std must share a unit"),
        ("level,mean_uS,std_uS\n0,1,-1\n", r"x\.csv: column 'std_uS' must be >= 0"),
        ("level,mean_uS,std_uS\n0,1,0\n1,1,0\n", r"x\.csv: the levels' means must differ"),
        ("level,mean_ohm,std_ohm\n0,0,1\n", r"x\.csv: column 'mean_ohm' must be > 0"),
        ("level,mean_S,std_S\n0,5,0\n", r"x\.csv: column 'mean_S' must be in \[0, 1\] S"),
        ("level,mean_kS,std_kS\n0,5,0\n", r"x\.csv: column 'mean_kS': unit 'kS' unknown"),
        ("level,mean_mS,std_mS\n0,5000,0\n", r"x\.csv: level means must be in \[0, 1\] S"),
        (
            "level,mean_uS,std_uS,nu_mean\n0,1,0,2\n",
            r"x\.csv: column 'nu_mean' must be in \[0, 1\]",
        ),
    ],
)
def test_unreadable_tables_name_the_accepted_formats(tmp_path, text, match):
    with pytest.raises(devices.ConfigError, match=match):
        Tabulated.from_csv(_write(tmp_path / "x.csv", text))


def test_format_errors_list_every_format(tmp_path):
    with pytest.raises(devices.ConfigError) as err:
        Tabulated.from_csv(_write(tmp_path / "x.csv", "foo,bar\n1,2\n"))
    assert FORMATS in str(err.value)
    for words in ("pulse response", "programming statistics", "levels", "kohm", "fF"):
        assert words in FORMATS
    prog = _write(tmp_path / "p.csv", "target_S,mean_S,std_S\n1e-6,1e-6,0\n2e-6,2e-6,0\n")
    with pytest.raises(devices.ConfigError, match="is a programming table; pass the pulse"):
        Tabulated.from_csv(prog, prog)
    pulses = _write(
        tmp_path / "u.csv",
        "cycle,direction,pulse,conductance_S\n0,up,0,1e-6\n0,up,1,2e-6\n"
        "0,down,0,2e-6\n0,down,1,1e-6\n",
    )
    with pytest.raises(devices.ConfigError, match="programming=u.csv is a pulse-response table"):
        Tabulated.from_csv(None, pulses)
