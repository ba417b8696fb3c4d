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
    assert roadmap.get("spinnaker").energy_per_synaptic_event_J == 5.9e-6
    # Hoeppner et al. 2019 (28 nm prototype) via keras-spiking's device table
    s2 = roadmap.get("spinnaker2")
    assert (s2.energy_per_synaptic_event_J, s2.energy_per_neuron_update_J) == (450e-12, 2.19e-9)
    assert (s2.figure_kind, s2.event_figure) == ("reported", "per-operation")
    assert "28 nm" in s2.operating_point and "keras-spiking" in s2.source
    assert {"spinnaker", "spinnaker2", "brainscales2"} <= names


def test_every_preset_says_what_its_figure_is():
    for name in roadmap.names():
        t = roadmap.get(name)
        assert t.figure_kind in roadmap.FIGURE_KINDS, name
        assert t.operating_point and t.precision, name
        if t.energy_per_synaptic_event_J is not None:
            assert t.event_figure in roadmap.EVENT_FIGURES, name
    ania = roadmap.get("imec-ania")
    assert (ania.figure_kind, ania.operating_point, ania.cell_type) == ("measured", "peak", "SRAM")
    assert "ternary weights" in ania.precision and "ReRAM-type" in ania.notes
    assert ania.label == "measured, peak, ternary weights, 6-bit activations, SRAM cells"
    mem = roadmap.get("memcapacitor-2021")
    assert mem.figure_kind == "simulated" and "charge recovery" in mem.operating_point
    assert "without charge recovery" in mem.assumptions and "3,000 TOPS/W" in mem.assumptions
    assert roadmap.get("loihi").figure_kind == "pre-silicon"
    assert roadmap.get("loihi").event_figure == "per-operation"
    assert roadmap.get("seneca").event_figure == "per-operation"
    assert (roadmap.get("truenorth").figure_kind, roadmap.get("truenorth").event_figure) == (
        "measured", "all-in")  # fmt: skip
    assert roadmap.get("ab9-2020").figure_kind == "target"


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
               energy_per_inference=1e-9, extra={"energy_per_synaptic_event_J": 13e-12,
                                                 "synaptic_energy_per_event_J": 11.8e-12})  # fmt: skip
    per_event = {
        g.target.name: g for g in roadmap.gap(s) if g.metric == "energy_per_synaptic_event"
    }
    # like with like: all-in figures against the all-in chip energy per event, per-operation
    # figures against the synaptic part only
    assert per_event["truenorth"].ratio == pytest.approx(26 / 13)
    assert per_event["truenorth"].basis == "all-in chip energy"
    assert per_event["spinnaker"].simulated == 13e-12
    assert per_event["loihi"].ratio == pytest.approx(23.6 / 11.8)
    assert per_event["loihi"].simulated == 11.8e-12
    assert per_event["loihi"].basis == "synaptic part only"
    assert per_event["seneca"].ratio == pytest.approx(2.8 / 11.8)
    assert per_event["spinnaker2"].ratio == pytest.approx(450 / 11.8)
    assert per_event["spinnaker2"].basis == "synaptic part only"
    assert {g.basis for g in roadmap.gap(r)} == {"chip efficiency"}
    # a result without the synaptic part is not compared with per-operation figures
    only_all_in = Result(workload="w", target="snn:x", seed=0, ops_per_inference=1.0,
                         extra={"energy_per_synaptic_event_J": 13e-12})  # fmt: skip
    assert {g.target.name for g in roadmap.gap(only_all_in)} == {"truenorth", "spinnaker"}
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
    p.write_text('name = "x"\ntitle = "x"\nparadigms = ["spiking"]\nyear = 2020\nsource = "s"\n'
                 "energy_per_synaptic_event_J = 1e-12\n")  # fmt: skip
    with pytest.raises(
        ConfigError, match="RoadmapTarget.event_figure must be one of per-operation"
    ):
        roadmap.load_toml(p)
    p.write_text('name = "x"\ntitle = "x"\nparadigms = ["spiking"]\nyear = 2020\nsource = "s"\n'
                 'figure_kind = "rumoured"\n')  # fmt: skip
    with pytest.raises(ConfigError, match="RoadmapTarget.figure_kind must be one of 'measured'"):
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


def test_gap_lines_show_what_each_figure_is():
    from neuro.report import gap_lines

    s = Result(workload="w", target="snn:loihi", seed=0, ops_per_inference=1.0,
               energy_per_inference=1e-9, extra={"energy_per_synaptic_event_J": 13e-12,
                                                 "synaptic_energy_per_event_J": 35.5e-12})  # fmt: skip
    lines = gap_lines([s])
    loihi = next(line for line in lines if " loihi (" in line)
    assert loihi == (
        "  snn:loihi: 0.665x loihi (23.6 pJ per synaptic event, per-operation; pre-silicon, "
        "synaptic spike op, minimum, 1-9 bit weights, SRAM (digital) cells) vs synaptic part only"
    )
    tn = next(line for line in lines if " truenorth (" in line)
    assert "all-in; measured, 20 Hz, 128 synapses/neuron, 0.775 V" in tn
    assert tn.endswith("vs all-in chip energy")
    a = Result(workload="w", target="aimc:pcm", seed=0, ops_per_inference=2900.0,
               energy_per_inference=1e-12)  # fmt: skip
    ania = next(line for line in gap_lines([a]) if "imec-ania" in line)
    assert "measured, peak, ternary weights, 6-bit activations, SRAM cells" in ania
    mem = next(line for line in gap_lines([a]) if "memcapacitor" in line)
    assert "simulated, projected, ~95 % charge recovery" in mem
