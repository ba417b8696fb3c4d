"""The device registry, presets as data, describe_all and user-registered models."""

from __future__ import annotations

import math

import pytest
import torch

import devices
from devices.presets import PRESET_DIR, preset_files

EXPECTED = {"reram", "reram-agasi", "pcm", "fefet", "memcap", "ideal", "tabulated-example"}


def test_names_include_every_preset():
    assert EXPECTED <= set(devices.names())
    assert {p.stem for p in preset_files()} <= set(devices.names())


def test_every_preset_cites_sources():
    for path in preset_files():
        name = path.stem
        src = devices.sources(name)
        assert src, f"{name} has no sources"
        assert all(isinstance(v, str) and v for v in src.values())


def test_get_returns_fresh_models_with_overrides():
    a = devices.get("pcm")
    b = devices.get("pcm", g_max=20e-6)
    assert a.g_max == 25e-6 and b.g_max == 20e-6 and a.name == b.name == "pcm"
    assert devices.get("reram-agasi").name == "reram-agasi"


def test_unknown_name_lists_valid_names():
    with pytest.raises(devices.UnknownNameError, match=r"unknown device 'nope'; valid: .*pcm"):
        devices.get("nope")


def test_describe_all_has_key_figures_in_si():
    rows = devices.describe_all()
    assert [r["name"] for r in rows] == devices.names()
    for r in rows:
        assert r["unit"] in ("S", "F")
        for key in ("g_min", "g_max", "write_energy_J", "t_write_s", "read_energy_J"):
            assert math.isfinite(r[key]) and r[key] >= 0
        assert r["endurance_cycles"] >= 1 and r["retention_s"] > 0
        assert r["on_off"] > 1


def test_user_model_registration_and_duplicate_refusal():
    class Toy(devices.Ideal):
        name = "toy"

    devices.register("toy-device", lambda **kw: Toy(devices.IdealConfig(**kw)))
    try:
        assert devices.get("toy-device", g_max=2e-5).g_max == 2e-5
        with pytest.raises(devices.DuplicateNameError, match="already registered"):
            devices.register("toy-device", Toy)
    finally:
        devices.REGISTRY.unregister("toy-device")
    assert "toy-device" not in devices.names()


def test_user_preset_file(tmp_path):
    text = (PRESET_DIR / "reram.toml").read_text().replace('name = "reram"', 'name = "my-reram"')
    text = text.replace("g_max = 88e-6", "g_max = 60e-6")
    path = tmp_path / "my.toml"
    path.write_text(text)
    name = devices.register_preset(path)
    try:
        assert devices.get(name).g_max == 60e-6
        assert devices.sources(name)["g_min"].startswith("HfOx")
    finally:
        devices.REGISTRY.unregister(name)


@pytest.mark.parametrize(
    "text, match",
    [
        (
            '[device]\nname = "x"\nmodel = "memristor"\n',
            r"\[device\]\.model 'memristor' unknown; valid: fefet",
        ),
        ('[device]\nmodel = "pcm"\n', r"\[device\]\.name must be a string; got None"),
        (
            '[device]\nname = "x"\nmodel = "pcm"\n[config]\ng_max = -1.0\n',
            r"PCMConfig\.g_max must be",
        ),
    ],
)
def test_bad_preset_files(tmp_path, text, match):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(devices.ConfigError, match=match):
        devices.register_preset(path)
    assert "x" not in devices.names()


def test_doc_example_runs():
    state = devices.get("pcm").program(torch.full((4,), 10e-6), torch.Generator().manual_seed(0))
    assert tuple(state.value.shape) == (4,)
