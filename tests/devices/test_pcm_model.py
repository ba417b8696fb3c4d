"""PCM against the published statistical model (Nandakumar 2018, Joshi 2020, aihwkit)."""

from __future__ import annotations

import math

import pytest
import torch

import devices
from devices.pcm import PCM, PCMConfig

HOUR, DAY, YEAR = 3600.0, 86400.0, 365.25 * 86400.0


@pytest.mark.parametrize("t", [HOUR, DAY, YEAR])
def test_mean_drift_at_g_max_follows_mean_nu(t, generator):
    # REFERENCES.md: at g_max, G(t)/G(t0) = (t/t0)^(-mu_nu), mu_nu = clip(0.0244, 0.049, 0.1)
    # = 0.049: about 0.78 (1 h), 0.66 (1 day), 0.50 (1 year). Devices draw nu ~ N(mu, 0.008),
    # whose mean factor is exp(sigma^2 ln^2(t/t0)/2) above the median curve (0.65 % at 1 year),
    # and 1/f read noise is on; the 2 % tolerance covers both (SE of the mean < 0.1 %).
    pcm = PCM(PCMConfig(prog_noise_scale=0.0))
    n = 10_000
    state = pcm.program(torch.full((n,), pcm.g_max), generator)
    ratio = pcm.read(state, t, generator).mean().item() / pcm.g_max
    expected = ((t + 20.0) / 20.0) ** (-0.049)  # aihwkit evaluates the drift at t + t0
    assert ratio == pytest.approx(expected, rel=0.02)
    assert {HOUR: 0.78, DAY: 0.66, YEAR: 0.50}[t] == pytest.approx(expected, abs=0.01)


@pytest.mark.parametrize("x", [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0])
def test_programming_noise_matches_polynomial(x, generator):
    # sigma_prog = 0.26348 + 1.9650 x - 1.1731 x^2 uS; 10k samples: the std's standard
    # error is 1/sqrt(2n) = 0.7 %, so 5 % is > 5 SE. aihwkit clips at 0 only, so the
    # cells aimed at g_max (x = 1) keep the full 1.055 uS spread and a mean at g_max.
    pcm = devices.get("pcm")
    n = 10_000
    state = pcm.program(torch.full((n,), x * 25e-6, dtype=torch.float64), generator)
    sigma_uS = 0.26348 + 1.9650 * x - 1.1731 * x * x
    assert state.value.std().item() * 1e6 == pytest.approx(sigma_uS, rel=0.05)
    assert state.value.mean().item() * 1e6 == pytest.approx(x * 25, abs=5 * sigma_uS / n**0.5)


def test_nu_is_per_device_and_kept_in_hidden(generator):
    pcm = devices.get("pcm")
    state = pcm.program(torch.full((20_000,), 12.5e-6), generator)
    nu = state.hidden["nu"]
    mu, sd = pcm.nu_stats(torch.tensor([12.5e-6]))
    # x = 0.5: mu = clip(-0.0155 ln 0.5 + 0.0244) = 0.049 (clipped), sd = clip(0.00277) = 0.008
    assert mu.item() == pytest.approx(0.049)
    assert sd.item() == pytest.approx(0.008)
    assert nu.mean().item() == pytest.approx(0.049, abs=5 * 0.008 / 20_000**0.5)
    assert nu.std().item() == pytest.approx(0.008, rel=5 / (2 * 20_000) ** 0.5)
    g1 = pcm.read(state, DAY, None)
    expected = state.value * ((DAY + 20.0) / 20.0) ** (-nu)
    torch.testing.assert_close(g1, expected)


def test_read_noise_std_follows_one_over_f(generator):
    pcm = PCM(PCMConfig(drift_scale=0.0))
    n = 20_000
    state = pcm.program(torch.full((n,), 12.5e-6, dtype=torch.float64), None)
    g = pcm.read(state, DAY, generator)
    q_s = min(0.0088 / 0.5**0.65, 0.2)
    sigma = 12.5e-6 * q_s * math.sqrt(math.log((DAY + 20.0 + 250e-9) / (2 * 250e-9)))
    assert g.std().item() == pytest.approx(sigma, rel=5 / (2 * n) ** 0.5)


def test_time_counts_from_the_end_of_programming_plus_t0(generator):
    # aihwkit PCMLikeNoiseModel.apply_drift_noise_to_conductance: t = t_inference + t_0.
    pcm = devices.get("pcm")
    state = pcm.program(torch.linspace(1e-6, 25e-6, 50), generator)
    torch.testing.assert_close(pcm.read(state, 0.0, None), state.value)
    nu = state.hidden["nu"]
    torch.testing.assert_close(pcm.read(state, 1.0, None), state.value * (21.0 / 20.0) ** (-nu))
    # Read noise is already there at t = 0: sigma = G Q_s sqrt(ln((t0 + t_read) / (2 t_read))).
    n = 20_000
    flat = pcm.program(torch.full((n,), 12.5e-6, dtype=torch.float64), None)
    g0 = pcm.read(flat, 0.0, generator)
    q_s = min(0.0088 / 0.5**0.65, 0.2)
    sigma = 12.5e-6 * q_s * math.sqrt(math.log((20.0 + 250e-9) / (2 * 250e-9)))
    assert g0.std().item() == pytest.approx(sigma, rel=5 / (2 * n) ** 0.5)


def test_drift_exponent_is_the_absolute_value_of_the_normal_draw():
    # aihwkit generate_drift_coefficients: nu = |mu + sigma z| (no mass at 0).
    pcm = devices.get("pcm")
    g = torch.full((3,), 1e-3 * 25e-6)  # x = 1e-3: mu = 0.1 (clip), sd = clip(0.0804) = 0.045
    z = torch.tensor([-3.0, 0.0, 1.0])
    mu, sd = pcm.nu_stats(g)
    assert sd[0].item() == pytest.approx(0.045)
    torch.testing.assert_close(pcm._nu(g, z), (mu + sd * z).abs())


def test_clip_g_max_option_clips_the_programming_noise(generator):
    # Clipping a N(g_max, 1.055 uS) draw at g_max: the std of max(X, 0) part of a normal is
    # sigma*sqrt((1 - 1/pi) / 2) = 0.584 sigma = 0.616 uS (the 0.62 uS).
    n = 20_000
    for clip, expected in ((False, 1.0554), (True, 1.0554 * math.sqrt((1 - 1 / math.pi) / 2))):
        pcm = devices.get("pcm", clip_g_max=clip)
        value = pcm.program(torch.full((n,), 25e-6, dtype=torch.float64), generator).value
        assert value.std().item() * 1e6 == pytest.approx(expected, rel=5 / (2 * n) ** 0.5 * 1.5)
        assert (value.max().item() > 25e-6) is not clip


def test_abrupt_reset_and_gradual_set(generator):
    pcm = devices.get("pcm")
    state = pcm.program(torch.full((5000,), 20e-6), None)
    reset = pcm.pulse(state, -1.0, generator)
    # RESET lands at g_min + |programming noise at x = 0| (0.26348 uS std, clipped at 0)
    assert reset.value.mean().item() < 0.3e-6
    up = pcm.pulse(reset, 10.0, None)
    assert (up.value > reset.value).all()
    assert pcm.update_model().depression == "reset"
    assert pcm.update_model().step_down(torch.tensor([0.7]), 1).item() == 0.0


def test_gradual_depression_option_uses_the_neurosim_row():
    pcm = devices.get("pcm", abrupt_reset=False)
    state = pcm.program(torch.full((10,), 20e-6), None)
    down = pcm.pulse(state, -1.0, None)
    assert (down.value < state.value).all() and (down.value > 15e-6).all()
    assert pcm.update_model().depression == "gradual"
