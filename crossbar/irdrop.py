"""IR drop: wire resistance of word and bit lines, and sneak paths in selector-less arrays.

Circuit (one tile of ``R × C`` cells)::

    V_i ──r── a_i0 ──r── a_i1 ──r── …  a_i,C-1      word line i, driven at its left end
               │G_i0       │G_i1           (far end open)
              b_i0        b_i1                      bit line j runs down the column:
               r           r                        b_0j ──r── b_1j ──r── … b_R-1,j ──r── 0 V
    column current I_j = current into the virtual ground (the sense amplifier / ADC input)

Every cell ``G_ij`` joins word-line node ``a_ij`` to bit-line node ``b_ij``; every wire
segment between neighbouring cells, and from the driver or to the virtual ground, has
resistance ``r`` (``r_wl`` along word lines, ``r_bl`` along bit lines).

Biasing: in a **1T1R** array every access transistor is on during an MVM and every word
line is driven (at 0 V where the input is 0). In a **0T1R** (selector-less) array, word
lines whose input is exactly 0 are left **floating** (the "V/float" scheme: unselected
word lines are not driven, bit lines are held at virtual ground): current from driven
rows then sneaks through the cells of floating rows into other columns.

:func:`solve_exact` builds the nodal conductance matrix (``2·R·C`` unknowns) with
``scipy.sparse`` and solves it by LU (one factorisation per floating pattern, reused for
every input with that pattern). :func:`solve_fast` is the batched torch approximation: a
fixed-point iteration in which word-line and bit-line voltages are updated from the cell
currents by prefix sums (each wire segment carries the sum of the currents downstream of
it); floating rows are taken as equipotential. It converges when the wire drop is a
fraction of the read voltage (``r·G·N²/2 ≲ 1``) and is exact in the limit; its error
against the exact solver is measured in ``experiments/benchmarks/bench_irdrop.py``.

Exact IR drop at matmul cost: with linear cells the tile is a linear map of its driver
voltages, ``I = v @ M`` (``M (R, C)``, A/V). :func:`transfer_matrix` computes ``M`` once per
set of conductances (a read) by block elimination of the nodal system; applying it is one
matmul, as cheap as the wire-free ``v @ G``. The word-line nodes of each row are eliminated
first (a tridiagonal system per row, whose inverse has a closed form), which leaves a
block-tridiagonal system in the bit-line nodes with one dense ``C × C`` block per row; its
forward block elimination (a Cholesky factorisation and inverse per row, batched over
tiles) ends at the last row, whose bit-line nodes set the column currents, so no back
substitution is needed: ``R·(C³ + 2·C²·R)`` flops per tile. It equals :func:`solve_exact`
to rounding (tested to 1e-9 relative); in a selector-less array (``"0T1R"``) the map is
linear for each pattern of floating rows, and ``driven`` gives that pattern.
``Crossbar(ir_drop="exact")`` uses it; :func:`solve_exact` (per input, scipy.sparse) is the
reference it is tested against, and :func:`solve_fast` the approximation for when the
response is not a fixed linear map.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
import torch

__all__ = [
    "IRDropSolution",
    "solve_exact",
    "solve_fast",
    "transfer_matrix",
    "wire_drop_criterion",
    "ideal_current_fraction",
    "AUTO_KAPPA",
    "NOTE_KAPPA",
]

#: ``ir_drop="auto"`` models the wires (exactly) above this criterion ``κ``: at 1 the
#: column currents are ~60 % of ideal (:func:`ideal_current_fraction`). Measured on the
#: analog target's defaults (crossbar/README.md): exact wires cost <= 0.15 points at
#: κ = 0.82 (PCM, 256x256 tiles, 1 Ω) and 14 points at κ = 2.9 (ReRAM), so below 1 the
#: one-time transfer matrices (~2 s of CPU per 256x256 tile and read) buy nothing a
#: calibrated ADC and drift compensation do not already absorb.
AUTO_KAPPA = 1.0
#: Above this ``κ`` (column currents below ~92 % of ideal) a result whose wires are not
#: modelled says so (``neuro compare``): below it the wires are within a calibrated ADC's
#: few per cent.
NOTE_KAPPA = 0.1


def wire_drop_criterion(r_ohm: float, g_max_S: float, n: int) -> float:
    """``κ = r·G_max·N²/2``: the wire drop of an ``N``-cell line at full conductance, in units
    of the read voltage (first order). Measured with :func:`solve_exact` on 1T1R tiles, all
    inputs on: column currents are ~0.93/0.97 of ideal at κ = 0.05 (all cells at ``G_max`` /
    uniform cells), 0.79/0.88 at 0.2, 0.49/0.65 at 0.82 and 0.23/0.34 at 2.9 (PCM and ReRAM
    presets, 1 Ω, 64 to 256 rows; the table in ``crossbar/README.md``)."""
    return float(r_ohm) * float(g_max_S) * int(n) ** 2 / 2.0


#: Measured with :func:`solve_exact` (1T1R, 1 Ω, inputs uniform on [0, V_read], cells
#: uniform on [g_min, g_max] of the PCM/ReRAM presets, 64-256 rows): κ and the mean column
#: current as a fraction of ideal.
_KAPPA_MEASURED = ((0.05, 0.966), (0.18, 0.882), (0.72, 0.662), (0.82, 0.654), (2.88, 0.343))


def ideal_current_fraction(kappa: float) -> float:
    """Typical column current / ideal at criterion ``κ`` (log-interpolated in the measured
    table above; 1 at κ = 0; the last measured value beyond κ = 2.88)."""
    import math

    if kappa <= 0:
        return 1.0
    ks = [math.log(k) for k, _ in _KAPPA_MEASURED]
    fs = [f for _, f in _KAPPA_MEASURED]
    if kappa < _KAPPA_MEASURED[0][0]:
        return 1.0 - (1.0 - fs[0]) * kappa / _KAPPA_MEASURED[0][0]
    return float(np.interp(math.log(kappa), ks, fs))


@dataclasses.dataclass(frozen=True)
class IRDropSolution:
    """Currents of an exact nodal solve.

    Attributes
    ----------
    column_currents : numpy.ndarray
        ``(B, C)`` A, into the virtual ground of each bit line.
    source_currents : numpy.ndarray
        ``(B, R)`` A, out of each word-line driver (0 for floating rows).
    cell_currents : numpy.ndarray
        ``(B, R, C)`` A, word line → bit line through each cell.
    """

    column_currents: np.ndarray
    source_currents: np.ndarray
    cell_currents: np.ndarray


def _check(g: np.ndarray, r_wl: float, r_bl: float, cell_type: str) -> None:
    if g.ndim != 2:
        raise ValueError(f"solve_exact: conductances must be (R, C); got shape {g.shape}")
    if not (r_wl > 0 and r_bl > 0):
        raise ValueError(f"solve_exact: wire resistances must be > 0 Ω; got {r_wl}, {r_bl}")
    if cell_type not in ("1T1R", "0T1R"):
        raise ValueError(f"solve_exact: cell_type must be '1T1R' or '0T1R'; got {cell_type!r}")
    if cell_type == "0T1R" and np.any(g.sum(axis=1) <= 0):
        raise ValueError("solve_exact: a floating 0T1R row needs a conductance > 0 S")


def _system(
    g: np.ndarray, driven: np.ndarray, r_wl: float, r_bl: float
) -> tuple[sp.csc_matrix, np.ndarray]:
    """Nodal matrix for conductances ``g (R, C)`` with rows ``driven (R,)`` bool."""
    n_r, n_c = g.shape
    gw, gb = 1.0 / r_wl, 1.0 / r_bl
    a = np.arange(n_r * n_c).reshape(n_r, n_c)
    b = a + n_r * n_c
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []

    def link(p: np.ndarray, q: np.ndarray, cond: np.ndarray | float) -> None:
        c = np.broadcast_to(np.asarray(cond, dtype=float), p.shape).ravel()
        p, q = p.ravel(), q.ravel()
        rows.extend([p, q, p, q])
        cols.extend([p, q, q, p])
        vals.extend([c, c, -c, -c])

    def ground(p: np.ndarray, cond: np.ndarray | float) -> None:
        c = np.broadcast_to(np.asarray(cond, dtype=float), p.shape).ravel()
        rows.append(p.ravel())
        cols.append(p.ravel())
        vals.append(c)

    link(a[:, :-1], a[:, 1:], gw)  # word-line segments
    link(b[:-1, :], b[1:, :], gb)  # bit-line segments
    link(a, b, g)  # cells
    ground(a[driven, 0], gw)  # driver segment (the source is on the right-hand side)
    ground(b[-1, :], gb)  # last bit-line segment to the virtual ground
    n = 2 * n_r * n_c
    mat = sp.coo_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n)
    ).tocsc()
    return mat, a[:, 0]


def solve_exact(
    g: np.ndarray,
    v: np.ndarray,
    r_wl: float,
    r_bl: float,
    cell_type: str = "1T1R",
) -> IRDropSolution:
    """Exact nodal solution of one tile with wire resistance (scipy.sparse LU).

    Parameters
    ----------
    g : numpy.ndarray
        ``(R, C)`` cell conductances, S.
    v : numpy.ndarray
        ``(B, R)`` word-line driver voltages, V. In ``"0T1R"`` arrays a row whose
        voltage is exactly 0 floats.
    r_wl, r_bl : float
        Wire resistance per segment of word and bit lines, Ω (> 0).
    cell_type : {"1T1R", "0T1R"}
        With access transistors, or selector-less (floating unselected rows).

    Returns
    -------
    IRDropSolution
    """
    g = np.asarray(g, dtype=float)
    v = np.atleast_2d(np.asarray(v, dtype=float))
    _check(g, r_wl, r_bl, cell_type)
    n_r, n_c = g.shape
    gw, gb = 1.0 / r_wl, 1.0 / r_bl
    driven_all = np.ones((v.shape[0], n_r), dtype=bool)
    if cell_type == "0T1R":
        driven_all = v != 0
    col = np.zeros((v.shape[0], n_c))
    src = np.zeros((v.shape[0], n_r))
    cell = np.zeros((v.shape[0], n_r, n_c))
    patterns, inverse = np.unique(driven_all, axis=0, return_inverse=True)
    for k, driven in enumerate(patterns):
        idx = np.flatnonzero(inverse.ravel() == k)
        mat, a0 = _system(g, driven, r_wl, r_bl)
        rhs = np.zeros((mat.shape[0], idx.size))
        rhs[a0[driven], :] = gw * v[idx][:, driven].T
        x = spla.splu(mat).solve(rhs).T  # (b, 2RC)
        a = x[:, : n_r * n_c].reshape(-1, n_r, n_c)
        bl = x[:, n_r * n_c :].reshape(-1, n_r, n_c)
        col[idx] = gb * bl[:, -1, :]
        src[idx] = np.where(driven, gw * (v[idx] - a[:, :, 0]), 0.0)
        cell[idx] = g * (a - bl)
    return IRDropSolution(col, src, cell)


def _suffix_sum(x: torch.Tensor, dim: int) -> torch.Tensor:
    return x.flip(dim).cumsum(dim).flip(dim)


def solve_fast(
    g: torch.Tensor,
    v: torch.Tensor,
    r_wl: float,
    r_bl: float,
    cell_type: str = "1T1R",
    iterations: int = 8,
) -> torch.Tensor:
    """Batched approximate column currents with wire resistance (torch, any device).

    Parameters
    ----------
    g : torch.Tensor
        ``(T, R, C)`` conductances of ``T`` tiles, S.
    v : torch.Tensor
        ``(T, B, R)`` driver voltages, V (0T1R: exact zeros float).
    r_wl, r_bl : float
        Wire resistance per segment, Ω.
    cell_type : {"1T1R", "0T1R"}
        As in :func:`solve_exact`.
    iterations : int
        Fixed-point sweeps (word lines from the bit-line voltages, then bit lines from
        the word-line voltages).

    Returns
    -------
    torch.Tensor
        ``(T, B, C)`` column currents, A.
    """
    g4 = g.unsqueeze(1)  # (T, 1, R, C)
    v4 = v.unsqueeze(-1)  # (T, B, R, 1)
    n_r, n_c = g.shape[-2:]
    # Damping: the sweep's linear map has real eigenvalues in [0, ρ] with
    # ρ ≈ (2/π)²·(r_wl·C·max row sum + r_bl·R·max column sum) (the prefix-of-suffix-sum
    # operator of an N-segment line has spectral radius ≈ (2N/π)²); ω = 2 / (2 + ρ) makes the
    # contraction factor ρ / (2 + ρ) < 1 for every ρ, and ω → 1 for weak wire drop.
    k = (2.0 / torch.pi) ** 2
    rho = k * (r_wl * n_c * g.sum(-1).amax(-1) + r_bl * n_r * g.sum(-2).amax(-1))
    omega = (2.0 / (2.0 + rho)).view(-1, 1, 1, 1)
    floating = (v4 == 0) if cell_type == "0T1R" else None
    a = v4.expand(-1, -1, -1, n_c)
    b = torch.zeros_like(a)
    for _ in range(iterations):
        i_cell = g4 * (a - b)
        a_new = v4 - r_wl * _suffix_sum(i_cell, -1).cumsum(-1)
        if floating is not None:
            a_float = (g4 * b).sum(-1, keepdim=True) / g4.sum(-1, keepdim=True)
            a_new = torch.where(floating, a_float.expand_as(a_new), a_new)
        a = a + omega * (a_new - a)
        i_cell = g4 * (a - b)
        b = b + omega * (r_bl * _suffix_sum(i_cell.cumsum(-2), -2) - b)
    return (g4 * (a - b)).sum(-2)


def _word_line_inverse(
    g: torch.Tensor, driven: torch.Tensor, gw: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Closed form of the inverse of each row's word-line matrix ``(T_a + D)``.

    Row ``i`` of a tile: a tridiagonal ``C × C`` matrix with ``g_ij`` plus the wire links
    on the diagonal (``gw`` per segment; the driver segment only if the row is driven) and
    ``−gw`` beside it. Its inverse is ``X_jk = X_kk·Π_{m=j}^{k−1} gw/p_m`` (``j ≤ k``;
    symmetric), with ``p`` the forward pivots of its LU and ``1/X_kk = p_k + q_k − d_k``
    (``q`` the backward pivots). ``gw/p_m < 1`` (the matrix is diagonally dominant), so the
    products are accumulated as sums of logs and never overflow.

    Returns
    -------
    x_diag : torch.Tensor
        ``(..., R, C)`` diagonal ``X_kk``.
    log_c : torch.Tensor
        ``(..., R, C)`` ``c_k = Σ_{m<k} log(gw/p_m)``: ``X_jk = X_kk·exp(c_k − c_j)``.
    """
    n_c = g.shape[-1]
    links = torch.full(g.shape, 2.0 * gw, dtype=g.dtype, device=g.device)
    if n_c == 1:
        links[..., 0] = 0.0
    else:
        links[..., 0] = gw
        links[..., -1] = gw
    links[..., 0] += gw * driven.to(g.dtype)  # the driver segment
    d = g + links
    p = torch.empty_like(d)
    q = torch.empty_like(d)
    p[..., 0] = d[..., 0]
    for j in range(1, n_c):
        p[..., j] = d[..., j] - gw * gw / p[..., j - 1]
    q[..., -1] = d[..., -1]
    for j in range(n_c - 2, -1, -1):
        q[..., j] = d[..., j] - gw * gw / q[..., j + 1]
    x_diag = 1.0 / (p + q - d)
    log_c = torch.zeros_like(d)
    if n_c > 1:
        log_c[..., 1:] = torch.log(gw / p[..., :-1]).cumsum(-1)
    return x_diag, log_c


#: Tiles per batch of :func:`transfer_matrix` (a 256×256 tile holds ~2.6 MB of work arrays).
_CHUNK_TILES = 16


def transfer_matrix(
    g: torch.Tensor,
    r_wl: float,
    r_bl: float,
    driven: torch.Tensor | None = None,
) -> torch.Tensor:
    """Exact linear map of a tile with wire resistance: column currents ``I = v @ M``.

    Same circuit, conventions and result as :func:`solve_exact` (word lines driven at
    column 0, far ends open; bit lines to the virtual ground after row ``R − 1``), for every
    input at once: ``M[i, j]`` is the current into the virtual ground of column ``j`` per
    volt on word line ``i`` with all other driven lines at 0 V. Computed in float64 (the
    result keeps ``g``'s dtype); any torch device.

    Parameters
    ----------
    g : torch.Tensor
        ``(..., R, C)`` conductances of a batch of tiles, S (≥ 0).
    r_wl, r_bl : float
        Wire resistance per segment of word and bit lines, Ω (> 0).
    driven : torch.Tensor, optional
        ``(..., R)`` bool: the rows driven by their drivers (default all, as in a 1T1R
        array). A row that is not driven floats (0T1R sneak paths) and its row of ``M``
        is 0 (a row whose cells are all 0 S is isolated whether driven or not).

    Returns
    -------
    torch.Tensor
        ``(..., R, C)`` ``M`` in A/V (S).

    Notes
    -----
    Cost per tile ``R·(C³ + 2·C²·R)`` flops and ~``5·C·max(R, C)`` float64 numbers of work
    memory (a 256×256 tile: ~13 GFlop, 2.6 MB; ``experiments/benchmarks/bench_irdrop.py``
    measures the time).
    """
    if g.dim() < 2:
        raise ValueError(f"transfer_matrix: conductances must be (..., R, C); got {tuple(g.shape)}")
    if not (r_wl > 0 and r_bl > 0):
        raise ValueError(f"transfer_matrix: wire resistances must be > 0 Ω; got {r_wl}, {r_bl}")
    out_dtype = g.dtype
    gd = g.detach().to(torch.float64)
    n_r, n_c = gd.shape[-2:]
    batch = gd.shape[:-2]
    if driven is None:
        driven = torch.ones((*batch, n_r), dtype=torch.bool, device=gd.device)
    driven = driven.to(device=gd.device, dtype=torch.bool).expand(*batch, n_r)
    gd = gd.reshape(-1, n_r, n_c)
    dr = driven.reshape(-1, n_r)
    if gd.shape[0] > _CHUNK_TILES:  # bounded memory: ~5 float64 (C, max(R, C)) per tile
        parts = [
            transfer_matrix(gd[k : k + _CHUNK_TILES], r_wl, r_bl, dr[k : k + _CHUNK_TILES])
            for k in range(0, gd.shape[0], _CHUNK_TILES)
        ]
        return torch.cat(parts).reshape(*batch, n_r, n_c).to(out_dtype)
    dr = dr | (gd.sum(-1) <= 0)  # a row without conducting cells carries no current either way
    gw, gb = 1.0 / float(r_wl), 1.0 / float(r_bl)
    x_diag, log_c = _word_line_inverse(gd, dr, gw)
    # D·X·D of row i (the word line seen from its cells) is g_j·g_k·X_jk, and for j <= k
    # X_jk = X_kk·exp(c_k − c_j): an outer product e_a[j]·e_b[k] in the upper triangle, with
    # e_a = g·exp(−c) and e_b = g·X_kk·exp(c) while exp(±c) stays far from overflow (else
    # the same in the log domain).
    product_form = bool(log_c.abs().amax() < 300.0) if log_c.numel() else True
    # The driver's current into bit-line row i per volt: g_j·X_j0 = g_j·X_jj·exp(c_j).
    h = gw * gd * x_diag * torch.exp(log_c) * dr[..., None].to(gd.dtype)  # (T, R, C)
    if product_form:
        e_a = gd * torch.exp(-log_c)
        e_b = gd * x_diag * torch.exp(log_c)
    else:
        upper = torch.ones(n_c, n_c, dtype=torch.bool, device=gd.device).triu()
        log_g = torch.log(gd)
    y = gd.new_zeros((gd.shape[0], n_c, n_r))
    lam_inv = None
    for i in range(n_r):
        if product_form:
            u = (e_a[:, i, :, None] * e_b[:, i, None, :]).triu_()
        else:
            a = log_g[:, i, :, None] - log_c[:, i, :, None]
            b = log_g[:, i, None, :] + log_c[:, i, None, :] + torch.log(x_diag[:, i, None, :])
            u = torch.exp((a + b).masked_fill_(~upper, -torch.inf))
        dxd = u + u.transpose(-1, -2)  # the diagonal twice: taken off below
        if lam_inv is not None:
            dxd.add_(lam_inv, alpha=gb * gb)
            y[:, :, :i] = gb * (lam_inv @ y[:, :, :i])
        lam = dxd.neg_()
        links = 1.0 if (i == 0 and n_r > 1) or n_r == 1 else 2.0
        lam.diagonal(dim1=-2, dim2=-1).add_(gd[:, i, :] + links * gb + u.diagonal(dim1=-2, dim2=-1))
        y[:, :, i] = h[:, i, :]
        lam_inv = torch.cholesky_inverse(torch.linalg.cholesky(lam))
    m = gb * (lam_inv @ y)  # (T, C, R): bit-line currents to ground per unit driver volt
    return m.transpose(-1, -2).reshape(*batch, n_r, n_c).to(out_dtype)
