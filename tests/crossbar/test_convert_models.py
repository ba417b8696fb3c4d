"""Conversion of real models: every mapped layer matches torch with ideal cells, reports, options."""

from __future__ import annotations

import warnings

import pytest
import torch
from torch import nn

import devices
from crossbar import ADCConfig, CrossbarConfig
from crossbar.nn import (
    AnalogConv1d,
    AnalogConvTranspose2d,
    AnalogGRU,
    AnalogLinear,
    AnalogLSTM,
    AnalogMultiheadAttention,
    analog_layers,
    calibrate,
    convert,
    reprogram,
    set_time,
)

IDEAL = devices.get("ideal")
DAY = 86400.0


def _exact(model: nn.Module, *inputs, **kw):
    """Convert with ideal cells and periphery; outputs must match torch to float tolerance."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing mapped here may stay digital silently
        analog = convert(model, CrossbarConfig.ideal(), device_model=IDEAL)
    ref = model.eval()(*inputs, **kw)
    got = analog(*inputs, **kw)
    return analog, ref, got


def _close(a, b):
    if isinstance(a, tuple):
        for x, y in zip(a, b, strict=True):
            _close(x, y)
    elif a is None:
        assert b is None
    else:
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(
    "conv, shape",
    [
        (nn.Conv1d(4, 6, 3, stride=2, padding=1), (2, 4, 17)),
        (nn.Conv1d(4, 8, 5, padding="same", groups=2, padding_mode="circular"), (2, 4, 12)),
        (nn.Conv2d(6, 6, 3, padding=1, groups=6), (2, 6, 9, 9)),  # depthwise
        (nn.Conv2d(4, 8, 3, padding=1, groups=2, padding_mode="reflect"), (2, 4, 8, 8)),
        (nn.Conv2d(3, 5, (3, 2), dilation=(1, 2), padding="same"), (1, 3, 9, 8)),
        (nn.Conv2d(3, 5, (3, 2), stride=(2, 1), dilation=(1, 2), padding=(1, 0)), (1, 3, 9, 8)),
        (nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1), (2, 4, 5, 5)),
        (nn.ConvTranspose2d(4, 6, (3, 2), stride=(2, 3), groups=2, dilation=2), (2, 4, 4, 3)),
    ],
)
def test_convolutions_of_any_kind_match_torch(conv, shape, generator):
    x = torch.randn(*shape, generator=generator)
    analog, ref, got = _exact(conv, x)
    _close(got, ref)
    torch.testing.assert_close(analog.effective_weights(), conv.weight, rtol=1e-5, atol=1e-6)
    assert analog.conversion_report[0].placement == "analog"


@pytest.mark.parametrize("cls", [nn.LSTM, nn.GRU])
@pytest.mark.parametrize("batch_first, bidirectional", [(False, False), (True, True)])
def test_recurrent_gate_matrices_on_crossbars_match_torch(
    cls, batch_first, bidirectional, generator
):
    torch.manual_seed(0)
    rnn = cls(5, 7, num_layers=2, batch_first=batch_first, bidirectional=bidirectional)
    x = torch.randn(3, 6, 5, generator=generator)
    analog, ref, got = _exact(rnn, x)
    assert isinstance(analog, AnalogLSTM if cls is nn.LSTM else AnalogGRU)
    _close(got, ref)
    w = analog.effective_weights()
    torch.testing.assert_close(w["weight_hh_l1"], rnn.weight_hh_l1, rtol=1e-5, atol=1e-6)
    assert len(analog._crossbars()) == 2 * 2 * (2 if bidirectional else 1)
    # Unbatched input and a given initial state, as torch takes them.
    xu = torch.randn(4, 5, generator=generator)
    n = 2 * (2 if bidirectional else 1)
    h0 = torch.randn(n, 7, generator=generator)
    state = (h0, torch.zeros(n, 7)) if cls is nn.LSTM else h0
    _close(analog(xu, state), rnn(xu, state))


@pytest.mark.parametrize("batch_first", [False, True])
def test_attention_projections_on_crossbars_products_digital(batch_first, generator):
    torch.manual_seed(1)
    mha = nn.MultiheadAttention(16, 4, batch_first=batch_first)
    q = torch.randn(3, 5, 16, generator=generator)
    kv = torch.randn(3, 7, 16, generator=generator)
    if not batch_first:
        q, kv = q.transpose(0, 1), kv.transpose(0, 1)
    mask = torch.rand(5, 7, generator=generator) > 0.7
    mask[:, 0] = False
    kpm = torch.zeros(3, 7, dtype=torch.bool)
    kpm[1, -2:] = True
    analog, ref, got = _exact(mha, q, kv, kv, attn_mask=mask, key_padding_mask=kpm)
    assert isinstance(analog, AnalogMultiheadAttention)
    _close(got, ref)
    _close(analog(q, kv, kv, need_weights=False), mha(q, kv, kv, need_weights=False))
    w = analog.effective_weights()
    torch.testing.assert_close(w["in_proj_weight"], mha.in_proj_weight, rtol=1e-5, atol=1e-6)
    row = analog.conversion_report[0]
    assert row.crossbars == 4 and "softmax" in row.reason and "digital" in row.reason


def test_transformer_blocks_run_on_crossbars(generator):
    torch.manual_seed(2)
    layer = nn.TransformerEncoderLayer(16, 4, dim_feedforward=32, batch_first=True)
    enc = nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False)
    dec = nn.TransformerDecoderLayer(16, 4, dim_feedforward=32, batch_first=True)
    x = torch.randn(2, 6, 16, generator=generator)
    kpm = torch.zeros(2, 6, dtype=torch.bool)
    kpm[0, -1] = True
    for model, args in ((enc, (x,)), (dec, (x, x))):
        analog, ref, got = _exact(model, *args)
        _close(got, ref)
    analog, ref, got = _exact(enc, x, src_key_padding_mask=kpm)
    _close(got, ref)
    # With noisy cells the block is really analog: the fused fast path (which would read
    # the weights digitally) is off, so outputs differ from torch and move with time.
    pcm = convert(enc, CrossbarConfig(), device_model=devices.get("pcm"))
    calibrate(pcm, x)
    set_time(pcm, DAY)
    y_day = pcm(x)
    assert not torch.allclose(y_day, enc(x), atol=1e-3)
    assert len(analog_layers(pcm)) == 2 * 3  # per block: attention, linear1, linear2
    report = pcm.conversion_report
    assert {r.kind for r in report.analog()} == {"MultiheadAttention", "Linear"}
    assert {r.kind for r in report.digital()} == {"LayerNorm"}


def test_report_exclude_first_last_and_per_layer_configs(generator):
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3), nn.ReLU(), nn.BatchNorm2d(4), nn.Flatten(), nn.Linear(4 * 6 * 6, 10)
    )
    eight = CrossbarConfig(adc=ADCConfig(bits=8))
    four = CrossbarConfig(adc=ADCConfig(bits=4))
    analog = convert(model, eight, device_model=IDEAL, layer_configs={"4": four})
    assert analog[4].crossbar.config.adc.bits == 4 and analog[0].crossbars[0].config is eight
    rows = {r.name: r for r in analog.conversion_report}
    assert rows["0"].placement == "analog" and rows["2"].placement == "digital"
    assert "normalisation" in rows["2"].reason and rows["4"].weights == 1440
    text = str(analog.conversion_report)
    assert "2 analog layers (1,476 weights, 100.0 %), 1 digital" in text
    both = convert(model, eight, device_model=IDEAL, exclude=["first", "last"])
    assert both.conversion_report.analog() == []
    assert isinstance(both[0], nn.Conv2d) and isinstance(both[4], nn.Linear)
    assert [r.reason for r in both.conversion_report if r.name == "4"] == ["excluded by the caller"]
    with pytest.raises(
        ValueError, match=r"convert: 'fc\*' matches no convertible layer; they are: 0, 4"
    ):
        convert(model, eight, device_model=IDEAL, exclude=["fc*"])


def test_a_weight_layer_left_digital_is_never_silent():
    model = nn.Sequential(nn.Conv3d(1, 2, 3), nn.Flatten(), nn.LazyLinear(3))
    model(torch.zeros(1, 1, 4, 4, 4))  # materialise the lazy layer
    with pytest.warns(UserWarning, match=r"weight layers left digital: 0 \(Conv3d\)"):
        analog = convert(model, CrossbarConfig.ideal(), device_model=IDEAL)
    rows = {r.name: r for r in analog.conversion_report}
    assert rows["0"].placement == "digital" and "no crossbar mapping" in rows["0"].reason
    assert rows["2"].placement == "analog"


def test_effective_weights_and_reprogramming_without_converting(generator):
    torch.manual_seed(3)
    model = nn.Sequential(nn.Linear(32, 16), nn.ReLU(), nn.Conv1d(1, 2, 3)).requires_grad_(False)
    pcm = devices.get("pcm")
    analog = convert(model, CrossbarConfig(), device_model=pcm, generator=generator)
    layer = analog[0]
    assert isinstance(layer, AnalogLinear) and isinstance(analog[2], AnalogConv1d)
    w0 = layer.effective_weights(0.0)
    w_day = layer.effective_weights(DAY)  # noise-free read at one day, compensated
    # Programming noise of ~4 % of g_max per cell, around the true weights.
    rel = float((w0 - model[0].weight).norm() / model[0].weight.norm())
    assert 0.005 < rel < 0.2
    assert not torch.equal(w0, w_day)
    reprogram(analog, torch.Generator().manual_seed(99))
    w1 = layer.effective_weights(0.0)
    assert not torch.equal(w0, w1)  # fresh programming noise, same targets
    rel1 = float((w1 - model[0].weight).norm() / model[0].weight.norm())
    assert rel1 == pytest.approx(rel, rel=0.5)
    assert layer.crossbar.adc_fs is None  # calibrations cleared: calibrate again
    calibrate(analog, torch.rand(8, 1, 32))
    assert analog(torch.rand(4, 1, 32)).shape == (4, 2, 14)


def test_convtranspose_layer_is_analog_in_a_decoder(generator):
    model = nn.Sequential(nn.ConvTranspose2d(2, 3, 4, stride=2, padding=1), nn.ReLU())
    model.requires_grad_(False)
    analog = convert(model, CrossbarConfig(), device_model=devices.get("reram"))
    assert isinstance(analog[0], AnalogConvTranspose2d)
    x = torch.rand(2, 2, 5, 5, generator=generator)
    calibrate(analog, x)
    with torch.no_grad():
        y, ref = analog(x), model(x)
    assert y.shape == ref.shape == (2, 3, 10, 10)
    assert float((y - ref).norm() / ref.norm()) < 0.2


def test_every_analog_layer_class_defines_effective_weights():
    import inspect

    import crossbar.nn as cnn

    classes = [
        c
        for _, c in inspect.getmembers(cnn, inspect.isclass)
        if issubclass(c, cnn._AnalogBase) and not c.__name__.startswith("_")
    ]
    assert len(classes) >= 7
    for c in classes:
        assert c.effective_weights is not cnn._AnalogBase.effective_weights, c.__name__
