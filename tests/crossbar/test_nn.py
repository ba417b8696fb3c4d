"""crossbar.nn: analog layers match torch with ideal cells, convert keeps accuracy, saving works."""

from __future__ import annotations

import copy
import io

import pytest
import torch
from torch import nn

import devices
from crossbar import ADCConfig, CrossbarConfig
from crossbar.nn import AnalogConv2d, AnalogLinear, analog_layers, calibrate, convert, set_time


def test_convert_replaces_linear_and_conv_and_matches_torch(generator):
    torch.manual_seed(0)  # nn.init has no generator argument
    model = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1, stride=2),
        nn.ReLU(),
        nn.Conv2d(8, 8, 3, groups=2, bias=False, dilation=2),
        nn.Flatten(),
        nn.Linear(8 * 2 * 2, 5),
    )
    x = torch.randn(4, 3, 12, 12, generator=generator)
    analog = convert(model, CrossbarConfig.ideal(), device_model=devices.get("ideal"))
    assert isinstance(analog[0], AnalogConv2d) and isinstance(analog[2], AnalogConv2d)
    assert isinstance(analog[4], AnalogLinear) and isinstance(analog[1], nn.ReLU)
    assert isinstance(model[0], nn.Conv2d)  # the original is untouched
    torch.testing.assert_close(analog(x), model(x), rtol=1e-5, atol=1e-5)


@pytest.mark.slow  # trains mlp-digits into the session cache on first use (~1 min on 2 cores)
def test_ideal_conversion_keeps_mlp_digits_accuracy():
    from neuro import workloads
    from neuro.workloads import dataset_for, evaluate_accuracy, trained_model

    w = workloads.get("mlp-digits")
    tm = trained_model(w)
    x, y = dataset_for(w).tensors("test")
    x_cal, _ = dataset_for(w).tensors("train", limit=256)
    fp32 = evaluate_accuracy(tm.model, x, y)
    # Ideal device, ideal everything: the same network.
    exact = convert(tm.model, CrossbarConfig.ideal(), device_model=devices.get("ideal"))
    assert evaluate_accuracy(exact, x, y) >= 0.99 * fp32
    # Ideal device with 8-bit DAC/ADC (calibrated), no output noise: quantised, within 1 %.
    cfg = CrossbarConfig(adc=ADCConfig(out_noise=0.0))
    quant = convert(tm.model, cfg, device_model=devices.get("ideal"))
    calibrate(quant, x_cal)
    assert evaluate_accuracy(quant, x, y) >= 0.99 * fp32


def test_converted_model_round_trips_through_state_dict_and_torch_save(generator):
    torch.manual_seed(1)
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.Flatten(), nn.Linear(4 * 4 * 4, 3))
    x = torch.rand(6, 1, 6, 6, generator=generator)
    dev = devices.get("pcm")
    a = convert(model, CrossbarConfig(), device_model=dev, generator=generator, seed=1)
    calibrate(a, x)
    set_time(a, 3600.0)
    # A model converted with another programming seed, then loaded: identical cells.
    b = convert(model, CrossbarConfig(), device_model=dev, seed=99)
    b.load_state_dict(a.state_dict())
    set_time(b, 3600.0)
    buf = io.BytesIO()
    torch.save(a, buf)
    buf.seek(0)
    c = torch.load(buf, weights_only=False)
    for m in (a, b, c):
        for i, layer in enumerate(analog_layers(m)):
            for xbar in layer._crossbars():
                xbar.reseed(i)
    ya, yb, yc = a(x), b(x), c(x)
    assert torch.equal(ya, yb) and torch.equal(ya, yc)


@pytest.mark.parametrize("cext", ["0", "1"])
@pytest.mark.parametrize("mode", ["none", "exact"])
def test_matvec_rows_equals_matvec_of_all_rows_in_chunks_of_whole_units(
    cext, mode, generator, monkeypatch
):
    # The inputs made chunk by chunk (a conv's im2col) give matvec's numbers exactly: the
    # same read, the same noise draw (torch's or the C kernel's), the DAC per chunk.
    import crossbar.core
    from crossbar import Crossbar

    monkeypatch.setenv("NEURO_COSIM_NO_CEXT", cext)
    monkeypatch.setattr(crossbar.core, "_FUSED_CHUNK", 1000)  # 1000 // (2·32): 5 units of 3
    monkeypatch.setattr(crossbar.core, "_SMALL_CALL", 0)  # chunked even though small
    monkeypatch.setattr(crossbar.core, "_FUSED_MIN_VECTORS", 1)
    cfg = CrossbarConfig(ir_drop=mode, tile_rows=32, tile_cols=16)  # 2 row tiles, 3 col tiles
    x = torch.randn(60, 40, generator=generator)
    xbar = Crossbar(devices.get("pcm"), cfg, seed=3).program(
        torch.randn(20, 40, generator=generator)
    )
    xbar.calibrate(x)
    twin = copy.deepcopy(xbar)  # the same cells, ranges and generator state
    calls = []

    def rows(i, j):
        calls.append((i, j))
        return x[i:j]

    y_rows = xbar.matvec_rows(rows, 60, 86400.0, unit=3)
    y = twin.matvec(x, 86400.0)
    assert torch.equal(y_rows, y)
    assert calls == [(i, min(i + 15, 60)) for i in range(0, 60, 15)]


def test_analog_conv_equals_the_crossbars_on_the_whole_im2col(generator, monkeypatch):
    # The conv unfolds a few images at a time (Crossbar.matvec_rows); the numbers are those
    # of each group's crossbar applied to the im2col of the whole batch.
    import crossbar.core

    monkeypatch.setattr(crossbar.core, "_FUSED_CHUNK", 1100)  # 2 images per chunk here
    monkeypatch.setattr(crossbar.core, "_SMALL_CALL", 0)  # chunked even though small
    monkeypatch.setattr(crossbar.core, "_FUSED_MIN_VECTORS", 1)
    torch.manual_seed(0)
    conv = nn.Conv2d(4, 6, 3, stride=2, padding=1, dilation=2, groups=2, padding_mode="reflect")
    layer = convert(conv, CrossbarConfig(), device_model=devices.get("pcm"))
    x = torch.randn(7, 4, 13, 11, generator=generator)
    calibrate(layer, x)
    set_time(layer, 3600.0)
    for xbar in layer.crossbars:
        xbar.reseed(xbar.seed)  # a copy restarts its generator from the seed: so does this one
    twin = copy.deepcopy(layer)
    with torch.no_grad():
        y = layer(x)
        cols = nn.functional.unfold(
            nn.functional.pad(x, (1, 1, 1, 1), mode="reflect"), 3, dilation=2, stride=2
        ).transpose(1, 2)
        parts = []
        for g, xbar in enumerate(twin.crossbars):  # the same cells and generator states
            parts.append(xbar.matvec(cols[..., 18 * g : 18 * (g + 1)], 3600.0))
        ref = torch.cat(parts, -1).transpose(1, 2).reshape(y.shape) + twin.bias.view(1, -1, 1, 1)
    assert y.shape == (7, 6, 6, 5)
    assert torch.equal(y, ref)


@pytest.mark.parametrize(
    "k, s, d", [((3, 3), (1, 1), (1, 1)), ((3, 2), (2, 1), (1, 3)), ((1, 1), (2, 2), (1, 1))]
)
@pytest.mark.parametrize("channels_last", [False, True])
@pytest.mark.parametrize("strided", [True, False])  # kh·kw strided copies, or F.unfold (small)
def test_im2col_rows_equal_unfold(k, s, d, channels_last, strided, generator, monkeypatch):
    import crossbar.nn
    from crossbar.nn import _im2col

    monkeypatch.setattr(crossbar.nn, "_UNFOLD_MAX_ELEMENTS", 0 if strided else 10**9)

    x = torch.randn(3, 5, 11, 9, generator=generator)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    ref = nn.functional.unfold(x, k, d, 0, s)  # (b, C·kh·kw, L)
    out_hw = [(x.shape[2 + i] - d[i] * (k[i] - 1) - 1) // s[i] + 1 for i in range(2)]
    rows = _im2col(x.permute(0, 2, 3, 1), k, s, d, out_hw)
    assert torch.equal(rows, ref.transpose(1, 2).reshape(-1, ref.shape[1]))
