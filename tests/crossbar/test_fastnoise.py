"""The C kernel of the fused forward (``crossbar.fastnoise``) and its torch fallback.

The kernel's normals must be standard normals (moments, a Kolmogorov-Smirnov test, the 4σ
and 5σ tail frequencies, on enough samples that a 1 % error of the std is > 10 standard
errors); the fused conversion must equal torch's composition where no noise is drawn, and
agree with the torch path in distribution where it is; the same generator state must give
the same output, chunks the same as one piece; and everything must work, on torch, when
the kernel cannot be built or is switched off.
"""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch
from scipy import stats

import devices
from crossbar import ADCConfig, Crossbar, CrossbarConfig, DACConfig, fastnoise
from devices import cext

DAY = 86400.0
needs_cext = pytest.mark.skipif(not fastnoise.available(), reason=fastnoise.reason())


@pytest.fixture(autouse=True)
def _no_small_call_lane(monkeypatch):
    """The small layers here take the kernel too (small calls otherwise skip it)."""
    import crossbar.core

    monkeypatch.setattr(crossbar.core, "_SMALL_CALL", 0)


def _layer(cfg: CrossbarConfig, gen: torch.Generator, n: int = 300, k: int = 520, b: int = 96):
    w = torch.randn(n, k, generator=gen) / k**0.5
    x = torch.rand(b, k, generator=gen) * 2 - 0.5
    return Crossbar(devices.get("pcm"), cfg).program(w, gen).calibrate(x), x


@needs_cext
def test_normals_have_standard_moments_ks_and_tails():
    n = 1 << 22
    z = fastnoise.normal(n, torch.Generator().manual_seed(1)).double()
    assert z.dtype == torch.float64 and z.shape == (n,)
    assert bool(torch.isfinite(z).all())
    # Standard errors of the sample mean, std, skewness and excess kurtosis of a normal:
    # 1/sqrt(n), 1/sqrt(2n), sqrt(6/n), sqrt(24/n); a 1 % error of the std is 29 of them.
    assert abs(float(z.mean())) < 5 / math.sqrt(n)
    assert abs(float(z.std()) - 1.0) < 5 / math.sqrt(2 * n)
    zn = z.numpy()
    assert abs(stats.skew(zn)) < 5 * math.sqrt(6 / n)
    assert abs(stats.kurtosis(zn)) < 5 * math.sqrt(24 / n)
    assert stats.kstest(zn[: 1 << 21], "norm").pvalue > 1e-3


@needs_cext
def test_normal_tail_frequencies():
    gen = torch.Generator().manual_seed(2)
    ks = torch.tensor([3.0, 4.0, 5.0])
    counts = torch.zeros(3, dtype=torch.int64)
    n, zmax = 0, 0.0
    for _ in range(8):  # 2^25 draws in all, P(|z| > 5) = 5.7e-7: 19 expected
        z = fastnoise.normal(1 << 22, gen).abs()
        counts += (z[:, None] > ks).sum(0)
        n, zmax = n + z.numel(), max(zmax, float(z.max()))
    for k, count in zip(ks.tolist(), counts.tolist(), strict=True):
        expect = n * 2 * stats.norm.sf(k)
        assert abs(count - expect) < 5 * math.sqrt(expect), (k, count, expect)  # Poisson 5 sd
    assert zmax < math.sqrt(64 * math.log(2)) + 1e-3  # the 2^-32 floor of U1


@needs_cext
def test_normals_are_reproducible_and_advance_the_generator_by_one_draw():
    gen = torch.Generator().manual_seed(3)
    a = fastnoise.normal(1000, gen)
    b = fastnoise.normal(1000, gen)
    assert not torch.equal(a, b)
    assert torch.equal(a, fastnoise.normal(1000, torch.Generator().manual_seed(3)))
    ref = torch.Generator().manual_seed(3)
    fastnoise.draw_seed(ref)
    fastnoise.draw_seed(ref)
    assert torch.equal(gen.get_state(), ref.get_state())  # one int64 per call
    # a shorter draw is the start of a longer one from the same state
    assert torch.equal(fastnoise.normal(100, torch.Generator().manual_seed(3)), a[:100])


@needs_cext
def test_kernel_adds_independent_standard_normals_per_vector_and_tile():
    """Signal 0, ideal ADC, unit scales: the output is the draw itself (two row tiles, so
    each output is the sum of two). Vectors are seeded by index: neighbours and tiles must
    be uncorrelated."""
    tr, b, m = 2, 4096, 128
    noise = torch.ones(tr, 1, m)
    post = torch.stack([torch.ones(1, m), torch.full((1, m), 1e3)])  # tile 1 scaled up
    out = torch.empty(b, m)
    f = fastnoise.fused_adc(noise, post, None, 1, torch.Generator().manual_seed(8))
    f(torch.zeros(tr, b, m), torch.tensor(1.0), out)
    # out = e0 + 1000 e1: the rounding of e0 is negligible; split by the scale
    e1 = (out / 1e3).double()
    n = out.numel()
    assert abs(float(e1.std()) - math.sqrt(1 + 1e-6)) < 5 / math.sqrt(2 * n)
    assert stats.kstest(e1.flatten().numpy(), "norm", args=(0, math.sqrt(1 + 1e-6))).pvalue > 1e-3
    # tile 0 alone: a second call with tile 1 silenced
    post0 = torch.stack([torch.ones(1, m), torch.zeros(1, m)])
    g = fastnoise.fused_adc(noise, post0, None, 1, torch.Generator().manual_seed(8))
    e0 = g(torch.zeros(tr, b, m), torch.tensor(1.0), torch.empty(b, m)).double()
    assert abs(float(e0.std()) - 1.0) < 5 / math.sqrt(2 * n)
    assert abs(float(e0.mean())) < 5 / math.sqrt(n)
    e1 = (out.double() - e0) / 1e3  # tile 1's draws exactly (to float rounding)
    bound = 5 / math.sqrt(n)  # standard error of a correlation of independent normals
    corr = torch.corrcoef(torch.stack([e0.flatten(), e1.flatten()]))[0, 1]
    assert abs(float(corr)) < bound  # tiles
    nb = torch.corrcoef(torch.stack([e0[:-1].flatten(), e0[1:].flatten()]))[0, 1]
    assert abs(float(nb)) < bound  # neighbouring vectors
    col = torch.corrcoef(torch.stack([e0[:, :-1].flatten(), e0[:, 1:].flatten()]))[0, 1]
    assert abs(float(col)) < bound  # neighbouring columns


QUIET = {
    "default": {},
    "dac-calibrated": dict(dac=DACConfig(range_mode="calibrated")),
    "ideal-adc": dict(adc=ADCConfig(bits=None, out_noise=0.0)),
    "sliced": dict(n_slices=2, slice_bits=4),
    "small-tiles": dict(tile_rows=64, tile_cols=32),
}


@needs_cext
@pytest.mark.parametrize("name", sorted(QUIET))
def test_kernel_without_noise_equals_the_torch_path(name, generator, monkeypatch):
    """No draw: the kernel's clamp, rounding (ties to even), scales, slices and row-tile sum
    are torch's composition, to float rounding (the products are taken in another order)."""
    over = dict(QUIET[name])
    adc = over.pop("adc", ADCConfig())
    cfg = CrossbarConfig(adc=dataclasses.replace(adc, out_noise=0.0), **over)
    xbar, x = _layer(cfg, generator)
    y_c = xbar.matvec(x, t=DAY)
    monkeypatch.setenv(fastnoise.ENV_DISABLE, "1")
    y_t = xbar.matvec(x, t=DAY)  # the same per-time read
    torch.testing.assert_close(y_c, y_t, rtol=1e-5, atol=1e-5 * float(y_t.abs().max()))


@needs_cext
def test_kernel_rounds_half_to_even_and_clamps_like_torch():
    sig = torch.tensor([[[-130.0, -128.5, -127.5, -0.5, 0.5, 1.5, 2.5, 126.5, 127.5, 300.0]]])
    post = torch.ones(1, 1, 10)
    out = torch.empty(1, 10)
    fastnoise.fused_adc(None, post, 128, 1, torch.Generator())(sig, torch.tensor(1.0), out)
    assert torch.equal(out[0], sig[0, 0].round().clamp(-128, 127))


@needs_cext
def test_chunks_draw_what_one_piece_draws(generator):
    tr, b, m = 3, 40, 96
    sig = torch.randn(tr, b, m, generator=generator) * 20
    noise = torch.rand(tr, 1, m, generator=generator) + 0.5
    post = torch.rand(tr, 1, m, generator=generator)
    r = torch.rand(b, tr, 1, generator=generator)
    one = torch.empty(b, m)
    fastnoise.fused_adc(noise, post, 128, 1, torch.Generator().manual_seed(5))(sig, r, one)
    parts = torch.empty(b, m)
    f = fastnoise.fused_adc(noise, post, 128, 1, torch.Generator().manual_seed(5))
    for sl in (slice(0, 7), slice(7, 30), slice(30, b)):
        f(sig[:, sl], r[sl], parts[sl])
    assert torch.equal(one, parts)


@needs_cext
def test_matvec_same_generator_same_output_and_calls_differ(generator):
    xbar, x = _layer(CrossbarConfig(), generator)
    xbar.matvec(x, t=DAY)  # measures the drift reference once
    a = xbar.matvec(x, t=DAY, generator=torch.Generator().manual_seed(4))
    b = xbar.matvec(x, t=DAY, generator=torch.Generator().manual_seed(4))
    assert torch.equal(a, b)
    c, d = xbar.matvec(x, t=DAY), xbar.matvec(x, t=DAY)  # one per-time read, fresh noise
    assert not torch.equal(c, d)


@needs_cext
@pytest.mark.parametrize("bits", [8, None], ids=["adc8", "ideal-adc"])
def test_kernel_and_torch_paths_agree_in_distribution(bits, generator, monkeypatch):
    """Output noise only (reads noise-free), 4x the default so that it spans several ADC
    codes: per output, the mean and std over repeated MVMs of the two paths agree, and the
    pooled residuals pass a two-sample Kolmogorov-Smirnov test."""
    cfg = CrossbarConfig(
        adc=ADCConfig(bits=bits, out_noise=0.24), programming_noise=False, read_noise=False
    )
    xbar, x = _layer(cfg, generator, n=64, k=300, b=16)
    reps = 400

    def runs() -> torch.Tensor:
        return torch.stack([xbar.matvec(x, t=DAY) for _ in range(reps)])  # (reps, B, N)

    yc = runs()
    monkeypatch.setenv(fastnoise.ENV_DISABLE, "1")
    yt = runs()
    sd = yt.std(0)
    assert float(sd.mean()) > 0
    # means: per output within 5 standard errors of their difference (pooled over outputs)
    se = torch.sqrt((yc.var(0) + yt.var(0)) / reps)
    z = ((yc.mean(0) - yt.mean(0)) / se.clamp(min=1e-30)).flatten()
    assert float(z.abs().mean()) < 1.0  # |N(0,1)| has mean 0.80
    # the std pooled over outputs: its relative standard error is ~1/sqrt(2·reps·outputs)
    rel = float(yc.std(0).mean() / sd.mean()) - 1.0
    assert abs(rel) < 5 / math.sqrt(2 * reps * sd.numel()) + 2e-3
    res_c = ((yc - yc.mean(0)) / sd).flatten().numpy()
    res_t = ((yt - yt.mean(0)) / sd).flatten().numpy()
    assert stats.ks_2samp(res_c[::7], res_t[::7]).pvalue > 1e-3


def test_env_var_switches_the_kernel_off(generator, monkeypatch):
    monkeypatch.setenv(fastnoise.ENV_DISABLE, "1")
    assert not fastnoise.available()
    assert fastnoise.ENV_DISABLE in fastnoise.reason()
    assert not fastnoise.usable(torch.zeros(2))
    with pytest.raises(RuntimeError, match="fastnoise is not available: disabled by"):
        fastnoise.normal(10, generator)
    # the fused path then draws with torch: the reference path's numbers for the same draw
    xbar, x = _layer(CrossbarConfig(adc=ADCConfig(bits=None)), generator, n=40, k=60, b=8)
    g, alpha = xbar._read_at(DAY, torch.Generator().manual_seed(1), explicit=True)
    y_fast = xbar._fast_matvec(x, g, alpha, torch.Generator().manual_seed(2))
    y_ref = xbar._reference_matvec(x, g, alpha, torch.Generator().manual_seed(2))
    torch.testing.assert_close(y_fast, y_ref, rtol=1e-5, atol=1e-6)


@pytest.fixture
def unloaded(monkeypatch):
    """The kernel's extension as if not loaded yet (its state is restored afterwards)."""
    ext = fastnoise._EXT
    for attr in ("_lib", "_reason", "path"):
        monkeypatch.setattr(ext, attr, getattr(ext, attr))
    ext._lib = None
    monkeypatch.delenv(fastnoise.ENV_DISABLE, raising=False)
    return ext


def test_without_a_compiler_the_layer_runs_on_torch(generator, unloaded, monkeypatch):
    monkeypatch.setattr(cext, "compiler", lambda: None)
    assert not fastnoise.available()
    assert "no C compiler" in fastnoise.reason()
    assert not fastnoise.usable(torch.zeros(2))
    xbar, x = _layer(CrossbarConfig(), generator, n=40, k=60, b=8)
    y = xbar.matvec(x, t=DAY)
    assert y.shape == (8, 40) and bool(torch.isfinite(y).all())


def test_usable_only_for_float32_cpu_tensors_without_autograd():
    x = torch.zeros(4)
    if fastnoise.available():
        assert fastnoise.usable(x)
    assert not fastnoise.usable(x.double())
    xg = x.clone().requires_grad_()
    assert not fastnoise.usable(xg)
    with torch.no_grad():
        assert fastnoise.usable(xg) == fastnoise.available()


def test_scratch_is_this_threads_memory_reused():
    import threading

    a = fastnoise.scratch((2, 3, 4))
    assert a.shape == (2, 3, 4) and a.dtype == torch.float32 and a.is_contiguous()
    assert fastnoise.scratch((5, 4)).data_ptr() == a.data_ptr()
    big = fastnoise.scratch((2 * fastnoise.CHUNK_ELEMENTS + 1,))  # too big to keep
    assert big.numel() == 2 * fastnoise.CHUNK_ELEMENTS + 1
    assert fastnoise.scratch((7,)).data_ptr() == a.data_ptr()
    other = []
    t = threading.Thread(target=lambda: other.append(fastnoise.scratch((2, 3, 4)).data_ptr()))
    t.start()
    t.join()
    assert other[0] != a.data_ptr()


@needs_cext
def test_a_failed_allocation_raises(unloaded):
    class Lib:
        @staticmethod
        def fn_fused_adc_f32(*args):
            return -1

    f = fastnoise.fused_adc(None, torch.ones(1, 1, 4), 128, 1, torch.Generator())
    unloaded._lib = Lib()
    with pytest.raises(MemoryError, match="scratch buffer"):
        f(torch.zeros(1, 2, 4), torch.tensor(1.0), torch.empty(2, 4))
