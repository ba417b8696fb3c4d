"""The cost model: components by hand for one case, and how they scale."""

from __future__ import annotations

import dataclasses

import pytest

import devices
from crossbar import COMPONENTS, ADCConfig, CrossbarConfig, DACConfig, matrix_cost
from crossbar.cost import cell_area_m2


def test_components_by_hand_for_one_tile():
    dev = devices.get("reram")
    cfg = CrossbarConfig(adc=ADCConfig(bits=8), dac=DACConfig(bits=8, mode="bit-serial"))
    c = cfg.cost
    rep = matrix_cost(dev, cfg, n_out=100, n_in=200, n_vectors=3)
    # One tile (256 rows; 128 weight columns of differential pairs), 8 bit planes.
    assert rep.tiles == 1 and rep.cells == 256 * 256
    assert rep.adc_conversions == 3 * 100 * 8
    assert rep.energy_J["adc"] == pytest.approx(3 * 100 * 8 * 1.67e-12)
    assert rep.energy_J["cell_read"] == pytest.approx(3 * 200 * 200 * 8 * 0.5 * dev.read_energy_J)
    assert rep.energy_J["dac"] == pytest.approx(3 * 200 * 8 * 0.39e-12)
    assert rep.energy_J["buffers"] == pytest.approx(3 * 300 * 1.25e-12)
    assert rep.latency_s == pytest.approx(3 * 8 * (dev.t_read_s + c.adc_conversion_s))
    assert rep.area_breakdown_m2["cells"] == pytest.approx(256 * 256 * 48 * (32e-9) ** 2)
    assert set(rep.energy_J) == set(COMPONENTS)
    assert rep.total_energy_J == pytest.approx(sum(rep.energy_J.values()))


def test_adc_energy_follows_walden_scaling():
    dev = devices.get("pcm")
    e = {
        b: matrix_cost(dev, CrossbarConfig(adc=ADCConfig(bits=b)), 64, 64).energy_J["adc"]
        for b in (4, 8, 10)
    }
    assert e[10] / e[8] == pytest.approx(4.0) and e[8] / e[4] == pytest.approx(16.0)


def test_capacitive_cells_cost_c_v_squared_and_charge_recovery():
    dev = devices.get("memcap")
    cfg = CrossbarConfig(dac=DACConfig(bits=4))
    rep = matrix_cost(dev, cfg, 10, 20)
    c_mid = 0.5 * (dev.g_min + dev.g_max)
    assert rep.energy_J["cell_read"] == pytest.approx(20 * 20 * 0.5 * c_mid * dev.read_voltage_V**2)
    rec = dataclasses.replace(cfg, cost=dataclasses.replace(cfg.cost, charge_recovery=0.95))
    assert matrix_cost(dev, rec, 10, 20).energy_J["cell_read"] == pytest.approx(
        0.05 * rep.energy_J["cell_read"]
    )
    assert cell_area_m2(dev, cfg) == pytest.approx(dev.g_max / 1e-3)


def test_shared_adcs_are_slower_and_smaller():
    dev = devices.get("reram")
    per_col = matrix_cost(dev, CrossbarConfig(), 256, 256)
    shared = matrix_cost(dev, CrossbarConfig(adc=ADCConfig(columns_per_adc=8)), 256, 256)
    assert shared.latency_s > per_col.latency_s
    assert shared.area_breakdown_m2["adc"] == pytest.approx(per_col.area_breakdown_m2["adc"] / 8)
