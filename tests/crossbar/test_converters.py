"""DAC and ADC quantisers against the theory of the uniform quantiser (error variance Δ²/12)."""

from __future__ import annotations

import pytest
import torch

from crossbar.converters import adc_quantize, adc_step, dac_bit_planes, dac_quantize, dac_step

N = 200_000
# The sample variance of N uniform errors has relative standard error sqrt(0.8 / N) ≈ 0.2 %
# (kurtosis of the uniform law is 1.8): the brief's 10 % bound is far outside the noise.


@pytest.mark.parametrize("bits", [3, 6, 8])
def test_dac_error_variance_is_delta_squared_over_12(bits, generator):
    r = 2.0
    x = torch.rand(N, generator=generator, dtype=torch.float64) * 2 * r - r
    err = dac_quantize(x, torch.tensor(r, dtype=torch.float64), bits) * r - x
    delta = dac_step(r, bits)
    assert err.abs().max() <= delta / 2 + 1e-12
    assert float(err.var()) == pytest.approx(delta**2 / 12, rel=0.10)


@pytest.mark.parametrize("bits", [4, 8, 10])
def test_adc_error_variance_is_delta_squared_over_12(bits, generator):
    fs = 3e-6
    i = (torch.rand(N, generator=generator, dtype=torch.float64) * 2 - 1) * fs * 0.999
    err = adc_quantize(i, torch.tensor(fs, dtype=torch.float64), bits) - i
    delta = adc_step(fs, bits)
    assert float(err.var()) == pytest.approx(delta**2 / 12, rel=0.10)


def test_adc_clips_to_its_range_and_none_is_ideal():
    fs = torch.tensor(1.0)
    out = adc_quantize(torch.tensor([-5.0, 5.0, 0.3]), fs, 4)
    assert out[0] == -1.0 and out[1] == pytest.approx(1.0 - 1.0 / 8)
    x = torch.tensor([12.3, -7.0])
    assert torch.equal(adc_quantize(x, fs, None), x)


def test_dac_bit_planes_recombine_to_the_quantised_input(generator):
    u = dac_quantize(torch.randn(50, 7, generator=generator), torch.tensor(2.0), 6)
    planes, w = dac_bit_planes(u, 6)
    assert planes.shape == (6, 50, 7)
    assert set(planes.unique().tolist()) <= {-1.0, 0.0, 1.0}
    torch.testing.assert_close(torch.tensordot(w, planes, dims=1), u, rtol=0, atol=1e-6)
