"""The archive as data: grid-point columns, units, datetimes, test inputs, the N-d view."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest

from neuro.archive import Archive
from neuro.archive_data import unit_of, units_in_names
from neuro.cli import main
from neuro.result import Curve, Result

T = [1.0, 3600.0, 86400.0]


def _run(target: str, bits: int, seed: int) -> Result:
    y = np.array([0.9, 0.88, 0.85]) - 0.01 * (8 - bits) - 0.001 * seed
    return Result(
        workload="mlp-fmnist", target=target, seed=seed, ops_per_inference=4.7e5,
        accuracy=float(y[2]), accuracy_std=0.01, energy_per_inference=1e-9 * bits,
        energy_breakdown={"adc": 1e-9 * bits}, energy_groups={"adc": "conversion"},
        extra={"test_inputs": 300.0, "synaptic_events": 12.0, "step_s": 2e-6},
        curves={"accuracy_vs_time": Curve(T, y, "t_s", "accuracy", [0.01, 0.02, 0.03])},
        config={"test_limit": 300, "grid_point": {"crossbar.adc.bits": bits}},
        provenance={"data_source": "/data/fashion-mnist", "test_inputs_total": 10000,
                    "started": "2026-12-05T11:13:07.274+00:00",
                    "finished": "2026-12-05T11:13:08.000+00:00"},
    )  # fmt: skip


@pytest.fixture
def sweep(tmp_path):
    path = tmp_path / "s.h5"
    with Archive(path, mode="a") as ar:
        for target in ("aimc:pcm", "aimc:reram"):
            for bits in (4, 8):
                for seed in (0, 1):
                    ar.append(_run(target, bits, seed))
        ar.append(Result(workload="mlp-fmnist", target="reference", seed=0,
                         ops_per_inference=4.7e5, accuracy=0.8819,
                         provenance={"data_source": "/data/fashion-mnist",
                                     "test_inputs": 10000, "test_inputs_total": 10000}))  # fmt: skip
    return path


def test_table_has_grid_point_units_datetimes_and_test_inputs(sweep):
    t = Archive(sweep).table()
    assert list(t.columns[:6]) == [
        "run_id",
        "workload",
        "target",
        "seed",
        "crossbar.adc.bits",
        "status",
    ]
    assert t.attrs["grid"] == ["crossbar.adc.bits"]
    assert t["crossbar.adc.bits"].tolist()[:4] == [4, 4, 8, 8]
    assert np.isnan(t["crossbar.adc.bits"].iloc[-1])  # the reference has no grid point
    units = t.attrs["units"]
    assert units["energy_per_inference"] == "J" and units["latency"] == "s"
    assert units["accuracy"] == "fraction" and units["energy_adc"] == "J"
    assert units["step_s"] == "s" and units["synaptic_events"] == "count"
    assert units["crossbar.adc.bits"] == "bit" and units["workload"] == ""
    assert set(units) == set(t.columns)
    assert str(t["started"].dtype).startswith("datetime64") and str(t["started"].dt.tz) == "UTC"
    assert t["started"].iloc[0] == pd.Timestamp("2026-12-05T11:13:07.274Z")
    assert t["finished"].isna().iloc[-1]  # not recorded: NaT
    assert t["test_inputs"].tolist() == [300] * 8 + [10000]
    assert t["test_inputs_total"].tolist() == [10000] * 9
    assert set(t["data_source"]) == {"/data/fashion-mnist"}


def test_csv_export_names_units(sweep, tmp_path):
    csv = tmp_path / "t.csv"
    assert main(["archive", "export", str(sweep), "--format", "csv", "-o", str(csv)]) == 0
    header = csv.read_text().splitlines()[0].split(",")
    assert "energy_per_inference [J]" in header and "latency [s]" in header
    assert "accuracy [fraction]" in header and "crossbar.adc.bits [bit]" in header
    assert "workload" in header and "test_inputs [count]" in header
    back = pd.read_csv(csv)
    assert back["started [UTC]"].iloc[0].startswith("2026-12-05 11:13:07.274")
    plain = units_in_names(pd.DataFrame({"a": [1]}))
    assert list(plain.columns) == ["a"]  # no units known: names kept


def test_units_of_columns():
    assert unit_of("energy_per_synaptic_event_J") == "J"
    assert unit_of("flops_per_W") == "FLOPS/W"
    assert unit_of("nb_footprint_B") == "B" and unit_of("nb_synaptic_ops_dense") == "ops"
    assert unit_of("fp32_accuracy_same_inputs") == "fraction"
    assert unit_of("crossbar.read_time_s") == "s"
    assert unit_of("utilisation") == "1"


def test_to_xarray_is_an_n_d_view_over_the_sweep(sweep):
    pytest.importorskip("xarray")
    ds = Archive(sweep).to_xarray()
    assert dict(ds.sizes) == {"workload": 1, "target": 3, "crossbar.adc.bits": 3, "seed": 2,
                              "read_time_s": 3}  # fmt: skip
    assert list(ds["target"].values) == ["aimc:pcm", "aimc:reram", "reference"]
    assert ds["accuracy_vs_time"].dims[-1] == "read_time_s"
    assert ds["read_time_s"].attrs["units"] == "s"
    assert ds["energy_per_inference"].attrs["units"] == "J"
    # one cell is one run's curve: aimc:pcm, 4 bits, seed 1 (y - 0.04 - 0.001)
    cell = ds["accuracy_vs_time"].sel({"target": "aimc:pcm", "crossbar.adc.bits": 4, "seed": 1})
    np.testing.assert_allclose(cell.squeeze().values, np.array([0.9, 0.88, 0.85]) - 0.041)
    np.testing.assert_allclose(
        ds["accuracy_vs_time_std"].sel(target="aimc:reram").isel(seed=0, workload=0).values[:2],
        [[0.01, 0.02, 0.03]] * 2,
    )
    # mean over seeds at 1 day, per target and ADC resolution: a 2-d slice of the sweep
    day = ds["accuracy_vs_time"].sel(read_time_s=86400.0).mean("seed").squeeze("workload")
    np.testing.assert_allclose(day.sel(target="aimc:pcm").values[:2], [0.85 - 0.04 - 0.0005,
                                                                       0.85 - 0.0005])  # fmt: skip
    assert np.isnan(ds["accuracy"].sel(target="reference", seed=1)).all()  # no such run
    assert (
        ds["run_id"].sel({"target": "aimc:pcm", "crossbar.adc.bits": 8, "seed": 0}).item()
        == "r000003"
    )


def test_to_xarray_without_xarray_is_one_line(sweep, monkeypatch):
    monkeypatch.setitem(sys.modules, "xarray", None)
    with pytest.raises(ImportError, match=r"^Archive.to_xarray needs xarray: pip install xarray"):
        Archive(sweep).to_xarray()


def test_archive_show_prints_units_and_keeps_counts_out_of_the_energy_breakdown(sweep, capsys):
    assert main(["archive", "show", str(sweep), "r000001"]) == 0
    out = capsys.readouterr().out
    energy, _, rest = out.partition("energy breakdown (J per inference")[2].partition(
        "other figures"
    )
    assert "adc" in energy and "4 nJ" in energy and "conversion" in energy
    assert "synaptic_events" not in energy and "synaptic_events" in rest
    assert "energy_per_inference" in out and "4 nJ" in out  # SI prefix, unit
    assert "accuracy                        81.00 %" in out
    assert "test inputs                     300 of 10,000 (data: /data/fashion-mnist)" in out
    assert "step_s                          2 µs" in out
