"""The fused forward of ``Crossbar.matvec`` against the step-by-step reference path.

The fused path (one matmul with the per-read signed matrix in ADC steps per DAC code, then
elementwise noise, ADC, scales) must give the reference path's numbers for the same read
and the same noise draw: to float rounding without a quantising ADC, and with one up to an
ADC code that flips where a signal sits on a rounding boundary to within float rounding
(a fraction ~1e-5 of the conversions). Its per-read cache must follow every change of the
cells, the read, the ranges and the config. These tests pin the torch draw (the C kernel of
``crossbar.fastnoise`` draws other normals; ``test_fastnoise.py`` covers it).
"""

from __future__ import annotations

import dataclasses

import pytest
import torch

import devices
from crossbar import ADCConfig, Crossbar, CrossbarConfig, DACConfig

DAY = 86400.0


@pytest.fixture(autouse=True)
def _torch_draw(monkeypatch):
    """The fused path with torch's ``randn``, so that it draws what the reference path draws."""
    monkeypatch.setenv("NEURO_COSIM_NO_CEXT", "1")


CONFIGS = {
    "default": {},
    "adc-tile": dict(adc=ADCConfig(scope="tile")),
    "adc-fixed": dict(adc=ADCConfig(range_mode="fixed", full_scale=8.0)),
    "dac-calibrated": dict(dac=DACConfig(range_mode="calibrated")),
    "dac-fixed": dict(dac=DACConfig(range_mode="fixed", range_value=0.8)),
    "offset": dict(mapping="offset"),
    "sliced": dict(n_slices=2, slice_bits=4),
    "small-tiles": dict(tile_rows=64, tile_cols=32),
    "per-call": dict(read_noise_mode="per-call"),
    "no-comp": dict(drift_compensation=False),
    "weight-tile": dict(weight_scaling="tile"),
    "ideal-adc": dict(adc=ADCConfig(bits=None)),
    "ideal-dac": dict(dac=DACConfig(bits=None)),
}


def _crossbar(cfg: CrossbarConfig, n: int, k: int, gen: torch.Generator, device="pcm"):
    w = torch.randn(n, k, generator=gen, dtype=torch.float64) / k**0.5
    x = torch.rand(64, k, generator=gen, dtype=torch.float64) * 2 - 0.5
    xbar = Crossbar(devices.get(device), cfg).program(w, gen).calibrate(x)
    return xbar, x


def _both(xbar: Crossbar, x: torch.Tensor, t: float, seed: int):
    """Fused and reference outputs for the same read and the same noise generator state."""
    g, alpha = xbar._read_at(t, torch.Generator().manual_seed(seed), explicit=True)
    y_fast = xbar._fast_matvec(x, g, alpha, torch.Generator().manual_seed(seed + 1))
    y_ref = xbar._reference_matvec(x, g, alpha, torch.Generator().manual_seed(seed + 1))
    return y_fast, y_ref


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_fused_path_equals_the_reference_path_of_the_same_draw(name, generator):
    cfg = CrossbarConfig(**CONFIGS[name])
    xbar, x = _crossbar(cfg, 200, 300, generator)  # padded tiles on both sides
    assert xbar._fast_ok
    y_fast, y_ref = _both(xbar, x, DAY, seed=7)
    assert y_fast.shape == y_ref.shape
    # One ADC step in output units bounds a flipped code: FS/2^(b-1) x scale / (gain·V)
    # x drift factor x input range, the largest over tiles and columns.
    _, _, post, _ = xbar._fast_operands(*xbar._read_at(DAY, generator, explicit=True))
    r = xbar._fast_dac(x)[1]
    lsb = float(post.abs().max() * (r.abs().max() if r.dim() else r))
    diff = (y_fast - y_ref).abs()
    exact = diff <= 1e-9 * y_ref.abs().max()
    # Flips: a code within ~1e-15 relative of a rounding boundary (float64): none expected
    # in 12,800 conversions per tile; allow 1e-3 of the outputs.
    assert float((~exact).double().mean()) <= 1e-3
    assert float(diff.max()) <= 1.01 * lsb


@pytest.mark.parametrize("name", ["default", "sliced", "offset"])
def test_fused_path_without_quantisers_matches_to_float_rounding(name, generator):
    # No ADC rounding: every output equals the reference within float32 rounding (1e-6).
    over = dict(CONFIGS[name], adc=ADCConfig(bits=None), dac=DACConfig(bits=None))
    cfg = CrossbarConfig(**over)
    w = torch.randn(256, 512, generator=generator) / 512**0.5
    x = torch.rand(128, 512, generator=generator)
    xbar = Crossbar(devices.get("pcm"), cfg).program(w, generator).calibrate(x)
    y_fast, y_ref = _both(xbar, x, DAY, seed=3)
    torch.testing.assert_close(y_fast, y_ref, rtol=1e-6, atol=1e-6 * float(y_ref.abs().max()))


def test_float32_default_layer_flips_only_boundary_codes(generator):
    # The benchmark's layer in float32: rounding differs at ~1e-7 relative, so a code flips
    # only for signals within ~1e-7·|a| of a boundary (|a| <= 128 steps): < 1e-4 of them.
    w = torch.randn(256, 512, generator=generator) / 512**0.5
    x = torch.rand(256, 512, generator=generator)
    xbar = Crossbar(devices.get("pcm"), CrossbarConfig()).program(w, generator).calibrate(x)
    y_fast, y_ref = _both(xbar, x, DAY, seed=11)
    diff = (y_fast - y_ref).abs()
    close = diff <= 1e-5 * y_ref.abs().max()
    assert float((~close).float().mean()) < 1e-4


def test_matvec_takes_the_fused_path_and_caches_its_operands(generator):
    xbar, x = _crossbar(CrossbarConfig(), 64, 96, generator)
    y1 = xbar.matvec(x, t=DAY)
    cache = xbar._read_cache
    assert cache is not None and cache[4] is not None  # operands kept with the read
    w_ops = cache[4][0]
    y2 = xbar.matvec(x, t=DAY)
    assert xbar._read_cache[4][0] is w_ops  # reused, not rebuilt
    # Same read, fresh output noise only: close but not equal.
    assert not torch.equal(y1, y2)
    assert float((y1 - y2).abs().max()) < 0.1 * float(y1.abs().max())


def _noise_free_reads(**over) -> CrossbarConfig:
    """Output noise off, so that two MVMs on one read are equal."""
    return CrossbarConfig(adc=ADCConfig(out_noise=0.0), **over)


def test_cache_follows_reprogram_redraw_reseed_time_and_calibration(generator):
    xbar, x = _crossbar(_noise_free_reads(), 64, 96, generator)
    y = xbar.matvec(x, t=DAY)
    assert torch.equal(xbar.matvec(x, t=DAY), y)  # one read per read time
    xbar.redraw()
    y_redraw = xbar.matvec(x, t=DAY)
    assert not torch.equal(y_redraw, y)
    xbar.reseed(123)
    y_reseed = xbar.matvec(x, t=DAY)
    assert not torch.equal(y_reseed, y_redraw)
    y_later = xbar.matvec(x, t=30 * DAY)
    assert not torch.equal(y_later, y_reseed)
    assert xbar._read_cache[0][0] == 30 * DAY
    xbar.reprogram(torch.Generator().manual_seed(99))
    assert xbar._read_cache is None
    xbar.calibrate(x)
    y_new = xbar.matvec(x, t=30 * DAY)
    assert not torch.equal(y_new, y_later)
    xbar.matvec(x, t=30 * DAY)
    xbar.calibrate(x * 0.5)  # new ranges: the operands (ADC steps) must be rebuilt
    assert xbar._read_cache is None


def test_cache_follows_a_new_config_object(generator):
    dac = DACConfig(range_mode="fixed", range_value=1.5)  # one range: codes show the ADC
    xbar, x = _crossbar(_noise_free_reads(dac=dac), 64, 96, generator)  # one row tile
    y8 = xbar.matvec(x, t=DAY)
    xbar.config = dataclasses.replace(xbar.config, adc=ADCConfig(bits=3, out_noise=0.0))
    y3 = xbar.matvec(x, t=DAY)  # the cached read belongs to the old config: read anew
    assert xbar._read_cache[3] is xbar.config
    assert not torch.equal(y3, y8)
    # A 3-bit ADC gives at most 8 levels per column (one tile, one input range).
    levels = max(len(torch.unique(y3[:, j])) for j in range(y3.shape[1]))
    assert levels <= 8 < max(len(torch.unique(y8[:, j])) for j in range(y8.shape[1]))


def test_cache_follows_load_state_dict(generator):
    xbar, x = _crossbar(_noise_free_reads(), 64, 96, generator)
    other, _ = _crossbar(_noise_free_reads(), 64, 96, torch.Generator().manual_seed(5))
    other.calibrate(x)
    other.matvec(x, t=DAY)  # measures its drift reference (a buffer of the state dict)
    xbar.matvec(x, t=DAY)
    xbar.load_state_dict(other.state_dict())
    assert xbar._read_cache is None
    xbar.reseed(other.seed)
    other.reseed(other.seed)
    torch.testing.assert_close(xbar.matvec(x, t=DAY), other.matvec(x, t=DAY))


def test_per_call_mode_reads_anew_on_every_call(generator):
    xbar, x = _crossbar(_noise_free_reads(read_noise_mode="per-call"), 64, 96, generator)
    y1 = xbar.matvec(x, t=DAY)
    y2 = xbar.matvec(x, t=DAY)
    assert xbar._read_cache is None
    assert not torch.equal(y1, y2)  # a fresh read (read noise) on each call


def test_explicit_generator_reads_anew_and_is_reproducible(generator):
    xbar, x = _crossbar(CrossbarConfig(), 64, 96, generator)
    xbar.matvec(x, t=DAY)  # measures the drift reference once
    a = xbar.matvec(x, t=DAY, generator=torch.Generator().manual_seed(4))
    b = xbar.matvec(x, t=DAY, generator=torch.Generator().manual_seed(4))
    assert torch.equal(a, b)


@pytest.mark.parametrize(
    "over",
    [dict(dac=DACConfig(bits=4, mode="bit-serial")), dict(ir_drop="fast")],
    ids=["bit-serial", "ir-drop"],
)
def test_other_paths_take_the_reference_path(over, generator):
    xbar, x = _crossbar(CrossbarConfig(**over), 32, 48, generator)
    assert not xbar._fast_ok
    gen = torch.Generator().manual_seed(1)
    y = xbar.matvec(x, t=DAY, generator=gen)
    assert y.shape == (64, 32) and bool(torch.isfinite(y).all())


def test_capacitive_cells_take_the_reference_path(generator):
    xbar, x = _crossbar(CrossbarConfig(), 32, 48, generator, device="memcap")
    assert not xbar._fast_ok
    assert bool(torch.isfinite(xbar.matvec(x, t=DAY)).all())


@pytest.mark.parametrize("name", ["default", "sliced", "offset", "adc-tile"])
def test_drift_reference_readout_without_matmul_equals_the_reference(name, generator, monkeypatch):
    # One-hot inputs read one row of signed cells each: the readout skips the identity
    # matmul; same noise draws, so equal to float rounding (1 ulp of float32 in the mean).
    xbar, x = _crossbar(CrossbarConfig(**CONFIGS[name]), 200, 300, generator)
    xbar = xbar.float()
    g = xbar._read(DAY, torch.Generator().manual_seed(1))
    assert xbar._fast_ok
    fast = xbar._readout(g, torch.Generator().manual_seed(2))
    monkeypatch.setattr(Crossbar, "_fast_ok", property(lambda self: False))
    ref = xbar._readout(g, torch.Generator().manual_seed(2))
    torch.testing.assert_close(fast, ref, rtol=1e-6, atol=0.0)


def test_all_zero_input_vectors_match_the_reference(generator):
    # A vector (or a row tile of it) that is all zero: the fused path's DAC range treats it
    # as the reference path's does (whatever that treatment is).
    xbar, x = _crossbar(CrossbarConfig(), 64, 300, generator)
    x = x.clone()
    x[0] = 0.0
    x[1, :256] = 0.0
    y_fast, y_ref = _both(xbar, x, DAY, seed=5)
    torch.testing.assert_close(y_fast[:2], y_ref[:2], rtol=1e-9, atol=1e-12)


def test_shape_and_tile_map_follow_reprogramming(generator):
    xbar, _ = _crossbar(CrossbarConfig(), 64, 96, generator)
    assert xbar.shape == (64, 96) and xbar.tile_map.n_in == 96
    xbar.program(torch.randn(40, 300, generator=generator))
    assert xbar.shape == (40, 300) and xbar.tile_map.tiles_r == 2
    xbar.config = dataclasses.replace(xbar.config, tile_rows=64)
    assert xbar.tile_map.tiles_r == 5


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_fused_path_on_cuda_equals_the_reference_path():
    # Untested in this release (no GPU was available): the fused path on a CUDA device,
    # against the reference path of the same read and draw, as on the CPU.
    gen = torch.Generator(device="cuda").manual_seed(0)
    w = torch.randn(300, 520, device="cuda", generator=gen) / 520**0.5
    x = torch.rand(128, 520, device="cuda", generator=gen)
    xbar = Crossbar(devices.get("pcm"), CrossbarConfig()).program(w, gen).calibrate(x)
    g, alpha = xbar._read_at(DAY, gen, explicit=True)
    y_fast = xbar._fast_matvec(x, g, alpha, torch.Generator(device="cuda").manual_seed(1))
    y_ref = xbar._reference_matvec(x, g, alpha, torch.Generator(device="cuda").manual_seed(1))
    close = (y_fast - y_ref).abs() <= 1e-5 * y_ref.abs().max()
    assert float((~close).float().mean()) < 1e-3
    assert xbar.matvec(x, t=DAY).device.type == "cuda"


def test_gradient_through_the_fused_path_equals_the_reference(generator):
    # The input range of a dynamic DAC carries the gradient (codes and ADC round to zero
    # gradient); both paths must let autograd through and agree.
    xbar, x = _crossbar(_noise_free_reads(), 64, 300, generator)
    g, alpha = xbar._read_at(DAY, torch.Generator().manual_seed(1), explicit=True)
    grads = []
    for fn in (xbar._fast_matvec, xbar._reference_matvec):
        xg = x.clone().requires_grad_()
        fn(xg, g, alpha, torch.Generator().manual_seed(2)).square().sum().backward()
        grads.append(xg.grad)
    assert float(grads[0].abs().sum()) > 0
    torch.testing.assert_close(grads[0], grads[1], rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("name", ["default", "dac-fixed", "sliced"])
def test_a_small_call_gives_the_torch_paths_numbers(name, generator, monkeypatch):
    # A call with few tile outputs (batch 1) skips the chunking and the C kernel: the same
    # DAC, draw and elementwise ops as the torch path in one chunk, so the same numbers.
    import copy

    import crossbar.core

    monkeypatch.setenv("NEURO_COSIM_NO_CEXT", "1")
    xbar, x = _crossbar(CrossbarConfig(**CONFIGS[name]), 20, 300, generator)
    x = x[:3]
    assert xbar._fast_ok  # 2 row tiles x 3 vectors x at most 20 columns x slices: small
    twin = copy.deepcopy(xbar)
    y_small = xbar.matvec(x, DAY)
    monkeypatch.setattr(crossbar.core, "_SMALL_CALL", 0)
    assert torch.equal(y_small, twin.matvec(x, DAY))


@pytest.mark.parametrize("name", ["default", "dac-fixed", "sliced"])
def test_chunked_batches_equal_the_reference_path(name, generator, monkeypatch):
    # Large batches run in chunks of vectors (elementwise passes in cache); the noise is
    # still drawn in one piece, so the numbers stay those of the reference path.
    import crossbar.core

    monkeypatch.setattr(crossbar.core, "_FUSED_CHUNK", 5000)  # chunks of 4-9 vectors here
    monkeypatch.setattr(crossbar.core, "_SMALL_CALL", 0)  # chunked even though small
    monkeypatch.setattr(crossbar.core, "_FUSED_MIN_VECTORS", 1)
    xbar, x = _crossbar(CrossbarConfig(**CONFIGS[name]), 200, 300, generator)
    y_fast, y_ref = _both(xbar, x, DAY, seed=9)
    close = (y_fast - y_ref).abs() <= 1e-9 * y_ref.abs().max()
    assert float((~close).double().mean()) <= 1e-3
