"""Target options: dotted keys reach nested configs; unknown ones are refused by name."""

from __future__ import annotations

import pytest

from devices.validation import ConfigError
from neuro.experiments import load_spec
from neuro.targets import make_target
from neuro.targets.base import with_options

SPECS = ["compare_paradigms", "pcm_drift", "adc_sweep", "ab9_yolov2", "stdp_devices"]


def test_dotted_options_reach_nested_configs():
    t = make_target("aimc:pcm", **{"crossbar.adc.bits": 5, "times_s": [1, 10], "repeats": 2})
    cfg = t.config()
    assert cfg["crossbar"]["adc"]["bits"] == 5
    assert tuple(cfg["times_s"]) == (1.0, 10.0)


@pytest.mark.parametrize(
    "options, message",
    [
        (
            {"crossbar.adc.bitz": 3},
            "target 'aimc:pcm.crossbar.adc' has no option 'bitz'; valid: bits",
        ),
        ({"nope": 1}, "target 'aimc:pcm' has no option 'nope'; valid: batch_size"),
        ({"repeats.x": 1}, "target 'aimc:pcm' has no option 'repeats.x': 'repeats' is not a group"),
        ({"crossbar.adc.bits": 0}, r"ADCConfig.bits must be an integer in \[1, 16\]; got 0"),
    ],
)
def test_bad_options(options, message):
    with pytest.raises(ConfigError, match=message):
        make_target("aimc:pcm", **options)


def test_with_options_leaves_the_original():
    base = make_target("aimc:pcm").cfg
    changed = with_options(base, {"crossbar.adc.bits": 6}, "aimc:pcm")
    assert base.crossbar.adc.bits == 8 and changed.crossbar.adc.bits == 6


@pytest.mark.parametrize("name", SPECS)
def test_shipped_specs_are_valid(name):
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "experiments" / f"{name}.toml"
    spec = load_spec(path)
    runs = spec.runs()
    assert runs and len({r.key for r in runs}) == len(runs)
