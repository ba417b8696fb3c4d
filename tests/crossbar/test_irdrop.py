"""IR drop: the exact nodal solver against hand-solved circuits and Kirchhoff; the fast one against it."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from crossbar.irdrop import solve_exact, solve_fast


def test_one_cell_is_three_resistors_in_series():
    r, g, v = 2.0, 1e-3, 0.3
    sol = solve_exact(np.array([[g]]), np.array([[v]]), r, r)
    assert sol.column_currents[0, 0] == pytest.approx(v / (r + 1 / g + r), rel=1e-12)


def test_one_row_two_columns_by_hand():
    # V ─r─ a0 ─r─ a1; a0 ─G0─ b0 ─r─ 0; a1 ─G1─ b1 ─r─ 0.
    r, g0, g1, v = 5.0, 2e-3, 1e-3, 1.0
    r1 = 1 / g0 + r
    r2 = r + 1 / g1 + r
    total = r + r1 * r2 / (r1 + r2)
    va0 = v - r * v / total
    sol = solve_exact(np.array([[g0, g1]]), np.array([[v]]), r, r)
    np.testing.assert_allclose(sol.column_currents[0], [va0 / r1, va0 / r2], rtol=1e-12)


def test_two_rows_one_column_by_hand():
    # V0 ─r─ a0 ─G0─ b0 ─r─ b1 ─r─ 0 and V1 ─r─ a1 ─G1─ b1: Millman at b1.
    r, g0, g1, v0, v1 = 3.0, 1e-3, 4e-3, 0.5, 0.2
    r0 = r + 1 / g0 + r
    r1 = r + 1 / g1
    vb1 = (v0 / r0 + v1 / r1) / (1 / r0 + 1 / r1 + 1 / r)
    sol = solve_exact(np.array([[g0], [g1]]), np.array([[v0, v1]]), r, r)
    assert sol.column_currents[0, 0] == pytest.approx(vb1 / r, rel=1e-12)


def test_two_by_two_single_cells_by_hand():
    r, g, v = 1.0, 1e-2, 1.0
    only_00 = solve_exact(np.array([[g, 0.0], [0.0, 0.0]]), np.array([[v, 0.0]]), r, r)
    np.testing.assert_allclose(only_00.column_currents[0], [v / (r + 1 / g + 2 * r), 0], atol=1e-15)
    only_11 = solve_exact(np.array([[0.0, 0.0], [0.0, g]]), np.array([[0.0, v]]), r, r)
    np.testing.assert_allclose(only_11.column_currents[0], [0, v / (2 * r + 1 / g + r)], atol=1e-15)


@pytest.mark.parametrize("cell_type", ["1T1R", "0T1R"])
def test_kirchhoff_current_conservation(cell_type, rng):
    g = rng.uniform(1e-6, 1e-4, (12, 9))
    v = rng.uniform(0.0, 0.2, (5, 12)) * (rng.random((5, 12)) > 0.4)
    sol = solve_exact(g, v, 2.0, 2.0, cell_type)
    # What the drivers push in comes out at the virtual grounds, input by input.
    np.testing.assert_allclose(sol.source_currents.sum(1), sol.column_currents.sum(1), rtol=1e-9)
    # Each column's output is the sum of its cell currents (KCL along the bit line).
    np.testing.assert_allclose(sol.cell_currents.sum(1), sol.column_currents, rtol=1e-9)
    if cell_type == "0T1R":
        floating = v == 0
        # A floating row passes no net current: what enters through some cells leaves by others.
        np.testing.assert_allclose(sol.cell_currents.sum(2)[floating], 0.0, atol=1e-15)
        assert np.all(sol.source_currents[floating] == 0)


def test_sneak_paths_change_the_output_of_a_selector_less_array(rng):
    g = rng.uniform(1e-6, 1e-4, (16, 16))
    v = np.zeros((1, 16))
    v[0, :4] = 0.2
    one_t = solve_exact(g, v, 5.0, 5.0, "1T1R").column_currents
    zero_t = solve_exact(g, v, 5.0, 5.0, "0T1R").column_currents
    assert np.abs(one_t - zero_t).max() > 1e-6 * np.abs(one_t).max()
    # Tiny wires: both tend to the ideal v @ g (floating rows then sit at ~0 V).
    ideal = v @ g
    tiny = solve_exact(g, v, 1e-6, 1e-6, "0T1R").column_currents
    np.testing.assert_allclose(tiny, ideal, rtol=1e-4)


@pytest.mark.parametrize("cell_type", ["1T1R", "0T1R"])
def test_fast_solver_matches_exact(cell_type, rng):
    g = rng.uniform(1e-6, 1e-4, (24, 20))
    v = rng.uniform(0.0, 0.2, (6, 24)) * (rng.random((6, 24)) > 0.3)
    exact = solve_exact(g, v, 2.0, 2.0, cell_type).column_currents
    fast = solve_fast(torch.tensor(g)[None], torch.tensor(v)[None], 2.0, 2.0, cell_type, 30)[0]
    ideal = v @ g
    err = np.abs(fast.numpy() - exact).max() / np.abs(exact).max()
    if cell_type == "1T1R":
        assert err < 1e-6  # converged fixed point of the same circuit
    else:
        # floating rows are taken as equipotential: an approximation, well under the IR drop
        assert err < 0.2 * np.abs(ideal - exact).max() / np.abs(exact).max()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(g=np.ones(3), r=1.0, cell="1T1R"), "must be \\(R, C\\)"),
        (dict(g=np.ones((2, 2)), r=0.0, cell="1T1R"), "must be > 0"),
        (dict(g=np.ones((2, 2)), r=1.0, cell="2T2R"), "cell_type must be"),
        (dict(g=np.zeros((2, 2)), r=1.0, cell="0T1R"), "floating 0T1R row"),
    ],
)
def test_exact_solver_refuses_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        solve_exact(kwargs["g"], np.ones((1, 2)), kwargs["r"], 1.0, kwargs["cell"])


def test_wire_drop_criterion_and_the_measured_current_fraction():
    from crossbar.irdrop import ideal_current_fraction, wire_drop_criterion

    # ReRAM preset on a 256 x 256 tile at 1 Ω per segment: 1 · 88e-6 · 256² / 2 = 2.88.
    assert wire_drop_criterion(1.0, 88e-6, 256) == pytest.approx(2.883584)
    assert wire_drop_criterion(1.0, 25e-6, 128) == pytest.approx(0.2048)
    f = [ideal_current_fraction(k) for k in (0.0, 0.01, 0.05, 0.2, 0.82, 2.88, 30.0)]
    assert f[0] == 1.0 and all(a >= b for a, b in zip(f, f[1:], strict=False))
    assert f[2] == pytest.approx(0.966) and f[5] == pytest.approx(0.343)


def test_the_criterion_predicts_the_exact_solver():
    # PCM preset, 64 x 64, uniform cells and inputs: κ = 0.0512; the exact column currents
    # land within 1 % of the measured table's fraction.
    from crossbar.irdrop import ideal_current_fraction, wire_drop_criterion

    rng = np.random.default_rng(0)
    g = rng.uniform(0.0, 25e-6, (64, 64))
    v = rng.uniform(0.0, 0.2, (4, 64))
    i = solve_exact(g, v, 1.0, 1.0, "1T1R").column_currents
    frac = float((i / (v @ g)).mean())
    assert frac == pytest.approx(
        ideal_current_fraction(wire_drop_criterion(1.0, 25e-6, 64)), abs=0.01
    )
