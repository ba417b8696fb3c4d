"""aimc's digital_layers option: chosen weight layers stay digital, exact and costed (issue 14)."""

from __future__ import annotations

import dataclasses

import pytest

import devices
from crossbar import CrossbarConfig
from devices.validation import ConfigError
from neuro import workloads
from neuro.targets.analog import (
    AnalogConfig,
    digital_layer_names,
    workload_costs,
)
from neuro.targets.base import make_target


def test_digital_layers_is_validated_and_split_at_commas():
    assert AnalogConfig(digital_layers="first, last").digital_layers == ("first", "last")
    assert AnalogConfig(digital_layers=["0", "0"]).digital_layers == ("0",)
    for bad in (("",), 5, ("first", 3)):
        with pytest.raises(ConfigError, match=r"digital_layers.*'first' or 'last'"):
            AnalogConfig(digital_layers=bad)
    assert make_target("aimc:pcm", digital_layers="first").cfg.digital_layers == ("first",)


def test_names_first_last_and_patterns_resolve_to_weight_layers():
    model = workloads.get("resnet-fmnist").build()
    assert digital_layer_names(model, ["first"]) == ["0"]
    assert digital_layer_names(model, ["last", "first"]) == ["10", "0"]
    assert digital_layer_names(model, ["6.*"]) == ["6.conv1", "6.conv2", "6.shortcut.0"]
    vit = workloads.get("vit-fmnist").build()
    assert digital_layer_names(vit, ["first", "last"]) == ["0", "7"]
    with pytest.raises(ConfigError, match=r"'4\.bn1' names no weight layer.*valid: first, last"):
        digital_layer_names(model, ["4.bn1"])


def test_a_digital_layer_is_costed_as_int8_macs_and_buffer_traffic():
    w = workloads.get("resnet-fmnist")
    device, cfg = devices.get("pcm"), CrossbarConfig()
    base, lat, _, area, rows = workload_costs(w, device, cfg)
    dig, lat_d, _, area_d, rows_d = workload_costs(w, device, cfg, digital=["0"])
    stem = next(r for r in rows if r["name"] == "0")
    stem_d = next(r for r in rows_d if r["name"] == "0")
    assert stem["placement"] == "analog" and stem_d["placement"] == "digital"
    assert stem_d["tiles"] == 0 and stem_d["adc_conversions"] == 0
    layer = next(layer for layer in w.layers if layer.name == "0")
    c = cfg.cost
    n_bytes = (72 + 28 * 28 + 8 * 28 * 28) * c.activation_bytes  # weights, input, output
    want = layer.macs * c.digital_mac_J + n_bytes * c.buffer_J_per_byte
    assert layer.macs == 56448 and stem_d["energy_J"] == pytest.approx(want, rel=1e-12)
    assert c.digital_mac_J == pytest.approx(0.3e-12 * (32 / 45) * (1 / 0.9) ** 2)
    assert sum(dig.values()) == pytest.approx(
        sum(base.values()) - stem["energy_J"] + stem_d["energy_J"], rel=1e-9
    )  # the stem's tiles, converters and cells are gone; its digital work is charged
    assert dig["adc"] < base["adc"] and dig["digital"] > base["digital"]
    assert lat_d == pytest.approx(lat - stem["latency_s"]) and area_d < area
    others = [(a, b) for a, b in zip(rows, rows_d, strict=True) if a["name"] != "0"]
    assert all(a == b for a, b in others)


def test_all_layers_digital_gives_the_fp32_accuracy_and_the_report_says_where(tmp_path):
    w = workloads.get("mlp-digits")
    opts = dict(repeats=1, times_s=(1.0,), read_time_s=1.0)
    r = make_target("aimc:pcm", digital_layers="*", **opts).evaluate(w, seed=0)
    assert r.accuracy == pytest.approx(r.extra["fp32_accuracy"], abs=0.0)
    assert r.provenance["digital_layers"] == ["1", "3"]
    assert [row[2] for row in r.provenance["conversion_report"]] == ["digital", "digital"]
    assert r.extra["digital_weight_layers"] == 2.0 and r.extra["tiles"] == 0.0
    first = make_target("aimc:pcm", digital_layers="first", **opts).evaluate(w, seed=0)
    assert [row[:3] for row in first.provenance["conversion_report"]] == [
        ["1", "Linear", "digital"], ["3", "Linear", "analog"],
    ]  # fmt: skip
    assert [row["placement"] for row in first.layers if row["macs"]] == ["digital", "analog"]
    with pytest.raises(ConfigError, match=r"'fc9' names no weight layer"):
        make_target("aimc:pcm", digital_layers="fc9", **opts).evaluate(w, seed=0)
    assert dataclasses.replace(AnalogConfig(), digital_layers=()).digital_layers == ()


@pytest.mark.parametrize("ir_drop", ["none", "fast"])  # the fused path and the reference path
def test_an_all_zero_input_vector_reads_zero_not_output_noise(ir_drop):
    """Per-vector (dynamic) DAC ranges: a zero vector is not converted, its output is 0.

    Before, its range was taken as 1 and the output noise (0.06 of one full-scale cell)
    came out at full-input scale: on Fashion-MNIST's empty background patches the stem conv
    of resnet-fmnist read pure noise (relative error 0.084 against aihwkit's 0.059 on the
    same periphery), worth ~28 points of accuracy.
    """
    import torch

    from crossbar.nn import calibrate, convert, set_time

    lin = torch.nn.Linear(9, 8, bias=False)
    cfg = dataclasses.replace(CrossbarConfig(), ir_drop=ir_drop)
    m = convert(
        lin, cfg, device_model=devices.get("pcm"), generator=torch.Generator().manual_seed(0)
    )
    x = torch.zeros(64, 9)
    x[::2] = torch.rand(32, 9, generator=torch.Generator().manual_seed(1))
    calibrate(m, x)
    set_time(m, 1.0)
    with torch.no_grad():
        y = m(x)
    assert torch.count_nonzero(y[1::2]) == 0  # the zero vectors
    assert torch.count_nonzero(y[::2]) > 0
