"""The one energy boundary on Result: groups, chip and system energy, reasons for gaps."""

from __future__ import annotations

import pytest

from neuro.result import CHIP_GROUPS, ENERGY_GROUPS, Result


def _result(**kw) -> Result:
    return Result(workload="w", target="t", seed=0, ops_per_inference=2e6, **kw)


def test_set_energy_sums_chip_and_system_groups():
    r = _result().set_energy(
        {
            "mac": ("compute", 3e-9),
            "adc": ("conversion", 2e-9),
            "sram": ("movement", 1e-9),
            "leak": ("static", 4e-9),
            "dram": ("off_chip", 10e-9),
        }
    )
    r.check()
    assert r.energy_per_inference == pytest.approx(10e-9)
    assert r.system_energy_per_inference == pytest.approx(20e-9)
    assert r.efficiency == pytest.approx(2e6 / 10e-9)
    assert r.system_efficiency == pytest.approx(2e6 / 20e-9)
    assert r.group_energy() == pytest.approx(
        {"compute": 3e-9, "conversion": 2e-9, "movement": 1e-9, "static": 4e-9, "off_chip": 1e-8}
    )
    assert CHIP_GROUPS == ENERGY_GROUPS[:4]


def test_unmodelled_group_is_none_with_a_reason_and_system_unknown():
    r = _result().set_energy(
        {"syn": ("compute", 1e-9), "neuron": ("conversion", 1e-9), "route": ("movement", 0.0),
         "leak": ("static", 1e-9)},
        missing={"off_chip": "host link not modelled"},
    )  # fmt: skip
    r.check()
    assert r.group_energy()["off_chip"] is None
    assert r.system_energy_per_inference is None and r.system_efficiency is None
    assert r.group_energy()["movement"] == 0.0  # modelled and zero is not missing


def test_group_without_component_or_reason_is_refused():
    r = _result().set_energy({"mac": ("compute", 1e-9), "dram": ("off_chip", 1e-9)})
    with pytest.raises(ValueError, match=r"group 'conversion' has no component and no reason"):
        r.check()


def test_component_without_group_is_refused():
    r = _result(energy_per_inference=1e-9, energy_breakdown={"mac": 1e-9})
    with pytest.raises(ValueError, match=r"energy_groups\['mac'\] must be one of compute"):
        r.check()


def test_chip_energy_must_be_the_chip_groups():
    groups = {g: (g, 1e-9) for g in ENERGY_GROUPS}
    r = _result().set_energy(groups)
    r.energy_per_inference = 5e-9  # off-chip counted into the chip figure
    with pytest.raises(ValueError, match=r"energy_per_inference must be the chip energy"):
        r.check()
    r = _result().set_energy(groups)
    r.system_energy_per_inference = 4e-9
    with pytest.raises(ValueError, match=r"system_energy_per_inference must be chip \+ off_chip"):
        r.check()


def test_archive_round_trip_keeps_groups_and_reasons(tmp_path):
    from neuro.archive import Archive

    r = _result().set_energy(
        {"mac": ("compute", 1e-9), "adc": ("conversion", 2e-9), "sram": ("movement", 3e-9),
         "leak": ("static", 4e-9)},
        missing={"off_chip": "no host model"},
    )  # fmt: skip
    with Archive(tmp_path / "a.h5", mode="a") as a:
        run_id = a.append(r)
    back = Archive(tmp_path / "a.h5").get(run_id)
    assert back.energy_groups == r.energy_groups
    assert back.energy_missing == {"off_chip": "no host model"}
    assert back.energy_per_inference == pytest.approx(1e-8)
    assert back.system_energy_per_inference is None
    table = Archive(tmp_path / "a.h5").table()
    assert table.loc[0, "energy_group_static"] == pytest.approx(4e-9)
