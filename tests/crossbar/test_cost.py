"""The cost model: components by hand, the cited tables, the pulse-time cell energy."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch

import devices
from crossbar import COMPONENTS, ADCConfig, CostConfig, CrossbarConfig, DACConfig, matrix_cost
from crossbar.cost import (
    COMPONENT_GROUPS,
    InputStats,
    adc_energy,
    adc_power,
    cell_area_m2,
    programmed_mean,
    tile_static_power,
)
from devices.validation import ConfigError

#: Horowitz 45 nm / 0.9 V → 32 nm / 1.0 V (C·V²).
H45 = (32 / 45) * (1.0 / 0.9) ** 2
#: Every code of 8 bits once: E[u] = 0.5 and half the bits are 1, exactly.
UNIFORM8 = InputStats(0.5, float(sum((c / 255) ** 2 for c in range(256)) / 256), 255 / 256, 0.5)


#: The tile control and leakage figures off, to check a lane's static power alone.
NO_TILE_STATIC = {"control_W_per_tile": 0.0, "register_leak_W_per_line": 0.0, "dac_leak_W": 0.0}


def with_cost(cfg: CrossbarConfig, **changes) -> CrossbarConfig:
    return dataclasses.replace(cfg, cost=dataclasses.replace(cfg.cost, **changes))


def test_components_by_hand_for_one_tile_bit_serial():
    dev = devices.get("reram")
    cfg = CrossbarConfig(adc=ADCConfig(bits=8), dac=DACConfig(bits=8, mode="bit-serial"))
    cfg = with_cost(cfg, adc_type="sar", static_W_per_adc=1e-3)
    c = cfg.cost
    rep = matrix_cost(dev, cfg, n_out=100, n_in=200, n_vectors=3)
    # One tile (256 rows; 128 weight columns of differential pairs), 8 bit planes,
    # activity 0.5 -> half the bits are 1.
    assert rep.tiles == 1 and rep.cells == 256 * 256
    assert rep.adc_conversions == 3 * 100 * 8
    assert rep.energy_J["adc"] == pytest.approx(3 * 100 * 8 * 1.67e-12)
    g_mid = 0.5 * (dev.g_min + dev.g_max)
    e_bit = g_mid * dev.read_voltage_V**2 * dev.t_read_s  # t_read per plane per 1-bit
    assert rep.energy_J["cell_read"] == pytest.approx(3 * 200 * 200 * 8 * 0.5 * e_bit)
    assert rep.energy_J["dac"] == pytest.approx(3 * 200 * 8 * 0.39e-12)
    assert rep.energy_J["buffers"] == pytest.approx(3 * 300 * 1.25e-12 * H45)
    assert rep.energy_J["accumulation"] == pytest.approx(3 * 100 * 8 * 0.1e-12 * H45)
    t_pass = 8 * (dev.t_read_s + c.adc_conversion_s)
    assert rep.latency_s == pytest.approx(3 * t_pass)
    # 100 used columns -> 100 lanes, each drawing the static power for the passes, and
    # the tile's control and leakage (PUMA: 0.25 mW + 512 x 0.29 uW + 256 x 0.39 uW)
    tile_W = 0.25e-3 + 512 * 0.075e-3 / 256 + 256 * 0.39e-6
    assert rep.energy_J["static"] == pytest.approx((100 * 1e-3 + tile_W) * 3 * t_pass)
    assert rep.area_breakdown_m2["cells"] == pytest.approx(256 * 256 * 48 * (32e-9) ** 2)
    assert set(rep.energy_J) == set(COMPONENTS) == set(COMPONENT_GROUPS)
    assert rep.total_energy_J == pytest.approx(sum(rep.energy_J.values()))


def test_adc_energy_is_the_isaac_accelergy_series_and_survey_laws_outside():
    c = CostConfig()
    table = {4: 0.79, 5: 0.99, 6: 1.20, 7: 1.42, 8: 1.67, 9: 1.97, 10: 2.38}  # pJ
    for bits, pj in table.items():
        assert adc_energy(bits, c) == pytest.approx(pj * 1e-12)
    assert adc_energy(3, c) == pytest.approx(0.79e-12 / 2)  # Walden: x2 per bit
    assert adc_energy(1, c) == pytest.approx(0.79e-12 / 8)
    assert adc_energy(12, c) == pytest.approx(2.38e-12 * 16)  # Schreier: x4 per bit
    sar = with_cost(CrossbarConfig(adc=ADCConfig(bits=6)), adc_type="sar")
    rep = matrix_cost(devices.get("pcm"), sar, 64, 64)
    assert rep.energy_J["adc"] == pytest.approx(64 * 1.20e-12)


def test_pwm_against_bit_serial_cell_energy_follows_the_pulse_times():
    """PWM: a cell conducts x·pwm_step for code x; bit-serial: t_read per 1-bit per plane.

    With every 8-bit code equally likely, E[u] = 1/2 and half the bits are 1, so
    E_pwm / E_bit-serial = (1/2)·255·1 ns / (8·(1/2)·10 ns) = 127.5 / 40 = 3.1875.
    """
    dev = devices.get("reram")  # t_read = 10 ns
    assert dev.t_read_s == pytest.approx(10e-9)
    pwm = CrossbarConfig(dac=DACConfig(bits=8, mode="pwm", pwm_step_s=1e-9))
    serial = CrossbarConfig(dac=DACConfig(bits=8, mode="bit-serial"))
    e_pwm = matrix_cost(dev, pwm, 64, 128, 1, UNIFORM8).energy_J["cell_read"]
    e_bs = matrix_cost(dev, serial, 64, 128, 1, UNIFORM8).energy_J["cell_read"]
    assert e_pwm / e_bs == pytest.approx(3.1875)
    # and by hand: 128 rows x 128 cells x G_mid V² x 0.5 x 255 ns
    g_mid = 0.5 * (dev.g_min + dev.g_max)
    assert e_pwm == pytest.approx(128 * 128 * g_mid * 0.2**2 * 0.5 * 255e-9)


def test_pwm_driver_is_one_drive_plus_its_counter():
    dev = devices.get("reram")
    cfg = CrossbarConfig(dac=DACConfig(bits=8, mode="pwm"))
    st = InputStats(0.25, 0.1, 0.5, 0.25)
    rep = matrix_cost(dev, cfg, 10, 100, 1, st)
    step = 0.03e-12 * H45  # one INT8 add per counter step at 8 bits
    assert rep.energy_J["dac"] == pytest.approx(100 * (0.5 * 0.39e-12 + 0.25 * 255 * step))
    # not b one-bit DACs: far below 8 drives per row
    assert rep.energy_J["dac"] < 100 * 8 * 0.39e-12


def test_capacitive_amplitude_cells_cost_mean_square_c_v_squared():
    dev = devices.get("memcap")
    cfg = CrossbarConfig(dac=DACConfig(bits=4))
    c_mid = 0.5 * (dev.g_min + dev.g_max)
    st = InputStats(0.5, 0.2, 1.0, 0.5)
    rep = matrix_cost(dev, cfg, 10, 20, 1, st)
    # 20 rows x 20 cells (10 differential pairs), E[u²] C V², not E[|u|]
    assert rep.energy_J["cell_read"] == pytest.approx(20 * 20 * 0.2 * c_mid * 0.4**2)
    other = matrix_cost(dev, cfg, 10, 20, 1, dataclasses.replace(st, mean_abs=0.9))
    assert other.energy_J["cell_read"] == pytest.approx(rep.energy_J["cell_read"])
    rec = with_cost(cfg, charge_recovery=0.95)
    assert matrix_cost(dev, rec, 10, 20, 1, st).energy_J["cell_read"] == pytest.approx(
        0.05 * rep.energy_J["cell_read"]
    )
    # a scalar activity a assumes u uniform on [0, 2a]: E[u²] = 4a²/3 = 1/3 at a = 0.5
    scalar = matrix_cost(dev, cfg, 10, 20).energy_J["cell_read"]
    assert scalar == pytest.approx(20 * 20 * c_mid * 0.4**2 / 3)
    assert cell_area_m2(dev, cfg) == pytest.approx(dev.g_max / 1e-3)


def test_input_stats_measured_as_the_dac_codes_them():
    fixed = CrossbarConfig(dac=DACConfig(bits=2, range_mode="fixed", range_value=3.0))
    x = torch.tensor([[0.0, 1.0, -2.0, 3.0]])  # codes 0, 1, 2, 3 (sign by polarity)
    st = InputStats.measure(x, fixed)
    assert st.mean_abs == pytest.approx(0.5)
    assert st.mean_sq == pytest.approx((0 + 1 / 9 + 4 / 9 + 1) / 4)
    assert st.nonzero == pytest.approx(0.75)
    assert st.ones == pytest.approx(4 / 8)  # 00, 01, 10, 11
    # dynamic: each vector over its own max (per row tile)
    dyn = CrossbarConfig(dac=DACConfig(bits=8, range_mode="dynamic"))
    st = InputStats.measure(torch.tensor([[1.0, 0.0], [2.0, 2.0]]), dyn)
    assert st.mean_abs == pytest.approx(0.75) and st.nonzero == pytest.approx(0.75)
    # calibrated: the percentile over the batch; clipped above it
    cal = CrossbarConfig(dac=DACConfig(bits=8, range_mode="calibrated"))
    st = InputStats.measure(torch.tensor([[0.5, 1.0], [0.0, 0.25]]), cal)
    assert st.mean_abs == pytest.approx((128 / 255 + 1 + 0 + 64 / 255) / 4)
    with pytest.raises(ValueError, match="InputStats.ones must be a fraction in"):
        InputStats(0.5, 0.3, 1.0, 1.5)


def test_programmed_mean_by_hand():
    dev = devices.get("reram")
    w = torch.tensor([[1.0, -0.5]])  # one output, two inputs; column max 1
    g = programmed_mean(w, dev, CrossbarConfig())
    # cells (G+, G-) per input: (g_max, g_min) and (g_min, g_min + dg/2)
    dg = dev.g_max - dev.g_min
    assert g == pytest.approx(dev.g_min + dg * 1.5 / 4)
    rep = matrix_cost(dev, CrossbarConfig(), 1, 2, 1, UNIFORM8, mean_value=g)
    mid = matrix_cost(dev, CrossbarConfig(), 1, 2, 1, UNIFORM8)
    ratio = g / (0.5 * (dev.g_min + dev.g_max))
    assert rep.energy_J["cell_read"] == pytest.approx(ratio * mid.energy_J["cell_read"])


def test_cco_lanes_draw_the_converters_running_power_over_the_window():
    """An integrating (CCO) converter runs through the read window: used lanes x ISAAC's
    running power (1.67 pJ x 1.28 GS/s = 2.14 mW at 8 bit; ISAAC Table 2: 16 mW / 8 ADCs)
    x the pass time. No static power unless given."""
    dev = devices.get("pcm")
    cfg = CrossbarConfig()  # PWM 8 bit: a 255 ns window (PCM t_read 250 ns), adc_type "cco"
    assert cfg.cost.adc_type == "cco" and cfg.cost.static_W_per_adc == 0.0
    assert adc_power(8, cfg.cost) == pytest.approx(1.67e-12 * 1.28e9)
    assert adc_power(8, cfg.cost) == pytest.approx(16e-3 / 8, rel=0.08)  # ISAAC Table 2
    rep = matrix_cost(dev, cfg, 300, 600, n_vectors=2)
    # 3 row tiles x (128 + 128 + 44 used weight columns) lanes
    t_pass = 255e-9 + cfg.cost.adc_conversion_s
    assert rep.latency_s == pytest.approx(2 * t_pass)
    assert rep.energy_J["adc"] == pytest.approx(3 * 300 * 1.67e-12 * 1.28e9 * 2 * t_pass)
    # no lane static by default; each of the 3 x 3 tiles draws PUMA's 0.50 mW per pass
    assert rep.tiles == 9
    assert rep.energy_J["static"] == pytest.approx(9 * tile_static_power(cfg) * 2 * t_pass)
    assert rep.adc_conversions == 2 * 3 * 300
    # a SAR lane pays per conversion: 127x less over a 255 ns window
    sar = matrix_cost(dev, with_cost(cfg, adc_type="sar"), 300, 600, n_vectors=2)
    assert sar.energy_J["adc"] == pytest.approx(2 * 3 * 300 * 1.67e-12)
    assert rep.energy_J["adc"] / sar.energy_J["adc"] == pytest.approx(t_pass * 1.28e9)
    lanes = with_cost(cfg, static_W_per_adc=1e-4, **NO_TILE_STATIC)
    assert matrix_cost(dev, lanes, 300, 600, 2).energy_J["static"] == pytest.approx(
        3 * 300 * 1e-4 * 2 * t_pass
    )


def test_read_phases_multiply_time_and_conversions_not_cell_energy():
    dev = devices.get("reram")
    one = matrix_cost(dev, with_cost(CrossbarConfig(), static_W_per_adc=1e-4), 64, 64)
    four = matrix_cost(
        dev, with_cost(CrossbarConfig(), read_phases=4, static_W_per_adc=1e-4), 64, 64
    )
    assert four.latency_s == pytest.approx(4 * one.latency_s)
    assert four.adc_conversions == 4 * one.adc_conversions
    for k in ("adc", "static", "accumulation"):
        assert four.energy_J[k] == pytest.approx(4 * one.energy_J[k])
    for k in ("cell_read", "dac", "buffers"):
        assert four.energy_J[k] == pytest.approx(one.energy_J[k])


def test_scaled_moves_energies_by_c_v_squared_and_areas_by_f_squared():
    c = CostConfig()
    s = c.scaled(14e-9, 0.8)
    k = (14 / 32) * 0.8**2
    assert s.adc_energy_J[4] == pytest.approx(1.67e-12 * k)
    assert adc_power(8, s) == pytest.approx(1.67e-12 * k * 1.28e9)  # same clock
    lane = dataclasses.replace(c, static_W_per_adc=1e-3).scaled(14e-9, 0.8)
    assert lane.static_W_per_adc == pytest.approx(1e-3 * k)
    assert s.control_W_per_tile == pytest.approx(0.25e-3 * k)
    assert s.register_leak_W_per_line == pytest.approx(0.075e-3 / 256 * k)
    assert s.dac_leak_W == pytest.approx(0.39e-6 * k)
    assert s.digital_add_J == pytest.approx(c.digital_add_J * k)
    assert s.digital_mac_J == pytest.approx(c.digital_mac_J * k)  # a kept-digital layer's MAC
    assert s.adc_area_8bit_m2 == pytest.approx(c.adc_area_8bit_m2 * (14 / 32) ** 2)
    assert s.host_io_J_per_byte == c.host_io_J_per_byte == pytest.approx(30.88e-12)
    assert s.adc_conversion_s == c.adc_conversion_s


def test_cost_config_errors():
    with pytest.raises(ConfigError, match="CostConfig.adc_energy_J must be a tuple of 7"):
        CostConfig(adc_energy_J=(1e-12,))
    with pytest.raises(ConfigError, match="CostConfig.adc_energy_J must be a tuple of 7"):
        CostConfig(adc_energy_J=tuple(1e-12 * (7 - i) for i in range(7)))  # decreasing
    with pytest.raises(ConfigError, match="CostConfig.read_phases must be"):
        CostConfig(read_phases=0)
    with pytest.raises(ConfigError, match="CostConfig.adc_type must be one of"):
        CostConfig(adc_type="flash")


def test_shared_adcs_are_slower_and_smaller():
    dev = devices.get("reram")
    per_col = matrix_cost(dev, CrossbarConfig(), 256, 256)
    shared = matrix_cost(dev, CrossbarConfig(adc=ADCConfig(columns_per_adc=8)), 256, 256)
    # an integrating converter's running power over the (longer) pass, on 8x fewer lanes
    assert math.isclose(
        shared.energy_J["adc"] / shared.latency_s,
        per_col.energy_J["adc"] / per_col.latency_s / 8,
    )
    lanes = {"static_W_per_adc": 1e-4, **NO_TILE_STATIC}
    per_col = matrix_cost(dev, with_cost(CrossbarConfig(), **lanes), 256, 256)
    cfg8 = with_cost(CrossbarConfig(adc=ADCConfig(columns_per_adc=8)), **lanes)
    shared = matrix_cost(dev, cfg8, 256, 256)
    assert shared.latency_s > per_col.latency_s
    assert shared.area_breakdown_m2["adc"] == pytest.approx(per_col.area_breakdown_m2["adc"] / 8)
    assert math.isclose(
        shared.energy_J["static"] / shared.latency_s,
        per_col.energy_J["static"] / per_col.latency_s / 8,
    )


def test_tile_static_power_is_pumas_control_register_and_dac_leakage():
    # PUMA (Ankit et al., ASPLOS 2019), 32 nm: control unit 1.25 mW at activity 0.2,
    # crossbar input/output memories 0.075 mW each at 256 lines, 1-bit DAC 0.39 uW each
    cfg = CrossbarConfig()
    assert tile_static_power(cfg) == pytest.approx(0.25e-3 + 2 * 0.075e-3 + 256 * 0.39e-6)
    assert tile_static_power(cfg) == pytest.approx(0.50e-3, rel=0.01)
    small = CrossbarConfig(tile_rows=128, tile_cols=128)
    assert tile_static_power(small) == pytest.approx(0.25e-3 + 0.075e-3 + 128 * 0.39e-6)
    off = with_cost(cfg, **NO_TILE_STATIC)
    assert tile_static_power(off) == 0.0
    with pytest.raises(ConfigError, match="CostConfig.control_W_per_tile must be"):
        CostConfig(control_W_per_tile=-1.0)
