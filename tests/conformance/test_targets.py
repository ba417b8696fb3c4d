"""One conformance suite over every registered target (STYLE.md 3).

Each target evaluates ``mlp-digits`` with its family's quick options; the result must carry
every common metric, finite and in SI units, and the same seed must give the same numbers
(except figures the target measures on the host, listed in
``provenance["measured_on_host"]``).
"""

from __future__ import annotations

import math

import pytest

from neuro import workloads
from neuro.result import CHIP_GROUPS, ENERGY_GROUPS, METRIC_FIELDS
from neuro.targets import FAMILIES, make_target, target_names

WORKLOAD = "mlp-digits"


def _evaluate(name: str, seed: int):
    family = FAMILIES.get(name.partition(":")[0])
    target = make_target(name, **family.quick_options)
    return target.evaluate(workloads.get(WORKLOAD), seed=seed)


@pytest.fixture(scope="module")
def results():
    cache: dict[tuple[str, int], object] = {}

    def get(name: str, seed: int = 0):
        if (name, seed) not in cache:
            cache[(name, seed)] = _evaluate(name, seed)
        return cache[(name, seed)]

    return get


@pytest.mark.slow
@pytest.mark.parametrize("name", target_names())
def test_result_fields_present_finite_si(results, name):
    r = results(name)
    r.check()
    assert r.workload == WORKLOAD
    assert r.ops_per_inference == workloads.get(WORKLOAD).ops_per_inference
    for field in METRIC_FIELDS:
        assert hasattr(r, field)
    assert r.accuracy is not None and 0.0 <= r.accuracy <= 1.0
    assert r.latency is not None and 0 < r.latency < 10.0  # s: one 64-input inference
    assert r.throughput is not None and r.throughput > 0
    if r.energy_per_inference is not None:
        # J: an inference of 4,736 ops costs between an attojoule and a joule.
        assert 1e-18 < r.energy_per_inference < 1.0
        assert r.energy_breakdown, "energy without a breakdown"
    for value in r.energy_breakdown.values():
        assert math.isfinite(value) and value >= 0
    if r.energy_breakdown:
        # One energy boundary (DESIGN.md): every component in one group, every group filled
        # or not modelled with a reason, chip = the four chip groups, system = chip + off-chip.
        groups = r.group_energy()
        assert set(groups) == set(ENERGY_GROUPS)
        for group, value in groups.items():
            assert value is not None or r.energy_missing.get(group), group
        chip = sum(groups[g] or 0.0 for g in CHIP_GROUPS)
        assert r.energy_per_inference == pytest.approx(chip, rel=1e-9)
        if groups["off_chip"] is not None:
            assert r.system_energy_per_inference == pytest.approx(chip + groups["off_chip"])
            assert r.system_energy_per_inference >= r.energy_per_inference
    assert (
        r.config
        and r.config
        == make_target(name, **FAMILIES.get(name.partition(":")[0]).quick_options).config()
    )


@pytest.mark.slow
@pytest.mark.parametrize("name", target_names())
def test_same_seed_same_numbers(results, name):
    a = results(name)
    b = _evaluate(name, 0)
    measured = set(a.provenance.get("measured_on_host", []))
    for field in METRIC_FIELDS:
        if field in measured:
            continue
        assert getattr(a, field) == getattr(b, field), field
    assert a.energy_breakdown == b.energy_breakdown
    assert a.energy_groups == b.energy_groups
