"""An option a device or target does not take is one ConfigError line, never a TypeError."""

from __future__ import annotations

import dataclasses

import pytest

import devices
from devices.registry import Registry, build, option_names
from devices.validation import ConfigError


@pytest.mark.parametrize("name", ["pcm", "reram", "fefet", "memcap", "ideal", "tabulated-example"])
def test_unknown_device_option_is_one_config_error_line(name):
    with pytest.raises(ConfigError, match=rf"^device '{name}' has no option 'bogus'; valid: ") as e:
        devices.get(name, bogus=1)
    assert "\n" not in str(e.value)


def test_device_option_error_lists_the_config_fields():
    with pytest.raises(ConfigError, match=r"valid: .*\bg_max\b.*\bt_read_s\b"):
        devices.get("pcm", g_maxx=1e-6)
    # a known option with a bad value still gets the config's own message
    with pytest.raises(ConfigError, match=r"read_voltage_V must be in \(0, 10\] V; got -1"):
        devices.get("reram", read_voltage_V=-1)
    assert devices.get("pcm", t_read_s=1e-7).config.t_read_s == 1e-7


# (aimc's nested keys are checked by with_options: tests/neuro/test_target_options.py)
@pytest.mark.parametrize(
    "target, key",
    [
        (t, k)
        for t in ("npu:ab9", "snn:loihi", "reference")
        for k in ("bogus", "crossbar.adc.bits", "with-dash")
    ]
    + [("aimc:pcm", "bogus"), ("aimc:pcm", "with-dash")],
)
def test_unknown_target_option_is_one_config_error_line(target, key):
    from neuro.targets import make_target

    with pytest.raises(ConfigError, match=rf"^target '{target}' has no option '{key}'"):
        make_target(target, **{key: 1})


@dataclasses.dataclass(frozen=True)
class _Cfg:
    a: int = 1
    b: float = 2.0


def _kwargs_factory(**options):
    return _Cfg(**options)  # passes the options on: only the TypeError tells


def _buggy_factory(**options):
    return len(5)  # a bug of the factory itself: not an option error


def test_build_checks_declared_options_and_translates_passed_on_ones():
    assert option_names(_Cfg) == ["a", "b"]
    assert option_names(_kwargs_factory) is None
    with pytest.raises(ConfigError, match=r"^thing 'x' has no option 'c'; valid: a, b$"):
        build(_Cfg, {"c": 1}, owner="thing 'x'")
    with pytest.raises(ConfigError, match=r"^thing 'x' has no option 'c'$"):
        build(_kwargs_factory, {"c": 1}, owner="thing 'x'")
    with pytest.raises(TypeError, match="has no len"):
        build(_buggy_factory, {}, owner="thing 'x'")
    reg = Registry("thing")
    reg.register("x", _Cfg)
    assert reg.build("x", a=3) == _Cfg(a=3)
    with pytest.raises(ConfigError, match=r"^thing 'x' has no option 'z'; valid: a, b$"):
        reg.build("x", z=0)
