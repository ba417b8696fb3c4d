"""Terminal tables: an accuracy measured on a subset of the test inputs says so beside it."""

from __future__ import annotations

import pytest

from neuro.compare import compare, record_data
from neuro.report import (
    data_lines,
    inputs_note,
    is_subset,
    measured_inputs,
    results_table,
    subset_mark,
)
from neuro.result import Result
from neuro.workloads import dataset_for
from neuro.workloads import get as get_workload


def _r(target, acc, **kw) -> Result:
    return Result(workload="w", target=target, seed=0, ops_per_inference=1.0, accuracy=acc, **kw)


def test_test_inputs_from_what_the_target_recorded_or_its_limit():
    full = _r("reference", 0.8819, provenance={"test_inputs_total": 10000})
    npu = _r("npu:ab9", 0.89, config={"test_limit": 200}, provenance={"test_inputs_total": 10000})
    snn = _r("snn:loihi", 0.88, extra={"test_inputs": 100.0})  # split size not recorded
    big = _r("npu:ab9", 0.9, config={"test_limit": 50000}, provenance={"test_inputs_total": 10000})
    assert measured_inputs(full) == (10000, 10000) and not is_subset(full)
    assert measured_inputs(npu) == (200, 10000) and is_subset(npu)
    assert measured_inputs(snn) == (100, None) and is_subset(snn)
    assert measured_inputs(big) == (10000, 10000) and not is_subset(big)  # a limit above the split
    assert measured_inputs(_r("x", None)) == (None, None)
    assert [inputs_note(r) for r in (full, npu, snn)] == ["10,000", "200 of 10,000", "100"]
    assert subset_mark(200, 10000) == " (200 of 10,000 inputs)"
    assert subset_mark(10000, 10000) == "" and subset_mark(None, 10) == ""
    assert subset_mark(float("nan"), 10) == "" and subset_mark(100, None) == " (100 inputs)"
    pd = pytest.importorskip("pandas")
    assert subset_mark(pd.NA, pd.NA) == ""


def test_results_table_puts_the_test_inputs_beside_the_accuracy():
    rs = [
        _r("reference", 0.8819, provenance={"test_inputs_total": 10000, "data_source": "/d"}),
        _r("npu:ab9", 0.89, config={"test_limit": 200},
           provenance={"test_inputs_total": 10000, "data_source": "/d"}),
    ]  # fmt: skip
    lines = results_table(rs).splitlines()
    assert lines[0].split()[:4] == ["target", "accuracy", "test", "inputs"]
    assert lines[2].split()[:3] == ["reference", "88.19", "%"] and "10,000" in lines[2]
    assert "89.00 %  200 of 10,000" in lines[3]
    assert data_lines(rs) == ["data: /d; accuracy on a subset of the test inputs: npu:ab9"]


@pytest.mark.slow
def test_compare_records_the_data_of_every_accuracy():
    wl = get_workload("mlp-digits")
    n_test = len(dataset_for(wl).y_test)
    results, failures = compare(wl, ["reference", "npu:ab9"], quick=True)
    assert not failures
    ref, npu = results
    assert ref.provenance["test_inputs"] == ref.provenance["test_inputs_total"] == n_test
    assert npu.provenance["test_inputs"] == min(200, n_test)  # npu's quick test_limit
    assert npu.provenance["test_inputs_total"] == n_test
    assert npu.provenance["data_source"] == dataset_for(wl).source
    shape_only = Result(workload="resnet18", target="npu:ab9", seed=0, ops_per_inference=1.0)
    assert record_data(get_workload("resnet18"), shape_only).provenance == {}


def test_iso_accuracy_table_says_how_many_test_inputs_each_accuracy_is_on():
    from neuro.tradeoff import IsoPoint, iso_lines

    point = IsoPoint(target="aimc:pcm", knob="converter_bits", value=6.0, accuracy=0.885,
                     energy_J=1e-7, default_energy_J=2e-7, default_accuracy=0.89,
                     test_inputs="200 of 10,000")  # fmt: skip
    head, table = iso_lines([point], 0.88)
    assert head == "iso-accuracy at 88.00 %:"
    assert "test inputs" in table.splitlines()[0] and "200 of 10,000" in table


def test_quiet_bars_follow_the_neuro_logger_level():
    import logging

    from neuro.report import quiet_bars

    logger = logging.getLogger("neuro")
    before = logger.level
    try:
        logger.setLevel(logging.NOTSET)  # a library user: bars where there is a terminal
        assert quiet_bars() is None
        logger.setLevel(logging.INFO)  # neuro compare
        assert quiet_bars() is None
        logger.setLevel(logging.WARNING)  # neuro -q compare: no bars
        assert quiet_bars() is True
    finally:
        logger.setLevel(before)


def test_a_group_inside_another_figure_is_reported_as_included_not_as_not_modelled():
    from neuro.report import breakdown_table, missing_lines

    r = _r("snn:truenorth", 0.9).set_energy(
        {"synaptic_events": ("compute", 3e-9), "static": ("static", 1e-9),
         "host_io": ("off_chip", 0.0)},
        missing={
            "conversion": "included in the truenorth per-event figure",
            "movement": "not modelled: included in the truenorth per-event figure",
            "neuron_updates": "not modelled: no figure in our sources",
        },
    )  # fmt: skip
    lines = missing_lines([r])
    assert lines == [
        "  snn:truenorth: conversion included in the truenorth per-event figure",
        "  snn:truenorth: movement included in the truenorth per-event figure",
        "  snn:truenorth: neuron_updates not modelled: no figure in our sources",
    ]
    row = breakdown_table([r]).splitlines()[2].split()
    assert row == ["snn:truenorth", "75.0", "%", "incl.", "incl.", "25.0", "%", "0.0", "%"]


def test_an_npu_run_at_batch_1_dominated_by_static_power_says_a_batch_amortises_it():
    from neuro.report import subset_lines

    def npu(batch, static_J):
        return _r("npu:ab9", 0.9, batch_size=batch).set_energy(
            {"mac": ("compute", 1e-6), "static": ("static", static_J), "dram": ("off_chip", 0.0)},
            missing={"conversion": "digital"},
        )

    assert subset_lines([npu(1, 4e-6)]) == [
        "npu:ab9: batch 1: static power is 80 % of its chip energy (the chip idles through "
        "most of one input); a batch shares it among its inputs: --set batch_size=256"
    ]
    assert subset_lines([npu(1, 0.5e-6)]) == []  # static a third: no note
    assert subset_lines([npu(256, 4e-6)]) == []  # already batched
