"""The crossbar engine: exactness with ideal cells, converters, drift compensation, errors."""

from __future__ import annotations

import dataclasses
import io
import math

import pytest
import torch

import devices
from crossbar import ADCConfig, Crossbar, CrossbarConfig, DACConfig
from crossbar.charge import ktc_sigma_V
from devices.base import DeviceState
from devices.ideal import Ideal, IdealConfig


class IdealCapacitor(Ideal):
    """The ideal cell storing a capacitance (continuous, noiseless): for charge-domain exactness."""

    name = "ideal-capacitor"
    quantity = "capacitance"


def rel_err(y: torch.Tensor, ref: torch.Tensor) -> float:
    return float((y - ref).norm() / ref.norm())


@pytest.mark.parametrize(
    "overrides",
    [
        dict(),
        dict(mapping="offset"),
        dict(weight_scaling="tile"),
        dict(tile_rows=64, tile_cols=32),  # 5 x 19 tiles: partial sums across row tiles
        dict(ir_drop="fast", r_wire_ohm=1e-9, tile_rows=64, tile_cols=64),  # ~0 Ω wires
    ],
)
def test_ideal_device_reproduces_torch_matmul(overrides, generator):
    w = torch.randn(300, 270, generator=generator)
    x = torch.randn(40, 270, generator=generator)
    xbar = Crossbar(devices.get("ideal"), CrossbarConfig.ideal(**overrides)).program(w)
    assert rel_err(xbar.matvec(x), x @ w.t()) < 1e-5


def test_ideal_capacitive_cells_reproduce_torch_matmul(generator):
    """Charge sharing divides by C_total and the back end multiplies it back: exact without noise."""
    w = torch.randn(30, 50, generator=generator)
    x = torch.randn(8, 50, generator=generator)
    xbar = Crossbar(IdealCapacitor(IdealConfig(g_min=1e-16, g_max=1e-15)), CrossbarConfig.ideal())
    assert rel_err(xbar.program(w).matvec(x), x @ w.t()) < 1e-5


def test_matrix_interface(generator):
    w = torch.randn(5, 7, generator=generator, dtype=torch.float64)
    xbar = Crossbar(devices.get("ideal"), CrossbarConfig.ideal()).program(w)
    assert xbar.shape == (5, 7) and xbar.dtype == torch.float64
    assert xbar.device == torch.device("cpu")
    v = torch.randn(7, generator=generator, dtype=torch.float64)
    m = torch.randn(7, 3, generator=generator, dtype=torch.float64)
    torch.testing.assert_close(xbar @ v, w @ v)
    torch.testing.assert_close(xbar @ m, w @ m)
    assert xbar.matvec(torch.randn(2, 4, 7, dtype=torch.float64)).shape == (2, 4, 5)


def test_bit_slicing_quantises_weights_to_the_total_bits(generator):
    w = torch.randn(64, 64, generator=generator)
    x = torch.randn(16, 64, generator=generator)
    ref = x @ w.t()
    err = {}
    for slices, bits in ((1, 4), (2, 4)):
        cfg = CrossbarConfig.ideal(n_slices=slices, slice_bits=bits)
        err[slices] = rel_err(Crossbar(devices.get("ideal"), cfg).program(w).matvec(x), ref)
    # 4-bit weights: step 1/15 of max|w| per column; 8 bits: 1/255. Error ratio ~ 255/15 = 17.
    assert err[2] < err[1] / 8
    assert err[1] < 0.1


@pytest.mark.parametrize("mode", ["pwm", "bit-serial"])
def test_converters_error_follows_their_resolution(mode, generator):
    w = torch.randn(64, 128, generator=generator)
    x = torch.rand(256, 128, generator=generator)
    ref = x @ w.t()
    errs = []
    for bits in (4, 8):
        cfg = CrossbarConfig.ideal(
            dac=DACConfig(bits=bits, mode=mode), adc=ADCConfig(bits=bits, out_noise=0.0)
        )
        xbar = Crossbar(devices.get("ideal"), cfg).program(w).calibrate(x)
        errs.append(rel_err(xbar.matvec(x), ref))
    # Each of DAC and ADC steps shrink 16x from 4 to 8 bits.
    assert errs[1] < errs[0] / 6


class DriftingDevice(Ideal):
    """Test device: G(t) = G0 (t/t0)^-ν with ν ~ N(0.06, 0.01) per cell, t0 = 20 s (PCM-like)."""

    name = "drifting-test"

    def program(self, target, generator):
        nu = 0.06 + 0.01 * torch.randn(target.shape, generator=generator, dtype=target.dtype)
        return DeviceState(target.clone(), {"nu": nu})

    def read(self, state, t, generator):
        if t <= 20.0:
            return state.value
        return state.value * (t / 20.0) ** (-state.hidden["nu"])


@pytest.mark.parametrize("device, t", [(DriftingDevice(), 86400.0), (devices.get("pcm"), 86400.0)])
def test_global_drift_compensation_recovers_the_mean_output(device, t, generator):
    w = torch.rand(64, 256, generator=generator)
    x = torch.rand(512, 256, generator=generator)
    ref = (x @ w.t()).mean()
    conv = dict(dac=DACConfig(bits=None), adc=ADCConfig(bits=None))
    comp = Crossbar(device, CrossbarConfig(**conv), seed=1).program(w, generator)
    raw = Crossbar(device, CrossbarConfig(drift_compensation=False, **conv), seed=1)
    raw.program(w, generator)
    assert float(comp.matvec(x, t=t).mean() / ref) == pytest.approx(1.0, abs=0.02)
    # Without compensation the mean falls to ~(86400/20)^-0.06 ≈ 0.6: the test can fail.
    assert float(raw.matvec(x, t=t).mean() / ref) < 0.8


def test_ktc_noise_has_the_theoretical_spread(generator):
    """Output std over repeated reads = sqrt(2)·sqrt(kT/C_tot)·C_nom / (Δg·V) per unit weight."""
    dev = devices.get("memcap")
    cfg = CrossbarConfig.ideal(thermal_noise=True)
    w = torch.tensor([[1.0, 0.0, 0.0, 0.0]], dtype=torch.float64)
    xbar = Crossbar(dev, cfg).program(w)
    x = torch.tensor([1.0, 0.0, 0.0, 0.0], dtype=torch.float64).expand(20_000, 4)
    y = xbar.matvec(x, generator=generator.manual_seed(7))
    c_bl = xbar._c_bitline_F()
    # Rows = 4: the pos column holds g_max + 3 g_min, the neg column 4 g_min (+ bit line).
    sig = []
    for c_tot in (dev.g_max + 3 * dev.g_min + c_bl, 4 * dev.g_min + c_bl):
        sig.append(ktc_sigma_V(c_tot, 300.0) * c_tot)  # noise of Q̂ = V·C_nom
    expected = math.hypot(*sig) / ((dev.g_max - dev.g_min) * dev.read_voltage_V)
    # 20,000 samples: std estimate has relative standard error 1/sqrt(2n) = 0.5 %; 5 SE.
    assert float(y.std()) == pytest.approx(expected, rel=0.025)
    assert float(y.mean()) == pytest.approx(1.0, abs=5 * expected / math.sqrt(20_000))


def test_every_registered_device_runs_and_stays_close(generator):
    w = torch.randn(40, 100, generator=generator) * 0.1
    x = torch.rand(64, 100, generator=generator)
    for name in devices.names():
        xbar = Crossbar(devices.get(name), CrossbarConfig()).program(w, generator).calibrate(x)
        y = xbar.matvec(x, t=3600.0)
        assert torch.isfinite(y).all()
        assert rel_err(y, x @ w.t()) < 0.5, name


def test_state_dict_and_pickle_round_trip(generator):
    dev = devices.get("pcm")
    w = torch.randn(20, 30, generator=generator)
    x = torch.rand(5, 30, generator=generator)
    a = Crossbar(dev, CrossbarConfig(), seed=3).program(w, generator).calibrate(x)
    b = Crossbar(dev, CrossbarConfig(), seed=3)
    b.load_state_dict(a.state_dict())
    for key, value in a.state_dict().items():
        assert torch.equal(b.state_dict()[key], value), key
    a.reseed(9)
    b.reseed(9)
    torch.testing.assert_close(a.matvec(x, t=100.0), b.matvec(x, t=100.0), rtol=0, atol=0)
    buf = io.BytesIO()
    torch.save(a, buf)
    buf.seek(0)
    c = torch.load(buf, weights_only=False)
    c.reseed(9)
    a.reseed(9)
    torch.testing.assert_close(a.matvec(x, t=100.0), c.matvec(x, t=100.0), rtol=0, atol=0)


def test_same_seed_same_numbers(generator):
    w = torch.randn(10, 12, generator=generator)
    x = torch.rand(3, 12, generator=generator)
    ys = []
    for _ in range(2):
        xbar = Crossbar(devices.get("reram"), CrossbarConfig(), seed=5).program(w).calibrate(x)
        ys.append(xbar.matvec(x, t=10.0))
    assert torch.equal(ys[0], ys[1])


class NaNDevice(Ideal):
    name = "nan-test"

    def read(self, state, t, generator):
        return state.value * float("nan")


def test_errors_appear_when_built_and_used(generator):
    with pytest.raises(ValueError, match="self-test with device 'nan-test'"):
        Crossbar(NaNDevice(), CrossbarConfig.ideal())
    xbar = Crossbar(devices.get("ideal"), CrossbarConfig())
    with pytest.raises(RuntimeError, match="not programmed"):
        xbar.matvec(torch.ones(3))
    with pytest.raises(ValueError, match="floating \\(N, K\\) matrix"):
        xbar.program(torch.ones(3))
    xbar.program(torch.randn(4, 3, generator=generator))
    with pytest.raises(RuntimeError, match="ADC range is not calibrated"):
        xbar.matvec(torch.ones(3))
    with pytest.raises(ValueError, match="x must end in K=3"):
        xbar.matvec(torch.ones(5))
    with pytest.raises(ValueError, match="x of shape \\(K,\\) or \\(K, B\\)"):
        xbar @ torch.ones(3, 2, 2)
    cal = CrossbarConfig(dac=DACConfig(range_mode="calibrated"), adc=ADCConfig(range_mode="fixed"))
    xbar = Crossbar(devices.get("ideal"), cal).program(torch.randn(4, 3, generator=generator))
    with pytest.raises(RuntimeError, match="DAC range is not calibrated"):
        xbar.matvec(torch.ones(3))


def test_fixed_and_calibrated_ranges(generator):
    w = torch.randn(16, 32, generator=generator)
    x = torch.rand(64, 32, generator=generator)
    ref = x @ w.t()
    fixed = CrossbarConfig.ideal(
        dac=DACConfig(bits=8, range_mode="fixed", range_value=1.0),
        adc=ADCConfig(bits=8, range_mode="fixed", full_scale=12.0),
    )
    tile = CrossbarConfig.ideal(
        dac=DACConfig(bits=8, range_mode="calibrated"), adc=ADCConfig(bits=8, scope="tile")
    )
    for cfg in (fixed, tile):
        xbar = Crossbar(devices.get("ideal"), cfg).program(w).calibrate(x)
        assert rel_err(xbar.matvec(x), ref) < 0.05


def test_config_errors():
    from devices.validation import ConfigError

    with pytest.raises(ConfigError, match="CrossbarConfig.mapping must be 'differential'"):
        CrossbarConfig(mapping="offset", n_slices=2, slice_bits=4)
    with pytest.raises(ConfigError, match="CrossbarConfig.slice_bits must be an integer"):
        CrossbarConfig(n_slices=2)
    with pytest.raises(ConfigError, match="CrossbarConfig.tile_cols must be at least 4"):
        CrossbarConfig(tile_cols=3, n_slices=2, slice_bits=2)
    with pytest.raises(
        ConfigError, match="DACConfig.bits must be an integer when mode='bit-serial'"
    ):
        DACConfig(bits=None, mode="bit-serial")
    with pytest.raises(ConfigError, match="ADCConfig.bits must be"):
        ADCConfig(bits=0)
    with pytest.raises(ConfigError, match="CostConfig.charge_recovery must be"):
        dataclasses.replace(CrossbarConfig().cost, charge_recovery=1.0)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_runs_on_cuda(generator):
    w = torch.randn(300, 270, device="cuda")
    x = torch.rand(40, 270, device="cuda")
    for name in devices.names():
        gen = torch.Generator(device="cuda").manual_seed(0)
        xbar = Crossbar(devices.get(name), CrossbarConfig(ir_drop="fast")).program(w, gen)
        y = xbar.calibrate(x).matvec(x, t=3600.0)
        assert y.device.type == "cuda" and torch.isfinite(y).all()
    ideal = Crossbar(devices.get("ideal"), CrossbarConfig.ideal()).program(w)
    assert rel_err(ideal.matvec(x), x @ w.t()) < 1e-5
