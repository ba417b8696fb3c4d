"""Exact IR drop at matmul cost: the transfer matrix against the direct nodal solve, and its cache."""

from __future__ import annotations

import copy
import dataclasses
import pickle

import numpy as np
import pytest
import torch

import devices
from crossbar import Crossbar, CrossbarConfig
from crossbar.irdrop import solve_exact, transfer_matrix


def _rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).max() / np.abs(b).max())


@pytest.mark.parametrize("shape", [(16, 16), (32, 24), (24, 32), (1, 7), (9, 1)])
@pytest.mark.parametrize("r", [0.1, 1.0, 5.0])
def test_transfer_matrix_equals_the_direct_nodal_solve(shape, r, rng):
    # ReRAM-like window (9-88 µS); signed inputs (the DAC's polarity) and all rows driven.
    g = rng.uniform(9e-6, 88e-6, shape)
    v = rng.uniform(-0.2, 0.2, (6, shape[0]))
    ref = solve_exact(g, v, r, r).column_currents
    m = transfer_matrix(torch.tensor(g), r, r).numpy()
    assert m.shape == shape
    # Goal of issue 15: 1e-6 relative; the elimination is exact to rounding.
    assert _rel(v @ m, ref) < 1e-9


def test_different_word_and_bit_line_resistances(rng):
    g = rng.uniform(1e-6, 1e-4, (12, 10))
    v = rng.uniform(0.0, 0.2, (3, 12))
    ref = solve_exact(g, v, 0.5, 4.0).column_currents
    assert _rel(v @ transfer_matrix(torch.tensor(g), 0.5, 4.0).numpy(), ref) < 1e-9


def test_one_cell_by_hand():
    # V ─r─ a ─G─ b ─r─ 0: I = V / (2r + 1/G).
    m = transfer_matrix(torch.tensor([[1e-3]], dtype=torch.float64), 2.0, 2.0)
    assert float(m) == pytest.approx(1.0 / (4.0 + 1e3), rel=1e-12)


def test_floating_rows_of_a_selector_less_array_equal_the_direct_solve(rng):
    g = rng.uniform(1e-6, 1e-4, (20, 12))
    v = rng.uniform(0.05, 0.2, (1, 20))
    v[0, ::3] = 0.0  # these rows float
    ref = solve_exact(g, v, 2.0, 2.0, "0T1R").column_currents
    m = transfer_matrix(torch.tensor(g), 2.0, 2.0, torch.tensor(v[0] != 0)).numpy()
    assert _rel(v @ m, ref) < 1e-9
    assert np.all(m[v[0] == 0] == 0)  # a floating row has no driver


def test_linearity_superposition_and_the_wire_free_limit(rng):
    g = torch.tensor(rng.uniform(9e-6, 88e-6, (16, 12)))
    m = transfer_matrix(g, 1.0, 1.0)
    # Superposition: one input's response is the sum of the unit responses (rows of M).
    v = rng.uniform(-0.2, 0.2, (4, 16))
    parts = sum(
        solve_exact(g.numpy(), np.outer(v[:, i], np.eye(16)[i]), 1.0, 1.0).column_currents
        for i in range(16)
    )
    assert _rel(parts, v @ m.numpy()) < 1e-9
    # The nodal matrix is an M-matrix: its inverse is >= 0, so no driver lowers a column.
    assert bool((m > 0).all())
    # Wires of 1 µΩ: the ideal V·G within the wire drop (κ = r·G·N²/2 ~ 1e-8).
    tiny = transfer_matrix(g, 1e-6, 1e-6)
    assert torch.allclose(tiny, g, rtol=1e-6)
    # IR drop only takes current away: every column gets less than ideal for v >= 0.
    vp = torch.tensor(np.abs(v))
    assert bool(((vp @ m) < (vp @ g)).all())


def test_a_batch_of_tiles_is_each_tile_alone(rng):
    g = torch.tensor(rng.uniform(1e-6, 1e-4, (2, 3, 8, 6)))
    m = transfer_matrix(g, 1.0, 2.0)
    for a in range(2):
        for b in range(3):
            torch.testing.assert_close(m[a, b], transfer_matrix(g[a, b], 1.0, 2.0), rtol=1e-12,
                                       atol=0)  # fmt: skip
    assert transfer_matrix(g.float(), 1.0, 2.0).dtype == torch.float32


@pytest.mark.parametrize(
    "g, r, match",
    [
        (torch.ones(3), 1.0, "must be \\(\\.\\.\\., R, C\\)"),
        (torch.ones(2, 2), 0.0, "must be > 0"),
    ],
)
def test_transfer_matrix_refuses_bad_input(g, r, match):
    with pytest.raises(ValueError, match=match):
        transfer_matrix(g, r, 1.0)


def _reference(xbar: Crossbar, x: torch.Tensor, g: torch.Tensor, cell_type: str) -> torch.Tensor:
    """Signed column currents of ``xbar`` by the direct nodal solve, tile by tile."""
    u, _ = xbar._dac(x)
    v = (u * xbar.cell.read_voltage_V).numpy()
    tr, tc, _, cp = g.shape
    ref = np.zeros((tr, x.shape[0], tc, cp))
    r = xbar.config.r_wire_ohm
    for a in range(tr):
        for c in range(tc):
            ref[a, :, c] = solve_exact(g[a, c].numpy(), v[a], r, r, cell_type).column_currents
    return xbar.tile_map.signed(torch.tensor(ref))


@pytest.mark.parametrize("cell_type", ["1T1R", "0T1R"])
@pytest.mark.parametrize("mapping", ["differential", "offset"])
def test_crossbar_exact_ir_drop_equals_the_direct_solve(cell_type, mapping, rng):
    cfg = CrossbarConfig.ideal(ir_drop="exact", r_wire_ohm=2.0, tile_rows=16, tile_cols=24,
                               cell_type=cell_type, mapping=mapping)  # fmt: skip
    gen = torch.Generator().manual_seed(0)
    xbar = Crossbar(devices.get("reram"), cfg).program(torch.randn(20, 30, dtype=torch.float64,
                                                                   generator=gen), gen)  # fmt: skip
    x = torch.tensor(rng.normal(size=(7, 30)) * (rng.random((7, 30)) > 0.3))
    g = xbar._read(0.0, None)
    u, _ = xbar._dac(x)
    got = xbar._analog(u, g, None)
    assert _rel(got.numpy(), _reference(xbar, x, g, cell_type).numpy()) < 1e-9


def _noisy_xbar(**kw) -> Crossbar:
    cfg = CrossbarConfig(ir_drop="exact", r_wire_ohm=1.0, tile_rows=16, tile_cols=16,
                         dac=CrossbarConfig().dac.__class__(bits=None),
                         adc=CrossbarConfig().adc.__class__(bits=None, out_noise=0.0), **kw)  # fmt: skip
    gen = torch.Generator().manual_seed(1)
    w = torch.randn(12, 20, dtype=torch.float64, generator=gen)
    return Crossbar(devices.get("pcm"), cfg, seed=3).program(w, gen)


def test_the_transfer_matrix_is_computed_once_per_read(monkeypatch):
    import crossbar.core as core

    calls = []
    real = core.transfer_matrix

    def counting(g, *a, **k):
        calls.append(tuple(g.shape))
        return real(g, *a, **k)

    monkeypatch.setattr(core, "transfer_matrix", counting)
    xbar = _noisy_xbar()
    calls.clear()  # the constructor's self-test read a tiny crossbar
    x = torch.randn(5, 20, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    y1 = xbar.matvec(x, t=10.0)
    n_first = len(calls)  # the read at t and the drift reference (a read at 0)
    assert n_first == 2
    y2 = xbar.matvec(x, t=10.0)
    assert len(calls) == n_first and torch.equal(y1, y2)  # same read: no recomputation

    def read_and_check(t: float) -> torch.Tensor:
        before = len(calls)
        y = xbar.matvec(x, t=t)
        assert len(calls) > before  # new cells: a new transfer matrix
        g = xbar._ir_cache[0][0]  # the read that served this MVM (most recent entry)
        u, _ = xbar._dac(x)
        got = xbar._analog(u, g, None)
        assert _rel(got.numpy(), _reference(xbar, x, g, "1T1R").numpy()) < 1e-9
        return y

    y3 = read_and_check(100.0)  # another read time (drift, read noise)
    assert not torch.equal(y3, y1)
    xbar.redraw()
    assert not torch.equal(read_and_check(100.0), y3)  # same time, a new read
    xbar.reseed(7)
    read_and_check(100.0)
    xbar.reprogram(torch.Generator().manual_seed(5))
    read_and_check(100.0)


def test_copies_and_pickles_leave_the_cache_behind():
    xbar = _noisy_xbar()
    x = torch.ones(2, 20, dtype=torch.float64)
    y = xbar.matvec(x, t=1.0)
    assert xbar._ir_cache
    for other in (copy.deepcopy(xbar), pickle.loads(pickle.dumps(xbar))):
        assert other._ir_cache == []
        assert torch.equal(other.matvec(x, t=1.0), y)


def test_exact_ir_drop_takes_the_fused_path_with_the_same_numbers():
    from crossbar import ADCConfig

    cfg = CrossbarConfig(ir_drop="exact", tile_rows=32, tile_cols=32, adc=ADCConfig(bits=None))
    gen = torch.Generator().manual_seed(4)
    w = torch.randn(20, 40, dtype=torch.float64, generator=gen)
    x = torch.rand(16, 40, dtype=torch.float64, generator=gen)
    xbar = Crossbar(devices.get("pcm"), cfg).program(w, gen).calibrate(x)
    assert xbar._fast_ok  # a 1T1R tile with its wires is one linear map per read
    g, alpha = xbar._read_at(3600.0, torch.Generator().manual_seed(5), explicit=True)
    y_fast = xbar._fast_matvec(x, g, alpha, torch.Generator().manual_seed(6))
    y_ref = xbar._reference_matvec(x, g, alpha, torch.Generator().manual_seed(6))
    torch.testing.assert_close(y_fast, y_ref, rtol=1e-9, atol=1e-12)
    assert not Crossbar(devices.get("pcm"), dataclasses.replace(cfg, ir_drop="fast"))._fast_ok
    assert not Crossbar(devices.get("pcm"), dataclasses.replace(cfg, cell_type="0T1R"))._fast_ok


@pytest.mark.parametrize(
    "device, tile, expected",
    [("reram", 256, "exact"), ("reram", 128, "none"), ("pcm", 256, "none"), ("pcm", 512, "exact"),
     ("fefet", 256, "none"),
     ("memcap", 256, "none"), ("ideal", 256, "none")],
)  # fmt: skip
def test_auto_models_the_wires_where_the_criterion_says_they_matter(device, tile, expected):
    from crossbar.irdrop import AUTO_KAPPA

    cfg = CrossbarConfig(ir_drop="auto", tile_rows=tile, tile_cols=tile, self_test=False)
    xbar = Crossbar(devices.get(device), cfg)
    assert xbar.ir_drop_mode == expected
    kappa = xbar.ir_drop_criterion
    assert (kappa > AUTO_KAPPA) == (expected == "exact") or device == "ideal"
    assert Crossbar(devices.get(device), dataclasses.replace(cfg, ir_drop="none")).ir_drop_mode == (
        "none"
    )


def test_the_drift_reference_is_measured_through_the_wires():
    from crossbar import ADCConfig

    cfg = CrossbarConfig(ir_drop="exact", r_wire_ohm=2.0, tile_rows=32, tile_cols=32,
                         adc=ADCConfig(bits=None, out_noise=0.0))  # fmt: skip
    gen = torch.Generator().manual_seed(8)
    w = torch.randn(16, 32, dtype=torch.float64, generator=gen)  # fills one tile exactly
    xbar = Crossbar(devices.get("reram"), cfg).program(w, gen)
    g = xbar._read(0.0, None)
    # One-hot full-scale inputs: row i's transfer (not its bare cells) at V_read.
    m = transfer_matrix(g, 2.0, 2.0)
    expected = (xbar.tile_map.signed(m).squeeze(-1) * xbar.cell.read_voltage_V).abs().mean((2, 3))
    torch.testing.assert_close(xbar._readout(g, None), expected, rtol=1e-9, atol=0)
    bare = (xbar.tile_map.signed(g).squeeze(-1) * xbar.cell.read_voltage_V).abs().mean((2, 3))
    # The wires are seen: one row at a time loses ~3 % here (κ = 0.09 with all rows on).
    assert float(expected.max() / bare.max()) < 0.98


def test_many_tiles_are_computed_in_chunks_with_the_same_result(rng, monkeypatch):
    import crossbar.irdrop as irdrop

    g = torch.tensor(rng.uniform(1e-6, 1e-4, (5, 6, 5)))
    whole = transfer_matrix(g, 1.0, 1.0)
    monkeypatch.setattr(irdrop, "_CHUNK_TILES", 2)
    torch.testing.assert_close(transfer_matrix(g, 1.0, 1.0), whole, rtol=1e-13, atol=0)


def test_long_resistive_word_lines_take_the_log_domain_and_agree(rng):
    from crossbar.irdrop import _word_line_inverse

    # 100 kΩ segments against ~50 µS cells: the word-line products exp(c) span e^±370,
    # beyond the outer-product form (|c| < 300); the log-domain form gives the same map.
    g = rng.uniform(9e-6, 88e-6, (3, 200))
    g[1, 5] = 0.0  # a cell at 0 S (log 0 = -inf) on the way
    r_wl, r_bl = 1e5, 1.0
    _, log_c = _word_line_inverse(torch.tensor(g), torch.ones(3, dtype=torch.bool), 1 / r_wl)
    assert float(log_c.abs().max()) > 300.0
    v = rng.uniform(-0.2, 0.2, (4, 3))
    ref = solve_exact(g, v, r_wl, r_bl).column_currents
    m = transfer_matrix(torch.tensor(g), r_wl, r_bl).numpy()
    assert _rel(v @ m, ref) < 1e-9
