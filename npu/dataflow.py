"""Folding a GEMM onto systolic arrays: fold counts, fill and drain, cycles, utilisation.

The conventions are SCALE-Sim's (Samajdar et al., "A systematic methodology for
characterizing scalability of DNN accelerators using SCALE-Sim", ISPASS 2020), as implemented
in ``scalesim`` 3.0.0 (``compute/systolic_compute_{os,ws}.py``), so the two can be compared
layer by layer (``experiments/validate_scalesim.py``):

================  ===========  ===========  ==========  ===============================
dataflow          rows hold    cols hold    streamed    cycles per fold
================  ===========  ===========  ==========  ===============================
output stat. os   M (outputs)  N (outputs)  T = K       T + (R − 1) + (C − 1)
weight stat. ws   K (weights)  N (weights)  T = M       R + T + (R − 1) + (C − 1)
================  ===========  ===========  ==========  ===============================

with ``R × C`` the array, ``S_r`` and ``S_c`` the GEMM extents mapped onto rows and columns,
``folds = ⌈S_r/R⌉·⌈S_c/C⌉``; each fold fills the skewed pipeline (``R − 1``), streams ``T``
operands, and drains (``C − 1``); weight-stationary first loads ``R`` rows of weights.
Folds do not overlap (SCALE-Sim lets outputs drain before the next fold). SCALE-Sim's
``COMPUTE_REPORT`` gives ``folds · cycles_per_fold − 1`` (it reports the index of the last
cycle); we count cycles, one more.

Several arrays (``n_arrays``) share a layer's folds: ``⌈folds / n_arrays⌉`` rounds.
"""

from __future__ import annotations

import dataclasses
import math

from devices.validation import check_choice, require

__all__ = ["Folding", "fold", "DATAFLOWS"]

DATAFLOWS = ("os", "ws")


@dataclasses.dataclass(frozen=True)
class Folding:
    """How one GEMM ``(M, K, N)`` runs on ``n_arrays`` arrays of ``rows × cols`` PEs.

    Attributes
    ----------
    dataflow : str
        ``"os"`` or ``"ws"``.
    s_r, s_c, t : int
        GEMM extents on array rows, on array columns, and streamed in time.
    row_folds, col_folds, folds : int
        ``⌈s_r/rows⌉``, ``⌈s_c/cols⌉`` and their product.
    rounds : int
        ``⌈folds / n_arrays⌉``: folds one array runs in sequence.
    fill_cycles, drain_cycles : int
        Per fold: pipeline fill (``R − 1``, plus ``R`` weight-load cycles for ws) and
        drain (``C − 1``).
    cycles_per_fold : int
        ``fill + t + drain``.
    cycles : int
        ``rounds · cycles_per_fold``.
    mapping_efficiency : float
        Mean over folds of the fraction of PEs holding work (SCALE-Sim's definition).
    utilisation : float
        ``M·K·N / (cycles · rows · cols · n_arrays)``: useful MACs per PE-cycle.
    """

    dataflow: str
    s_r: int
    s_c: int
    t: int
    row_folds: int
    col_folds: int
    folds: int
    rounds: int
    fill_cycles: int
    drain_cycles: int
    cycles_per_fold: int
    cycles: int
    mapping_efficiency: float
    utilisation: float


def fold(m: int, k: int, n: int, rows: int, cols: int, dataflow: str, n_arrays: int = 1) -> Folding:
    """Fold the GEMM ``(m × k) @ (k × n)`` onto ``n_arrays`` arrays of ``rows × cols`` PEs.

    Parameters
    ----------
    m, k, n : int
        Output positions (batch included), reduction length, output columns; all >= 1.
    rows, cols : int
        PEs per array.
    dataflow : str
        ``"os"`` (output stationary) or ``"ws"`` (weight stationary).
    n_arrays : int
        Arrays sharing the folds.

    Returns
    -------
    Folding
        Fold counts, cycles (SCALE-Sim conventions, see the module docstring), efficiency.
    """
    check_choice("fold", "dataflow", dataflow, DATAFLOWS)
    for name, v in (("m", m), ("k", k), ("n", n), ("rows", rows), ("cols", cols),
                    ("n_arrays", n_arrays)):  # fmt: skip
        require(isinstance(v, int) and v >= 1, "fold", name, v, "an integer >= 1")
    if dataflow == "os":
        s_r, s_c, t = m, n, k
        fill = rows - 1
    else:
        s_r, s_c, t = k, n, m
        fill = rows + rows - 1  # R cycles to load the weights, R − 1 to skew the inputs
    drain = cols - 1
    row_folds = math.ceil(s_r / rows)
    col_folds = math.ceil(s_c / cols)
    folds = row_folds * col_folds
    rounds = math.ceil(folds / n_arrays)
    per_fold = fill + t + drain
    cycles = rounds * per_fold
    mapping = (s_r * s_c) / (row_folds * rows * col_folds * cols)
    util = (m * k * n) / (cycles * rows * cols * n_arrays)
    return Folding(
        dataflow, s_r, s_c, t, row_folds, col_folds, folds, rounds, fill, drain, per_fold,
        cycles, mapping, util,
    )  # fmt: skip
