"""Roadmap presets carry their published figures and sources; gap() computes ratios."""

from __future__ import annotations

import pytest

from devices.registry import DuplicateNameError
from devices.validation import ConfigError
from neuro import roadmap
from neuro.result import Result


def test_presets_have_sources_and_the_published_figures():
    names = set(roadmap.names())
    assert {"ab9-2020", "artbrain-k", "etri-neuromorphic-2027", "imec-ania", "memcapacitor-2021",
            "st-pcm-28nm", "truenorth", "loihi", "seneca"} <= names  # fmt: skip
    for name in names:
        assert roadmap.get(name).source.strip()
    assert roadmap.get("etri-neuromorphic-2027").efficiency == pytest.approx(1e15 / 20)
    assert roadmap.get("imec-ania").efficiency == 2900e12
    assert roadmap.get("memcapacitor-2021").efficiency == 29600e12
    assert roadmap.get("st-pcm-28nm").efficiency == 10e12
    assert roadmap.get("artbrain-k").peak_ops_per_s == 6400e12
    assert roadmap.get("artbrain-k").efficiency == 0.893e12
    assert roadmap.get("truenorth").energy_per_synaptic_event_J == 26e-12
    assert roadmap.get("loihi").energy_per_neuron_update_J == 52e-12
    assert roadmap.get("seneca").energy_per_synaptic_event_J == 2.8e-12


def test_targets_per_paradigm():
    analog = {t.name for t in roadmap.targets_for("analog")}
    assert {"imec-ania", "memcapacitor-2021", "st-pcm-28nm", "etri-neuromorphic-2027"} <= analog
    assert "loihi" not in analog
    assert roadmap.paradigm_of("aimc:pcm") == "analog"
    assert roadmap.paradigm_of("npu:ab9") == "digital"
    assert roadmap.paradigm_of("snn:loihi") == "spiking"
    assert roadmap.paradigm_of("reference") is None


def test_gap_ratios():
    r = Result(workload="w", target="aimc:pcm", seed=0, ops_per_inference=2900.0,
               energy_per_inference=1e-12)  # fmt: skip  # 2,900 TOPS/W exactly
    gaps = {g.target.name: g for g in roadmap.gap(r)}
    assert gaps["imec-ania"].ratio == pytest.approx(1.0)
    assert gaps["memcapacitor-2021"].ratio == pytest.approx(2900 / 29600)
    assert gaps["st-pcm-28nm"].ratio == pytest.approx(290)
    s = Result(workload="w", target="snn:loihi", seed=0, ops_per_inference=1.0,
               energy_per_inference=1e-9, extra={"energy_per_synaptic_event_J": 13e-12})  # fmt: skip
    per_event = {
        g.target.name: g.ratio for g in roadmap.gap(s) if g.metric == "energy_per_synaptic_event"
    }
    assert per_event["truenorth"] == pytest.approx(2.0)
    assert (
        roadmap.gap(Result(workload="w", target="reference", seed=0, ops_per_inference=1.0)) == []
    )


def test_bad_presets(tmp_path):
    p = tmp_path / "x.toml"
    p.write_text(
        'name = "x"\ntitle = "x"\nparadigms = ["analog"]\nyear = 2020\nsource = "s"\nspeed = 3\n'
    )
    with pytest.raises(ConfigError, match="x.toml: unknown key 'speed'"):
        roadmap.load_toml(p)
    p.write_text('name = "x"\ntitle = "x"\nparadigms = ["quantum"]\nyear = 2020\nsource = "s"\n')
    with pytest.raises(
        ConfigError, match="RoadmapTarget.paradigms must be a non-empty list from digital"
    ):
        roadmap.load_toml(p)
    p.write_text('name = "x"\ntitle = "x"\nparadigms = ["analog"]\nyear = 2020\nsource = ""\n')
    with pytest.raises(ConfigError, match="RoadmapTarget.source must be a citation"):
        roadmap.load_toml(p)
    p.write_text(
        'name = "x"\ntitle = "x"\nparadigms = ["analog"]\nyear = 2020\nsource = "s"\npower_W = -1\n'
    )
    with pytest.raises(ConfigError, match="RoadmapTarget.power_W must be a number > 0 W; got -1"):
        roadmap.load_toml(p)
    with pytest.raises(DuplicateNameError):
        roadmap.register(roadmap.get("loihi"))


def test_cli_roadmap_lists_everything(capsys):
    from neuro.cli import main

    assert main(["roadmap"]) == 0
    out = capsys.readouterr().out
    for name in roadmap.names():
        assert name in out
    assert "2.9e+03" in out or "2900" in out
