"""BrainScaleS-2: the whole chip's power from Cramer et al. 2022, fitted and listed apart."""

from __future__ import annotations

import pytest

from neuro import validate
from neuro.validate import CHECKS, FITTED
from neuro.validate import brainscales2 as vb
from snn.energy import HOST_LINK_J_PER_BYTE, TERMS, Activity, inference_time, preset


def test_the_chip_power_is_a_fitted_constant_with_its_figure():
    validate.load_all()
    f = FITTED.get("snn.brainscales2.static_W")
    assert (f.value, f.unit, f.figure_id) == (0.2, "W", "cramer2022-bss2-lt200mW")
    assert "less than 200 mW" in f.figure and "PNAS 119(4)" in f.figure
    assert f.value == preset("brainscales2").static_W
    # never the measurement of a held-out check; and no BrainScaleS-2 check exists
    for _, c in CHECKS.items():
        if c.kind == "held-out":
            assert c.figure_id != f.figure_id
        assert "brainscales2" not in c.name


def test_the_fitted_power_re_derives_the_mnist_energy_per_image_of_the_same_run():
    # 200 mW over 1/85,000 s = 2.35 uJ; the authors' tutorial: 2.4 uJ per image at more
    # than 85k images/s (the same run: a consistency check, not a validation)
    assert vb.cramer_mnist_J_per_image() == pytest.approx(0.2 / 85_000)
    assert vb.cramer_mnist_J_per_image() / vb.CRAMER_MNIST_J_PER_IMAGE == pytest.approx(
        0.980, abs=1e-3
    )


def test_the_non_spiking_mode_draws_three_and_a_half_times_the_spiking_power():
    # Stradmann et al. 2022: 192 uJ for the ASIC per ECG sample in 276 us, vector-matrix mode
    assert vb.STRADMANN_ASIC_W == pytest.approx(0.6957, rel=1e-3)
    assert vb.STRADMANN_ASIC_W / preset("brainscales2").static_W == pytest.approx(3.48, rel=1e-2)


def test_the_preset_prices_the_chip_power_and_the_host_link_and_includes_the_rest():
    c = preset("brainscales2")
    assert c.static_W == 0.2 and c.host_io_J_per_byte == HOST_LINK_J_PER_BYTE
    assert c.tick_s == 1e-6
    priced = {"static_W", "host_io_J_per_byte"}
    for t in TERMS:
        if t in priced:
            continue
        assert getattr(c, t) is None, t
        assert c.sources[t].startswith("included in static_W (200 mW"), t
    assert "Cramer et al., PNAS 119(4)" in c.sources["static_W"]
    assert "5.6 W" in c.sources["static_W"]  # the FPGA system, not the chip


def test_energy_of_an_activity_is_the_chip_power_over_its_time():
    c = preset("brainscales2")
    steps = 64
    t = inference_time(c, steps).time_s  # 64 steps x 1 us
    assert t == pytest.approx(64e-6)
    a = Activity(
        synaptic_events=12_345.0,
        neuron_updates_active=300.0,
        neuron_updates_idle=1_000.0,
        spikes_out=77.0,
        messages=50.0,
        host_bytes=1_000.0,
        time_s=t,
    )
    comp, miss = c.energy(a)
    # by hand: 0.2 W x 64 us = 12.8 uJ; 1,000 bytes x 8 bits x 26 pJ = 208 nJ
    assert comp == {
        "static": ("static", pytest.approx(12.8e-6)),
        "host_io": ("off_chip", pytest.approx(208e-9)),
    }
    # the events change nothing: they are in the chip's power
    comp0, _ = c.energy(Activity(synaptic_events=0.0, time_s=t, host_bytes=1_000.0))
    assert comp0 == comp
    for g in ("compute", "conversion", "movement"):
        assert miss[g].startswith("included in static_W"), g
    assert "control" not in miss  # the embedded processors are on the chip: included
    assert "static" not in miss and "off_chip" not in miss
