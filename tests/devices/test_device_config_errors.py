"""Bad parameters raise ConfigError naming the field, the value and what is allowed."""

from __future__ import annotations

import math

import pytest
import torch

import devices
from devices.fefet import FeFETConfig
from devices.memcap import MemcapConfig
from devices.pcm import PCMConfig
from devices.reram import ReRAMConfig
from devices.tabulated import TabulatedConfig

CONFIGS = [PCMConfig, ReRAMConfig, FeFETConfig, MemcapConfig]


@pytest.mark.parametrize("cls", CONFIGS)
def test_g_min_not_below_g_max(cls):
    with pytest.raises(
        devices.ConfigError, match=rf"{cls.__name__}\.g_max must be > g_min .*; got"
    ):
        cls(g_min=1e-16, g_max=1e-16)


@pytest.mark.parametrize("cls", CONFIGS)
@pytest.mark.parametrize(
    "field, value, allowed",
    [
        ("g_min", -1e-6, r"in \[0, "),
        ("t_write_s", -1.0, r"in \(0, 1\] s"),
        ("write_energy_J", float("nan"), r"in \[0, 1e-06\] J; got nan"),
        ("pulse_levels", 1, r"an integer >= 2; got 1"),
        ("n_levels", 1, r"an integer >= 2; got 1"),
        ("n_levels", 2.5, r"an integer >= 2; got 2\.5"),
        ("p_stuck_off", 1.5, r"in \[0, 1\]; got 1\.5"),
        ("c2c_sigma", -0.1, r"in \[0, 1\]; got -0\.1"),
        ("d2d_sigma", 0.7, r"in \[0, 0\.5\); got 0\.7"),
    ],
)
def test_bad_values_name_field_value_and_range(cls, field, value, allowed):
    with pytest.raises(devices.ConfigError, match=rf"^{cls.__name__}\.{field} must be {allowed}"):
        cls(**{field: value})


def test_stuck_rates_must_not_exceed_one():
    with pytest.raises(
        devices.ConfigError, match=r"ReRAMConfig\.p_stuck_on must be <= 1 - p_stuck_off; got 0\.6"
    ):
        ReRAMConfig(p_stuck_off=0.5, p_stuck_on=0.6)
    with pytest.raises(devices.ConfigError, match=r"TabulatedConfig\.p_stuck_on must be <= 1"):
        TabulatedConfig(p_stuck_off=0.5, p_stuck_on=0.6)


def test_model_specific_fields():
    with pytest.raises(
        devices.ConfigError, match=r"FeFETConfig\.v_reset_V must be in \[-20, 0\) V; got 1"
    ):
        FeFETConfig(v_reset_V=1.0)
    with pytest.raises(
        devices.ConfigError, match=r"MemcapConfig\.charge_recovery must be in \[0, 1\)"
    ):
        MemcapConfig(charge_recovery=1.0)
    with pytest.raises(
        devices.ConfigError, match=r"PCMConfig\.abrupt_reset must be one of True, False"
    ):
        PCMConfig(abrupt_reset="yes")
    with pytest.raises(devices.ConfigError, match=r"PCMConfig\.t0_s must be a number > 0 s; got 0"):
        PCMConfig(t0_s=0.0)


def test_overrides_through_the_registry_are_validated():
    with pytest.raises(devices.ConfigError, match=r"ReRAMConfig\.g_max must be > g_min"):
        devices.get("reram", g_max=1e-6)


@pytest.mark.parametrize("t", [-1.0, math.nan, math.inf])
def test_read_time_must_be_nonnegative(t):
    for name in ("pcm", "tabulated-example"):
        dev = devices.get(name)
        state = dev.program(torch.tensor([1e-5]), None)
        with pytest.raises(devices.ConfigError, match=r"\.read\.t must be >= 0 s"):
            dev.read(state, t, None)


def test_pulse_update_model_depression_choice():
    with pytest.raises(devices.ConfigError, match=r"PulseUpdateModel\.depression must be one of"):
        devices.PulseUpdateModel(depression="abrupt")
