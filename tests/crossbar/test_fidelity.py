"""Fidelity against the reference model (aihwkit) and the physics of the periphery.

Output-referred noise, drift compensation measured through the periphery (one factor per
tile), one read per read time, and time counted as ``t + t0``.
"""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch

import devices
from crossbar import ADCConfig, Crossbar, CrossbarConfig, DACConfig
from crossbar.nn import convert, set_time
from devices.base import DeviceState
from devices.ideal import Ideal

DAY = 86400.0


class UniformDrift(Ideal):
    """Test device: every cell drifts by the same factor ``((t + 20) / 20)^-0.1``."""

    name = "uniform-drift-test"

    def program(self, target, generator):
        return DeviceState(target.clone(), {})

    def read(self, state, t, generator):
        return state.value * ((t + 20.0) / 20.0) ** (-0.1)


def folded_normal_mean(a: torch.Tensor, sigma: float) -> torch.Tensor:
    """``E|a + n|`` for ``n ~ N(0, sigma²)``: the mean of a folded normal."""
    z = a / sigma
    phi = torch.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
    return sigma * 2 * phi + a * torch.erf(z / math.sqrt(2))


@pytest.mark.parametrize("mode, bits", [("pwm", None), ("bit-serial", 4)])
def test_output_noise_has_the_configured_std(mode, bits, generator):
    # y = one full-scale weight at full input; the noise is 0.06 x (Δg·V_read) per ADC
    # input, i.e. 0.06 in weight x input units; bit-serial adds one draw per plane,
    # weighted 2^j / (2^b - 1): std 0.06·sqrt(Σ 4^j) / 15 = 0.06·0.6146 for 4 bits.
    dac = DACConfig(bits=bits, mode=mode)
    cfg = CrossbarConfig.ideal(dac=dac, adc=ADCConfig(bits=None, out_noise=0.06))
    w = torch.tensor([[1.0, 0.0, 0.0, 0.0]], dtype=torch.float64)
    xbar = Crossbar(devices.get("ideal"), cfg).program(w)
    n = 20_000
    x = torch.tensor([1.0, 0.0, 0.0, 0.0], dtype=torch.float64).expand(n, 4)
    y = xbar.matvec(x, generator=generator)
    expected = 0.06 if bits is None else 0.06 * math.sqrt(sum(4**j for j in range(4))) / 15
    # std of n normal draws: relative SE 1/sqrt(2n) = 0.5 %; 5 SE.
    assert float(y.std()) == pytest.approx(expected, rel=5 / math.sqrt(2 * n))
    assert float(y.mean()) == pytest.approx(1.0, abs=5 * expected / math.sqrt(n))


def test_drift_compensation_is_measured_through_the_noisy_periphery(generator):
    # Every cell drifts by f; the one-hot readout of each (row, column) is |f·w + n| with
    # output noise n ~ N(0, 0.06²): the measured factor is E_0 / E_t with E = mean folded
    # normal, below the ideal 1/f because the noise floor does not drift (it under-corrects).
    dev = UniformDrift()
    w = torch.rand(128, 256, generator=generator, dtype=torch.float64) * 2 - 1
    t, sigma = 365 * DAY, 0.06
    f = ((t + 20.0) / 20.0) ** (-0.1)
    results = {}
    for noise in (0.0, sigma):
        cfg = CrossbarConfig.ideal(adc=ADCConfig(bits=None, out_noise=noise))
        cfg = dataclasses.replace(cfg, drift=True, drift_compensation=True)
        xbar = Crossbar(dev, cfg).program(w)
        g_t = xbar._read(t, None)
        results[noise] = float(xbar.drift_factor(g_t, generator).squeeze())
    assert results[0.0] == pytest.approx(1 / f, rel=1e-9)
    wn = w / w.abs().amax(1, keepdim=True)  # per-column scaling: max |w| -> g_max
    expected = float(
        folded_normal_mean(wn, sigma).mean() / folded_normal_mean(f * wn, sigma).mean()
    )
    # Each readout is a mean of 32,768 folded normals (noise std <= 0.06): SE 0.00033 on
    # means of 0.5 (t = 0) and 0.12 (one year): relative SE of the ratio 0.3 %; 5 SE.
    assert results[sigma] == pytest.approx(expected, rel=0.015)
    # It under-corrects: 1/f = 4.17, measured ~3.97 (the noise floor does not drift).
    assert results[sigma] < 0.97 / f


def test_drift_compensation_of_a_signed_column_that_sums_to_zero(generator):
    # A depthwise 3x3 kernel is one column of 9 signed weights; the old all-ones reference
    # read Σ(G+ − G−) ≈ 0 and divided by it (35-316 % output errors). The one-hot readout
    # averages |w|: with read and output noise its factor stays within a few % of the
    # noise-free one (the true mean drift of these cells).
    pcm = devices.get("pcm")
    w = torch.tensor([[1.0, -1.0, 0.5, -0.5, 0.25, -0.25, 0.8, -0.8, 0.0]])
    x = torch.rand(256, 9, generator=generator)
    clean = CrossbarConfig(adc=ADCConfig(bits=8, out_noise=0.0))
    for seed in range(8):
        xbar = Crossbar(pcm, clean, seed=seed).program(w)
        xbar.calibrate(x)
        exact = float(xbar._readout(xbar._read(0.0, None), None).squeeze())
        exact /= float(xbar._readout(xbar._read(DAY, None), None).squeeze())
        noisy = Crossbar(pcm, CrossbarConfig(), seed=seed).program(w).calibrate(x)
        gen = torch.Generator().manual_seed(seed)
        factor = float(noisy.drift_factor(noisy._read(DAY, gen), gen).squeeze())
        # 9 readouts of noise 0.06 (out) + ~1-4 % (1/f) against a mean |w| of 0.57: ~3 %.
        assert factor == pytest.approx(exact, rel=0.12)
        assert 1.3 < exact < 2.0  # mean drift of these cells at one day: 0.5-0.77


def test_the_cells_are_read_once_per_read_time(generator):
    pcm = devices.get("pcm")
    w = torch.rand(8, 32, generator=generator) - 0.5
    x = torch.rand(16, 32, generator=generator)
    cfg = CrossbarConfig(dac=DACConfig(bits=None), adc=ADCConfig(bits=None, out_noise=0.0))
    xbar = Crossbar(pcm, cfg, seed=3).program(w)
    y1, y2 = xbar.matvec(x, t=DAY), xbar.matvec(x[:5], t=DAY)
    torch.testing.assert_close(y1[:5], y2, rtol=0, atol=0)  # one read serves every batch
    xbar.redraw()
    assert not torch.equal(xbar.matvec(x, t=DAY), y1)  # a new evaluation redraws it
    per_call = Crossbar(pcm, dataclasses.replace(cfg, read_noise_mode="per-call"))
    per_call.program(w)
    assert not torch.equal(per_call.matvec(x, t=DAY), per_call.matvec(x, t=DAY))
    # set_time on a converted model redraws every crossbar's read.
    model = convert(torch.nn.Sequential(torch.nn.Linear(32, 8)), cfg, device_model=pcm)
    set_time(model, DAY)
    a = model(x)
    torch.testing.assert_close(model(x), a, rtol=0, atol=0)
    set_time(model, DAY)
    assert not torch.equal(model(x), a)


def test_time_zero_is_the_end_of_programming(generator):
    # aihwkit evaluates PCM drift at t + t0: t = 0 reads the programmed cells, t = 1 s has
    # drifted by (21/20)^-nu already (the old model read t <= t0 = 20 s as undrifted).
    pcm = devices.get("pcm")
    w = torch.rand(8, 32, generator=generator, dtype=torch.float64) - 0.5
    x = torch.rand(4, 32, generator=generator, dtype=torch.float64)
    cfg = CrossbarConfig.ideal(drift=True)
    xbar = Crossbar(pcm, cfg).program(w)
    torch.testing.assert_close(xbar.matvec(x, t=0.0), x @ w.t())
    ratio = float((xbar.matvec(x, t=1.0) / (x @ w.t())).median())
    # Without noise every cell has the mean nu in [0.049, 0.1]: each cell's factor is in
    # [0.99513, 0.99761]; a signed sum of them can leave that band only by cancellation.
    assert (21.0 / 20.0) ** (-0.1) - 1e-3 < ratio < (21.0 / 20.0) ** (-0.049) + 1e-4
    assert ratio < 0.999


def test_effective_weights_are_the_weights_the_cells_stand_for(generator):
    pcm = devices.get("pcm")
    w = torch.rand(70, 300, generator=generator, dtype=torch.float64) - 0.5  # 2 x 1 tiles
    ideal = Crossbar(devices.get("ideal"), CrossbarConfig.ideal()).program(w)
    torch.testing.assert_close(ideal.effective_weights(), w)
    cfg = CrossbarConfig.ideal(drift=True, drift_compensation=True, weight_scaling="tile")
    xbar = Crossbar(pcm, cfg).program(w)
    w_day = xbar.effective_weights(DAY)
    # Drift without noise, compensated per tile (one scale per tile): the tile's mean |w|
    # is restored exactly.
    for rows in (slice(0, 256), slice(256, 300)):
        assert float(w_day[:, rows].abs().mean()) == pytest.approx(
            float(w[:, rows].abs().mean()), rel=1e-9
        )
    x = torch.rand(5, 300, generator=generator, dtype=torch.float64)
    torch.testing.assert_close(xbar.matvec(x, t=DAY), x @ w_day.t())
