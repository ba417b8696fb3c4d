"""Folding onto systolic arrays: hand-computed fold counts, cycles and utilisation."""

import pytest

import npu
from devices.validation import ConfigError


def test_os_on_4x4_hand_computed():
    # M=9 outputs on rows, N=6 on columns, K=3 streamed: ceil(9/4)=3 x ceil(6/4)=2 = 6 folds;
    # per fold 3 + (4-1) + (4-1) = 9 cycles; 54 in all (SCALE-Sim 3.0.0 reports 53: last index).
    f = npu.fold(9, 3, 6, 4, 4, "os")
    assert (f.row_folds, f.col_folds, f.folds) == (3, 2, 6)
    assert (f.fill_cycles, f.drain_cycles, f.cycles_per_fold, f.cycles) == (3, 3, 9, 54)
    assert f.mapping_efficiency == pytest.approx(54 / (12 * 8))
    assert f.utilisation == pytest.approx(9 * 3 * 6 / (54 * 16))


def test_ws_on_4x4_hand_computed():
    # K=13 on rows, N=9 on columns, M=17 streamed: 4 x 3 = 12 folds;
    # per fold 4 (load weights) + 17 + 3 + 3 = 27; 324 in all (SCALE-Sim 3.0.0 reports 323).
    f = npu.fold(17, 13, 9, 4, 4, "ws")
    assert (f.s_r, f.s_c, f.t) == (13, 9, 17)
    assert (f.folds, f.cycles_per_fold, f.cycles) == (12, 27, 324)


def test_exact_fit_single_fold():
    f = npu.fold(4, 4, 4, 4, 4, "os")
    assert f.folds == 1 and f.mapping_efficiency == 1.0
    assert f.cycles == 4 + 3 + 3


def test_utilisation_approaches_one_for_long_reductions():
    f = npu.fold(128, 1_000_000, 128, 128, 128, "os")
    assert f.utilisation == pytest.approx(1_000_000 / (1_000_000 + 254))
    # A vector (batch 1 FC) on output stationary uses 1 row in 128.
    assert npu.fold(1, 4096, 128, 128, 128, "os").utilisation < 1 / 128


def test_arrays_share_folds():
    one = npu.fold(512, 64, 512, 64, 64, "os")
    four = npu.fold(512, 64, 512, 64, 64, "os", n_arrays=4)
    assert one.folds == 64 and four.rounds == 16
    assert four.cycles * 4 == one.cycles


def test_fold_rejects_bad_arguments():
    with pytest.raises(ConfigError, match="fold.dataflow must be one of 'os', 'ws'; got 'is'"):
        npu.fold(1, 1, 1, 4, 4, "is")
    with pytest.raises(ConfigError, match="fold.m must be an integer >= 1; got 0"):
        npu.fold(0, 1, 1, 4, 4, "os")


def test_op_rejects_inconsistent_macs():
    with pytest.raises(ConfigError, match=r"Op.macs must be m·k·n·groups = 6 for a linear"):
        npu.Op("x", "linear", m=1, k=2, n=3, macs=5)
    with pytest.raises(ConfigError, match="Op.kind must be one of"):
        npu.Op("x", "softmax")
